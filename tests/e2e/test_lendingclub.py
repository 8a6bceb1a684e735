"""End-to-end on real data: LendingClub fit on loans issued before 2010, run on the 2010 loans.

The bar: the model beats the naive baseline (exposure-weighted recovery rate
by grade on the history) on Spearman and AUC, is at most 1 % worse on RMSE,
and predicts the 2010 realised total within 10 %.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from .conftest import LENDINGCLUB, invoke, needs_lendingclub

pytestmark = [pytest.mark.slow, pytest.mark.realdata, needs_lendingclub]


# Outcome columns of the public file (data README); a model of the state at default never reads them.
OUTCOME_PREFIXES = ("recoveries", "collection_recovery_fee", "total_pymnt", "total_pymnt_inv", "last_credit_pull_d", "settlement_", "debt_settlement_")


@pytest.fixture(scope="module")
def lendingclub_run(session_env, tmp_path_factory):
    base = tmp_path_factory.mktemp("lendingclub")
    fitted = invoke(["fit", LENDINGCLUB, "--profile", "lendingclub", "--where", "issue_d < '2010-01-01'", "--out", base / "model"])
    assert fitted.exit_code == 0, fitted.stderr
    result = invoke(["run", LENDINGCLUB, "--profile", "lendingclub", "--where", "issue_d >= '2010-01-01'", "--model", base / "model", "--out", base / "run", "--lang", "en"])
    assert result.exit_code == 0, result.stderr
    return base / "run"


def test_counts_match_the_file(lendingclub_run):
    record = json.loads((lendingclub_run / "run.json").read_text(encoding="utf-8"))
    counts = record["counts"]
    # 20,814 rows in the file; 1,757 charged-off loans were issued in 2010 (data README and a DuckDB count).
    assert counts["input_rows"] == 20_814
    assert counts["scored"] + counts["quarantined"] == 1_757
    assert counts["input_rows"] == counts["scored"] + counts["quarantined"] + counts["excluded"]


def test_loan_ids_are_row_numbers(lendingclub_run):
    loans = pl.read_parquet(lendingclub_run / "loans.parquet")
    assert loans["loan_id"].str.starts_with("row-").all()
    assert loans["currency"].unique().to_list() == ["USD"]


def test_backtest_meets_the_bar(lendingclub_run):
    record = json.loads((lendingclub_run / "run.json").read_text(encoding="utf-8"))
    backtest = record["backtest"]
    assert backtest is not None
    metrics = backtest["metrics"]
    assert metrics["spearman"]["model"] > metrics["spearman"]["baseline"]
    assert metrics["auc_above_median"]["model"] > metrics["auc_above_median"]["baseline"]
    assert metrics["rmse"]["model"] <= 1.01 * metrics["rmse"]["baseline"]
    assert abs(backtest["total"]["ratio"] - 1) <= 0.10
    assert all(backtest["passes"].values())
    assert metrics["rmse"]["model_ci"][0] <= metrics["rmse"]["model"] <= metrics["rmse"]["model_ci"][1]


def test_configured_curve_is_an_assumption(lendingclub_run):
    record = json.loads((lendingclub_run / "run.json").read_text(encoding="utf-8"))
    tags = {a["name"]: a.get("tag") for a in record["assumptions"]}
    assert any("curve" in name for name in tags), sorted(tags)


def test_permuted_outcome_columns_leave_scores_unchanged(lendingclub_run, tmp_path):
    frame = pl.read_csv(LENDINGCLUB, infer_schema_length=0)
    outcome_columns = [c for c in frame.columns if c.startswith(OUTCOME_PREFIXES)]
    assert len(outcome_columns) >= 10
    permuted = frame.with_columns([pl.col(c).shuffle(seed=i) for i, c in enumerate(outcome_columns)])
    path = tmp_path / "permuted.csv"
    permuted.write_csv(path)

    model = lendingclub_run.parent / "model"
    result = invoke(["run", path, "--profile", "lendingclub", "--where", "issue_d >= '2010-01-01'", "--model", model, "--out", tmp_path / "run"])
    assert result.exit_code == 0, result.stderr

    columns = ["loan_id", "willingness", "ability", "category", "expected_recovery", "expected_recovery_pv", "action", "action_value", "reasons_en"]
    before = pl.read_parquet(lendingclub_run / "loans.parquet").select(columns).sort("loan_id")
    after = pl.read_parquet(tmp_path / "run" / "loans.parquet").select(columns).sort("loan_id")
    assert before.equals(after)


def test_backtest_by_issue_quarter_and_grade(lendingclub_run):
    # Charged-off 2010 loans grouped by issue quarter (4) and grade (A-G): at most 28 groups.
    record = json.loads((lendingclub_run / "run.json").read_text(encoding="utf-8"))
    by_group = record["backtest"]["by_group"]
    assert by_group["by"] == "origination quarter / grade"
    assert 20 <= len(by_group["groups"]) <= 28
    assert {g["group"][:6] for g in by_group["groups"]} <= {"2010Q1", "2010Q2", "2010Q3", "2010Q4"}
    realised = sum(g["realised"] for g in by_group["groups"])
    assert realised == pytest.approx(record["backtest"]["total"]["realised"], rel=1e-9)
    assert 0 < by_group["wape"] < 0.5


def test_unsecured_loans_are_packaged_and_priced(lendingclub_run):
    record = json.loads((lendingclub_run / "run.json").read_text(encoding="utf-8"))
    valuation = record["valuation"]
    packages = valuation["packages"]
    assert packages, valuation["eligibility"]
    loans = pl.read_parquet(lendingclub_run / "loans.parquet")
    packaged = loans.filter(pl.col("package_id").is_not_null())
    # Conservation: every packaged loan is in exactly one package, and the package sizes add up.
    assert sum(p["loans"] for p in packages) == packaged.height
    for package in packages:
        assert package["p5"] <= package["p50"] <= package["p95"]
        assert package["decision"] in ("sell", "hold")
    assert (lendingclub_run / "disclosure" / "package_summary.xlsx").is_file()


def test_model_of_another_profile_refused(demo_run, tmp_path):
    out, _ = demo_run
    result = invoke(
        ["run", LENDINGCLUB, "--profile", "lendingclub", "--where", "issue_d >= '2010-01-01'", "--model", out / "model", "--out", tmp_path / "run", "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "fit on profile 'cn-bank'" in result.stderr
    assert "--profile lendingclub" in result.stderr
