"""End-to-end: `sanhua demo`, its outputs and the run catalogue commands."""

from __future__ import annotations

import json

import polars as pl
import pytest
from scipy.stats import spearmanr

from sanhua.tape.schema import OUTPUT_COLUMNS

from .conftest import invoke

pytestmark = pytest.mark.slow


def test_demo_writes_every_output(demo_run):
    out, _ = demo_run
    run_dir = out / "run"
    for name in ("loans.parquet", "quarantine.csv", "run.json", "report.html"):
        assert (run_dir / name).is_file(), name
    for table in ("loans", "borrowers", "repayments", "collection_events", "contacts", "external", "outcomes"):
        assert list((out / "data" / "history").glob(f"{table}.*")), table


def test_demo_output_columns_and_ranges(demo_run):
    out, _ = demo_run
    loans = pl.read_parquet(out / "run" / "loans.parquet")
    assert list(loans.columns[: len(OUTPUT_COLUMNS)]) == list(OUTPUT_COLUMNS)
    assert loans["loan_id"].is_unique().all()
    assert loans["willingness"].is_between(0, 1).all()
    assert loans["ability"].is_between(0, 1).all()
    assert set(loans["category"].unique()) <= {"A", "B", "C"}
    assert (loans["expected_recovery"] >= 0).all()
    assert (loans["expected_recovery_pv"] <= loans["expected_recovery"] + 1e-6).all()
    assert loans["action"].null_count() == 0


def test_demo_counts_are_conserved(demo_run):
    out, _ = demo_run
    record = json.loads((out / "run" / "run.json").read_text(encoding="utf-8"))
    counts = record["counts"]
    assert counts["input_rows"] == counts["scored"] + counts["quarantined"] + counts["excluded"]
    loans = pl.read_parquet(out / "run" / "loans.parquet")
    assert loans.height == counts["scored"]


def test_demo_scores_rank_latent_values(demo_run):
    out, _ = demo_run
    loans = pl.read_parquet(out / "run" / "loans.parquet")
    # The generator's long-run latent values of each debtor, in [0, 1].
    latent = pl.read_parquet(out / "data" / "latent.parquet").select(
        "loan_id", pl.col("willingness").alias("willingness_latent"), pl.col("ability").alias("ability_latent")
    )
    joined = loans.join(latent, on="loan_id", how="inner")
    assert joined.height == loans.height
    assert spearmanr(joined["willingness"], joined["willingness_latent"]).statistic >= 0.5
    assert spearmanr(joined["ability"], joined["ability_latent"]).statistic >= 0.5


def test_demo_uses_empirical_curve(demo_run):
    out, _ = demo_run
    record = json.loads((out / "run" / "run.json").read_text(encoding="utf-8"))
    assert record["model"]["version"]
    assert record["inputs"] and all(item["sha256"] for item in record["inputs"])
    curve = {a["name"]: a["value"] for a in record["assumptions"] if a["name"].startswith("curve.")}
    # The demo history has monthly recoveries, so the timing comes from the data, not from settings.
    assert "chain ladder" in curve["curve.method"]
    assert "curve.lifetime_recovery_rate" not in curve


def test_runs_list_and_show(demo_run):
    out, _ = demo_run
    record = json.loads((out / "run" / "run.json").read_text(encoding="utf-8"))
    listed = invoke(["runs", "list"])
    assert listed.exit_code == 0
    assert record["run_id"][:8] in listed.stdout
    shown = invoke(["runs", "show", record["run_id"][:18]])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["run_id"] == record["run_id"]


def test_runs_show_unknown_id_fails(demo_run):
    result = invoke(["runs", "show", "no-such-run"])
    assert result.exit_code == 2
    assert "no-such-run" in result.stderr


def test_explain_prints_record(demo_run, tmp_path):
    out, _ = demo_run
    loan_id = pl.read_parquet(out / "run" / "loans.parquet")["loan_id"][0]
    result = invoke(["explain", out / "run", loan_id, "--lang", "en", "--out", tmp_path / "explain.json"])
    assert result.exit_code == 0, result.stderr
    assert loan_id in result.stdout
    assert "manual review" in result.stdout
    record = json.loads((tmp_path / "explain.json").read_text(encoding="utf-8"))
    assert record["loan_id"] == loan_id
    assert len(record["reasons"]["en"]) == 3


def test_explain_unknown_loan_fails(demo_run):
    out, _ = demo_run
    result = invoke(["explain", out / "run", "NO-SUCH-LOAN"])
    assert result.exit_code == 2
    assert "NO-SUCH-LOAN" in result.stderr


def test_run_with_history_registers_model(demo_run, tmp_path):
    out, _ = demo_run
    result = invoke(["run", out / "data" / "tape", "--history", out / "data" / "history", "--profile", "cn-bank", "--out", tmp_path / "run"])
    assert result.exit_code == 0, result.stderr
    bundle = json.loads((tmp_path / "run" / "model" / "bundle.json").read_text(encoding="utf-8"))
    listed = invoke(["models", "list"])
    assert listed.exit_code == 0
    assert bundle["version"] in listed.stdout


def test_demo_valuation_and_disclosure(demo_run):
    out, _ = demo_run
    run_dir = out / "run"
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    valuation = record["valuation"]
    assert valuation["packages"], valuation["eligibility"]
    for name in valuation["files"]:
        assert (run_dir / name).is_file(), name
    summary = pl.read_csv(run_dir / "disclosure" / "package_summary.csv")
    assert "资产包编号" in summary.columns
    assert "借款人户数" in summary.columns
    assert summary.height == len(valuation["packages"])
    for item in valuation["k_anonymity"]:
        assert item["min_debtors_per_class"] >= valuation["k"]
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="zh-CN-valuation"' in html
    assert 'href="disclosure/package_summary.xlsx"' in html


def test_demo_backtest_against_generator(demo_run):
    out, _ = demo_run
    record = json.loads((out / "run" / "run.json").read_text(encoding="utf-8"))
    backtest = record["backtest"]
    assert backtest["realised_source"] == "given"
    assert backtest["metrics"]["spearman"]["model"] > 0.5
    assert backtest["by_group"]["groups"]


def test_demo_proposes_abs_on_restructured_pool(demo_run):
    out, _ = demo_run
    run_dir = out / "run"
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    proposal = record["abs"]
    assert proposal["status"] == "proposed"
    loans = pl.read_parquet(run_dir / "loans.parquet")
    assert proposal["loans"] == loans.filter(pl.col("action") == "restructure").height
    assert 0 < proposal["senior_share"] < 1
    assert proposal["senior_balance"] + proposal["subordinated_balance"] == pytest.approx(proposal["issue_balance"], rel=1e-9)
    assert (run_dir / proposal["report"]).is_file()
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert f'href="{proposal["report"]}"' in html


def test_demo_plan_respects_capacity_and_policy(demo_run):
    out, _ = demo_run
    run_dir = out / "run"
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    plan = record["plan"]
    loans = pl.read_parquet(run_dir / "loans.parquet")
    planned = pl.read_parquet(run_dir / "plan.parquet")

    assert plan["gap"] <= 0.001
    assert sum(item["loans"] for item in plan["by_action"]) == loans.height
    for item in plan["capacity"]:
        if item["monthly_capacity"] is not None:
            assert item["used_per_month"] <= item["monthly_capacity"] * (1 + 1e-9), item["resource"]
    litigated = planned.filter(pl.col("action") == "litigate")
    assert litigated.filter(pl.col("vulnerable")).height == 0
    assert litigated.filter(pl.col("hardship")).height == 0
    assert loans.join(planned.select("loan_id", pl.col("action").alias("planned")), on="loan_id").filter(
        pl.col("action").cast(pl.Utf8) != pl.col("planned").cast(pl.Utf8)
    ).height == 0


def test_demo_relief_offers_for_hardship(demo_run):
    out, _ = demo_run
    run_dir = out / "run"
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    offers = pl.read_csv(run_dir / "relief_offers.csv")
    assert offers.height == record["hardship"]["loans"] > 0
    assert offers["notice_zh"].str.contains("纾困方案").all()
    assert offers["apr"].is_between(0, 0.24).all()


def test_plan_what_if_lowers_npv_under_tighter_capacity(demo_run, tmp_path):
    import shutil

    out, _ = demo_run
    run_dir = tmp_path / "run"
    shutil.copytree(out / "run", run_dir)
    result = invoke(["plan", run_dir, "--capacity", "litigation=50000", "--capacity", "officers=2"])
    assert result.exit_code == 0, result.stderr
    tight = json.loads((run_dir / "plan" / "plan.json").read_text(encoding="utf-8"))
    full = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["plan"]
    assert tight["objective_cny"] <= full["objective_cny"] + 1e-6
    assert tight["monthly_capacity"]["litigation"] == 50000


def test_demo_curves_by_segment_with_bands(demo_run):
    out, _ = demo_run
    record = json.loads((out / "run" / "run.json").read_text(encoding="utf-8"))
    valuation = record["valuation"]
    segments = valuation["curve_segments"]

    assert {item["segment"] for item in segments} > {"all"}
    assert {item["reason"] for item in segments} <= {"own", "sparse"} | {item["reason"] for item in segments if item["reason"].startswith("fit_failed")}
    bands = pl.DataFrame(valuation["curve_bands"])
    # The saved model keeps the bands: a model loaded from its folder shows an interval, not a line.
    assert (bands["cumulative_high"] - bands["cumulative_low"]).max() > 0.01
    assert (bands["cumulative_low"] <= bands["cumulative"]).all()
    assert (bands["cumulative"] <= bands["cumulative_high"]).all()
    assert bands["cumulative"].is_sorted()


def test_mitigation_replans_under_capacity(demo_run, tmp_path):
    # A parity limit of 0.99 makes some region fail, so the threshold mitigation moves loans. The adjusted
    # categories are planned under capacity like the audited plan: the "after" value is the plan's own.
    out, _ = demo_run
    config = tmp_path / "fair.toml"
    config.write_text('[fairness]\nmitigation = "threshold"\nparity_ratio_min = 0.99\n', encoding="utf-8")
    run_dir = tmp_path / "run"
    result = invoke(["run", out / "data" / "tape", "--profile", "cn-bank", "--model", out / "model", "--out", run_dir, "--config", config])
    assert result.exit_code == 0, result.stderr

    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    mitigation = record["fairness"]["mitigation"]
    assert mitigation["applied"]
    assert mitigation["loans_changed_category"] > 0
    assert mitigation["action_value_after"] == pytest.approx(record["plan"]["objective_cny"], rel=1e-9)
    loans = pl.read_parquet(run_dir / "loans.parquet")
    planned = pl.read_parquet(run_dir / "plan.parquet")
    joined = loans.join(planned.select("loan_id", pl.col("action").alias("planned")), on="loan_id")
    assert (joined["action"].cast(pl.Utf8) == joined["planned"].cast(pl.Utf8)).all()
