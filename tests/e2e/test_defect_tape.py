"""End-to-end: a cn-bank tape with one row of every defect, as GB18030 CSV and as .xlsx.

Good rows are scored, each bad row is in quarantine.csv with its reason code,
and input rows = scored + quarantined + excluded.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from fixtures.defect_tape import build_defect_tape

from .conftest import invoke

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_defect_tape_end_to_end(demo_run, tmp_path, fmt):
    out, _ = demo_run
    expected = build_defect_tape(tmp_path / "tape", fmt=fmt, encoding="gb18030")

    run_dir = tmp_path / "run"
    result = invoke(["run", expected["path"], "--profile", "cn-bank", "--model", out / "model", "--out", run_dir])
    assert result.exit_code == 0, result.stderr

    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    counts = record["counts"]
    assert counts["input_rows"] == expected["input_rows"]
    assert counts["scored"] == expected["loaded"]
    assert counts["quarantined"] == expected["quarantined"]
    assert counts["excluded"] == sum(expected["excluded"].values())
    assert counts["input_rows"] == counts["scored"] + counts["quarantined"] + counts["excluded"]
    assert counts["excluded_by_reason"] == expected["excluded"]

    loans = pl.read_parquet(run_dir / "loans.parquet")
    assert sorted(loans["loan_id"].to_list()) == expected["loaded_ids"]
    assert loans["willingness"].is_not_null().all()
    assert loans["action"].is_not_null().all()

    quarantine = pl.read_csv(run_dir / "quarantine.csv", infer_schema_length=0)
    # In a single-file tape a failing borrower column quarantines the loan row too, so count rows of the file.
    per_row = quarantine.unique(subset=["file", "row"], keep="first")
    assert per_row.height == expected["quarantined"]
    reasons = dict(per_row.group_by("reason").len().iter_rows())
    assert reasons == expected["reasons"]
    assert record["counts"]["quarantined_by_reason"] == expected["reasons"]
    assert record["flags"].get("invalid_phone") == 1
    assert record["flags"].get("invalid_card") == 1


def test_csv_and_xlsx_give_the_same_scores(demo_run, tmp_path):
    out, _ = demo_run
    frames = []
    for fmt in ("csv", "xlsx"):
        expected = build_defect_tape(tmp_path / fmt, fmt=fmt, encoding="gb18030")
        run_dir = tmp_path / f"run-{fmt}"
        result = invoke(["run", expected["path"], "--profile", "cn-bank", "--model", out / "model", "--out", run_dir])
        assert result.exit_code == 0, result.stderr
        frames.append(pl.read_parquet(run_dir / "loans.parquet").sort("loan_id"))
    assert frames[0].equals(frames[1])
