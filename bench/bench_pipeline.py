"""Throughput and peak memory of ingest + validate + pseudonymise + score + segment.

Generates cn-bank loan tapes (loan and borrower columns in one file, every
personal column filled, 1 % of rows broken) as GBK CSV and as Parquet, fits
the models once on the demo history, then measures each tape in a fresh
process so that peak memory (ru_maxrss) belongs to that tape alone.

Usage::

    python bench/bench_pipeline.py                      # 1,000,000 loans, CSV and Parquet
    python bench/bench_pipeline.py --chunked 10000000   # plus a 10,000,000-loan tape in chunks
    python bench/bench_pipeline.py --sizes 100000       # a quick check
    python bench/bench_pipeline.py --sizes --chunked 10000000   # only the chunked run

Figures go to stdout as a Markdown table and to bench/output/results.json;
docs/benchmarks.md records them with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUTPUT = ROOT / "output"
KEY = "bench-key-not-secret"


def _peak_rss_gib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _load_average() -> float:
    """Return the 1-minute load average: other work on the machine slows every figure."""
    return round(os.getloadavg()[0], 2)


def _machine() -> dict:
    import lightgbm
    import polars

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "polars": polars.__version__,
        "lightgbm": lightgbm.__version__,
    }


def measure(tape: Path, model: Path, chunked: bool, chunk_rows: int) -> dict:
    """Run the measured stages on one tape in this process and return the figures."""
    import polars as pl

    from sanhua.assess import Assessor
    from sanhua.config import Settings
    from sanhua.features import build_features
    from sanhua.segment import Segmenter
    from sanhua.tape.load import iter_loan_chunks, load_tape
    from sanhua.tape.privacy import Pseudonymiser
    from sanhua.tape.profile import load_profile

    settings = Settings()
    profile = load_profile("cn-bank")
    assessor = Assessor.load(model)
    pseudonymiser = Pseudonymiser.from_environment()
    stages = {"ingest_validate_pseudonymise": 0.0, "features": 0.0, "score": 0.0, "segment": 0.0}
    counts = {"input_rows": 0, "scored": 0, "quarantined": 0, "excluded": 0}

    def score(tape_obj) -> None:
        t = time.perf_counter()
        features = build_features(tape_obj)
        stages["features"] += time.perf_counter() - t

        t = time.perf_counter()
        scores = assessor.predict(features)
        stages["score"] += time.perf_counter() - t

        t = time.perf_counter()
        frame = scores.join(features.flags, on="loan_id", how="left")
        Segmenter(settings.segment).run(frame)
        stages["segment"] += time.perf_counter() - t

        loans_counts = tape_obj.counts["loans"]
        counts["input_rows"] += loans_counts["input_rows"]
        counts["scored"] += tape_obj.loans.height
        counts["quarantined"] += loans_counts["quarantined"]
        counts["excluded"] += sum(loans_counts["excluded"].values())

    load_start = _load_average()
    cpu_start = _cpu_seconds()
    started = time.perf_counter()
    if chunked:
        t = time.perf_counter()
        for chunk in iter_loan_chunks(tape, profile, pseudonymiser=pseudonymiser, chunk_rows=chunk_rows):
            stages["ingest_validate_pseudonymise"] += time.perf_counter() - t
            score(chunk)
            t = time.perf_counter()
    else:
        t = time.perf_counter()
        tape_obj = load_tape(tape, profile, pseudonymiser=pseudonymiser)
        stages["ingest_validate_pseudonymise"] += time.perf_counter() - t
        score(tape_obj)
    total = time.perf_counter() - started

    return {
        "tape": tape.name,
        "bytes": tape.stat().st_size,
        "chunked": chunked,
        "seconds": round(total, 2),
        "loans_per_second": round(counts["input_rows"] / total),
        "peak_rss_gib": round(_peak_rss_gib(), 2),
        # CPU time of this process and of the hashing helpers it started: less
        # sensitive than wall time to other work on a shared machine.
        "cpu_seconds": round(_cpu_seconds() - cpu_start, 1),
        "load_average": [load_start, _load_average()],
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "counts": counts,
        "polars_threads": pl.thread_pool_size(),
    }


def _child(tape: Path, model: Path, chunked: bool, chunk_rows: int) -> dict:
    env = {**os.environ, "SANHUA_PSEUDONYM_KEY": KEY}
    cmd = [sys.executable, __file__, "measure", str(tape), str(model), "--chunk-rows", str(chunk_rows)]
    if chunked:
        cmd.append("--chunked")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measurement of {tape} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    m = sub.add_parser("measure", help="(internal) measure one tape in this process")
    m.add_argument("tape", type=Path)
    m.add_argument("model", type=Path)
    m.add_argument("--chunked", action="store_true")
    m.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[1_000_000], help="Tape sizes in loans; give none to run only --chunked."
    )
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"], choices=["csv", "parquet"])
    parser.add_argument("--chunked", type=int, default=0, help="Also process a tape of this many loans in chunks (e.g. 10000000).")
    parser.add_argument("--chunk-rows", type=int, default=500_000, help="Rows per chunk for the chunked run.")
    parser.add_argument("--broken-share", type=float, default=0.01, help="Share of rows with one defect each.")
    args = parser.parse_args()

    if args.command == "measure":
        os.environ.setdefault("SANHUA_PSEUDONYM_KEY", KEY)
        print(json.dumps(measure(args.tape, args.model, args.chunked, args.chunk_rows)))
        return

    from sanhua import pipeline
    from sanhua.config import Settings
    from sanhua.demo import DemoSettings, write_demo, write_loan_tape

    os.environ.setdefault("SANHUA_PSEUDONYM_KEY", KEY)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    model = OUTPUT / "model"
    if not (model / "bundle.json").is_file():
        paths = write_demo(OUTPUT / "demo", DemoSettings())
        pipeline.fit(paths.history, "cn-bank", out=model, settings=Settings())

    results = []
    jobs = [(n, fmt, False) for n in args.sizes for fmt in args.formats]
    if args.chunked:
        jobs.append((args.chunked, "csv", True))
    for n, fmt, chunked in jobs:
        suffix = "csv" if fmt == "csv" else "parquet"
        tape = OUTPUT / f"loans_{n}.{suffix}"
        if not tape.is_file():
            t = time.perf_counter()
            write_loan_tape(tape, n, seed=20261204, broken_share=args.broken_share, fmt=fmt, encoding="gbk")
            print(f"generated {tape.name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        result = _child(tape, model, chunked, args.chunk_rows)
        result["format"] = "GBK CSV" if fmt == "csv" else "Parquet"
        results.append(result)
        print(json.dumps(result), file=sys.stderr)

    machine = _machine()
    (OUTPUT / "results.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2), encoding="utf-8")
    print(f"machine: {machine['cpus']} CPUs ({machine['cpu']}), Python {machine['python']}, polars {machine['polars']}, lightgbm {machine['lightgbm']}")
    print(
        "| loans | format | chunked | seconds | loans/s | peak RSS (GiB) | ingest+validate+pseudonymise s | features s | score s "
        "| segment s | CPU s | load avg start/end |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        s = r["stages"]
        chunked = f"yes ({args.chunk_rows:,} rows)" if r["chunked"] else "no"
        print(
            f"| {r['counts']['input_rows']:,} | {r['format']} | {chunked} | {r['seconds']} | {r['loans_per_second']:,} | "
            f"{r['peak_rss_gib']} | {s['ingest_validate_pseudonymise']} | {s['features']} | {s['score']} | {s['segment']} | "
            f"{r['cpu_seconds']} | {r['load_average'][0]} / {r['load_average'][1]} |"
        )


if __name__ == "__main__":
    main()
