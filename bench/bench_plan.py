"""Solve time, memory and optimality gap of the capacity plan on 10,000 to 1,000,000 loans.

Each size runs in a fresh process. The process draws a seeded synthetic
portfolio (willingness, ability, products, collateral, litigation status,
hardship, vulnerability, income), values the 7 actions with
:class:`sanhua.strategy.ActionValuer`, and builds the assignment problem with
5 capacity constraints set to bind: each resource's capacity is a share of
what the unconstrained best actions would use (officers 40 %, mediation 50 %,
litigation 30 %, transfer 60 %, outsourcing 50 %). It then solves:

- the greedy baseline (best action per loan, then cut to capacity);
- the Lagrangian dual decomposition (timed; peak memory of the solve by tracemalloc);
- HiGHS on the LP relaxation at the sizes of ``--highs`` (timed), whose
  optimum is the exact LP bound.

Usage::

    python bench/bench_plan.py                          # 10,000, 100,000 and 1,000,000 loans; HiGHS at 10,000 and 100,000
    python bench/bench_plan.py --sizes 10000 --highs 10000   # a quick check

Figures go to stdout as a Markdown table and to bench/output/plan.json.
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
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUTPUT = ROOT / "output"
SHARES = {"officers": 0.4, "mediation": 0.5, "litigation": 0.3, "transfer": 0.6, "outsourcing": 0.5}


def _portfolio(n: int, seed: int):
    import numpy as np
    import polars as pl

    from sanhua.segment import Segmenter

    rng = np.random.default_rng(seed)
    principal = rng.lognormal(9.5, 0.8, n)
    interest = principal * rng.uniform(0, 0.4, n)
    rate = rng.beta(1, 8, n)
    income = rng.lognormal(11, 0.6, n)
    frame = pl.DataFrame(
        {
            "loan_id": pl.int_range(n, eager=True).cast(pl.Utf8),
            "currency": pl.repeat("CNY", n, eager=True),
            "product": rng.choice(["credit_card", "consumer_loan", "business_loan", "mortgage"], n),
            "principal_outstanding": principal,
            "interest_outstanding": interest,
            "exposure_at_default": principal + interest,
            "interest_rate": rng.uniform(0.04, 0.24, n),
            "income_annual": pl.Series(np.where(rng.random(n) < 0.3, np.nan, income)).fill_nan(None),
            "dpd": pl.Series(rng.integers(91, 1500, n), dtype=pl.Int32),
            "written_off": rng.random(n) < 0.3,
            "collateral": rng.choice(["none", "none", "none", "guarantee", "mortgage"], n),
            "litigation_status": rng.choice(["not_sued", "not_sued", "in_suit", "judged", "in_execution", "execution_ended_no_assets"], n),
            "notarised": rng.random(n) < 0.1,
            "willingness": rng.random(n),
            "ability": rng.random(n),
            "expected_recovery_rate": rate,
            "hardship": rng.random(n) < 0.15,
            "lost_contact": rng.random(n) < 0.1,
            "age": pl.Series(rng.integers(20, 85, n), dtype=pl.Int32),
        }
    )
    return Segmenter().run(frame)


def _worker(n: int, highs: bool, seed: int) -> dict:
    import numpy as np

    from sanhua.strategy import ActionValuer, StrategySettings
    from sanhua.strategy.optimize import AssignmentProblem, OptimiserSettings, PortfolioOptimiser
    from sanhua.strategy.plan import build_problem
    from sanhua.strategy.settings import RESOURCES, CapacitySettings
    from sanhua.value import RecoveryCurve

    unlimited = CapacitySettings(officers=None, mediation=None, litigation=None, transfer=None, outsourcing=None)
    started = time.perf_counter()
    valued = ActionValuer(StrategySettings(capacity=unlimited)).run(_portfolio(n, seed), RecoveryCurve.configured())
    free = build_problem(valued.values, valued.context, unlimited)
    value_seconds = time.perf_counter() - started

    best = np.argmax(free.value, axis=0)
    used = np.array([free.usage[r][best, np.arange(n)].sum() for r in range(len(RESOURCES))])
    capacity = used * np.array([SHARES[name] for name in RESOURCES])
    problem = AssignmentProblem(free.value, free.usage, capacity, free.actions, free.resources, free.loan_id)
    del valued, free

    greedy = PortfolioOptimiser(OptimiserSettings(solver="greedy")).run(problem)

    tracemalloc.start()
    started = time.perf_counter()
    dual = PortfolioOptimiser(OptimiserSettings(solver="lagrangian")).run(problem)
    dual_seconds = time.perf_counter() - started
    _, dual_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (dual.used <= capacity * (1 + 1e-9)).all(), "the Lagrangian plan exceeds a capacity"

    row = {
        "loans": n,
        "value_seconds": round(value_seconds, 2),
        "problem_mib": round((problem.value.nbytes + problem.usage.nbytes) / 2**20, 1),
        "greedy_npv": greedy.objective,
        "dual_npv": dual.objective,
        "dual_bound": dual.bound,
        "dual_gap": dual.gap,
        "dual_seconds": round(dual_seconds, 3),
        "dual_iterations": dual.iterations,
        "dual_peak_mib": round(dual_peak / 2**20, 1),
        "shadow_price": dict(zip(RESOURCES, dual.shadow_price.tolist())),
    }
    if highs:
        started = time.perf_counter()
        lp = PortfolioOptimiser(OptimiserSettings(solver="highs-lp", time_limit_s=3600)).run(problem)
        row.update(
            {
                "highs_lp_bound": lp.bound,
                "highs_lp_seconds": round(time.perf_counter() - started, 2),
                "highs_status": lp.status,
                "dual_vs_lp": (lp.bound - dual.objective) / abs(lp.bound),
            }
        )
    row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def _table(rows: list[dict]) -> str:
    lines = [
        "| loans | greedy NPV (CNY) | plan NPV (CNY) | gap to dual bound | gap to HiGHS LP | solve s | iterations | solve peak MiB | process peak MiB | HiGHS LP s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lp_gap = f"{r['dual_vs_lp']:.5%}" if "dual_vs_lp" in r else "—"
        lp_time = f"{r['highs_lp_seconds']:.1f}" if "highs_lp_seconds" in r else "—"
        lines.append(
            f"| {r['loans']:,} | {r['greedy_npv']:,.0f} | {r['dual_npv']:,.0f} | {r['dual_gap']:.5%} | {lp_gap} | {r['dual_seconds']:.2f} | "
            f"{r['dual_iterations']} | {r['dual_peak_mib']:,.0f} | {r['peak_rss_mib']:,.0f} | {lp_time} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--highs", type=int, nargs="*", default=[10_000, 100_000], help="Sizes at which HiGHS solves the LP too.")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker is not None:
        print(json.dumps(_worker(args.worker, args.worker in args.highs, args.seed)))
        return

    rows = []
    for n in args.sizes:
        command = [sys.executable, __file__, "--worker", str(n), "--seed", str(args.seed), "--highs", *map(str, args.highs)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{n:,} loans done", file=sys.stderr)

    record = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(), "load_1min": round(os.getloadavg()[0], 2)},
        "rows": rows,
    }
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "plan.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(_table(rows))


if __name__ == "__main__":
    main()
