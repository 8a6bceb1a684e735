"""Tests of packaging, disclosure, backtests and the Valuer entry point on a small demo portfolio."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sanhua.demo import DemoSettings, generate_portfolio
from sanhua.errors import InputDataError, PrivacyError
from sanhua.value.backtest import error_summary, lendingclub_packages, monthly_backtest, package_backtest
from sanhua.value.curves import RecoveryCurve
from sanhua.value.disclosure import CODE_LABELS_ZH, k_anonymise
from sanhua.value.segments import SegmentedCurves
from sanhua.value.settings import CurveModelSettings, MonteCarloSettings, PackagingSettings, PricingSettings, ValuationSettings
from sanhua.value.valuer import Valuer

SHARED = Path(os.environ.get("SANHUA_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
LENDINGCLUB = SHARED / "lendingclub" / "loans_issued_2007_2010.csv.gz"


@pytest.fixture(scope="module")
def demo():
    return generate_portfolio(DemoSettings(n_history_loans=3_000, n_tape_loans=2_000))


@pytest.fixture(scope="module")
def run(demo):
    history = demo.history
    curves = SegmentedCurves(CurveModelSettings(min_segment_loans=300)).fit(history["outcomes"], history["loans"])
    rng = np.random.default_rng(0)
    tape = demo.tape["loans"].with_columns(pl.Series("expected_recovery_rate", rng.uniform(0.05, 0.4, demo.tape["loans"].height)))
    tape = tape.join(demo.tape["borrowers"].select("borrower_id", "age"), on="borrower_id", how="left")
    settings = ValuationSettings(
        monte_carlo=MonteCarloSettings(n_scenarios=400),
        packaging=PackagingSettings(min_package_principal_cny=100_000.0),
        pricing=PricingSettings(hold_cost_rate=0.5),
    )
    result = Valuer(settings).run(tape, None, curves, tape["as_of_date"].max())
    return tape, result


def test_package_sums_equal_loan_sums(run):
    tape, result = run
    packaged = result.loans.filter(pl.col("package_id").is_not_null())
    principal = tape.join(packaged.select("loan_id"), on="loan_id")["principal_outstanding"].sum()

    assert result.packages["principal"].sum() == pytest.approx(principal)
    assert result.packages["loans"].sum() == packaged.height
    assert result.packages["expected_recovery"].sum() == pytest.approx(packaged["expected_recovery"].sum())
    assert packaged["transfer_price"].sum() == pytest.approx(result.packages["bid"].sum())
    assert result.package_cash_flows["cash"].sum() == pytest.approx(packaged["expected_recovery"].sum())
    assert result.disclosure_summary["principal"].sum() == pytest.approx(principal)


def test_packages_follow_transfer_rules(run):
    tape, result = run
    packaged = result.loans.filter(pl.col("package_id").is_not_null()).join(tape, on="loan_id")

    assert result.packages.height > 0
    assert packaged["product"].is_in(["credit_card", "consumer_loan", "business_loan"]).all()
    assert (packaged["collateral"].fill_null("none") == "none").all()
    assert (result.packages["debtors"] >= 10).all()
    assert (result.loans.filter(pl.col("eligibility") == "sale_below_hold")["package_id"].is_null()).all()
    assert set(result.packages["decision"].unique()) <= {"sell", "hold"}


def test_package_prices_are_ordered(run):
    _, result = run
    packages = result.packages

    assert (packages["p5"] <= packages["p50"]).all()
    assert (packages["p50"] <= packages["p95"]).all()
    # Bid at 15 % IRR is below the DCF value at 8 % of the same net cash.
    assert (packages["bid"] <= packages["dcf_value"]).all()


def test_loan_tables_are_k_anonymous(run):
    _, result = run
    tables = result.disclosure_loans
    quasi = [c for c in ("region", "age", "principal_outstanding", "dpd") if c in tables.columns]

    assert {"loan_id", "borrower_id", "debtor"}.isdisjoint(tables.columns)
    # Every combination covers >= 5 debtors (the report counts debtors, the table rows count loans, which is at least as many).
    assert (result.k_anonymity["min_debtors_per_class"] >= 5).all()
    assert tables.group_by("package_id", *quasi).len()["len"].min() >= 5


def test_k_anonymise_on_a_crafted_table():
    frame = pl.DataFrame(
        {
            "debtor": [f"d{i}" for i in range(12)],
            "region": ["北京市"] * 6 + ["上海市"] * 5 + ["广东省"],
            "age": [25, 26, 31, 33, 45, 52, 27, 29, 38, 41, 60, 35],
        }
    )
    result, levels, suppressed = k_anonymise(frame, ["region", "age"], 3, 0.2)

    assert result.group_by("region", "age").agg(pl.col("debtor").n_unique())["debtor"].min() >= 3
    assert suppressed <= 2
    assert levels["age"] >= 1
    with pytest.raises(PrivacyError, match="k_anonymity"):
        k_anonymise(frame.head(2), ["region", "age"], 5, 0.0)


def test_disclosure_files_have_chinese_headers(run, tmp_path):
    _, result = run
    paths = result.write(tmp_path)
    summary_csv = tmp_path / "disclosure" / "package_summary.csv"

    assert summary_csv in paths
    header = summary_csv.read_text(encoding="utf-8-sig").splitlines()[0]
    assert "资产包编号" in header
    assert "借款人户数" in header
    assert all(path.exists() for path in paths)
    assert any(path.suffix == ".xlsx" for path in paths)


def test_loan_table_codes_in_chinese(run):
    _, result = run
    tables = result.disclosure_loans
    labelled = [c for c in ("product", "five_tier", "collateral", "litigation_status") if c in tables.columns]

    assert labelled, "the demo's loan table should show coded columns"
    for name in labelled:
        values = set(tables[name].drop_nulls().unique().to_list())
        assert values <= set(CODE_LABELS_ZH[name].values()), (name, values)


def test_valuer_rejects_bad_input(demo):
    curve = RecoveryCurve.configured()
    tape = demo.tape["loans"]
    with pytest.raises(InputDataError, match="expected_recovery_rate"):
        Valuer().run(tape, None, curve, date(2025, 1, 1))
    with pytest.raises(InputDataError, match="fx_cny_per_unit"):
        Valuer().run(tape.with_columns(pl.lit("EUR").alias("currency"), pl.lit(0.1).alias("expected_recovery_rate")), None, curve, date(2025, 1, 1))


def test_hold_value_rises_with_lower_cost(demo):
    tape = demo.tape["loans"].head(300).with_columns(pl.lit(0.2).alias("expected_recovery_rate"))
    curve = RecoveryCurve.configured()
    settings = ValuationSettings(monte_carlo=MonteCarloSettings(n_scenarios=50))
    cheap = Valuer(settings.model_copy(update={"pricing": PricingSettings(hold_cost_rate=0.05)})).run(tape, None, curve, date(2025, 1, 1))
    dear = Valuer(settings.model_copy(update={"pricing": PricingSettings(hold_cost_rate=0.5)})).run(tape, None, curve, date(2025, 1, 1))

    assert cheap.loans["hold_value"].sum() > dear.loans["hold_value"].sum()
    assert any("configured" in note for note in cheap.notes)


def test_demo_monthly_backtest(demo):
    history = demo.history
    curve = RecoveryCurve(max_month=60).fit(history["outcomes"], history["loans"])
    latent = demo.latent.filter(pl.col("book") == "tape")
    tape = demo.tape["loans"].join(latent.select("loan_id", "months_since_default", "recovery_path"), on="loan_id")
    # Predicted level: the history's pooled recovery rate of the cash still to come (a naive model, not the assessor).
    level = float(curve.recovery_rate_by_month_["recovery_rate"][-1])
    gap = tape["months_since_default"].to_numpy()
    paths = np.vstack(tape["recovery_path"].to_numpy())
    horizon = 24
    realised = np.vstack([paths[i, g : g + horizon] for i, g in enumerate(gap)])
    from sanhua.value.cashflows import project_cash_flows

    expected = level * tape["exposure_at_default"].to_numpy()
    predicted = project_cash_flows(tape["loan_id"], expected, gap, curve.curve_["marginal"].to_numpy(), n_months=horizon).gross
    table = monthly_backtest(predicted, realised[:, :horizon])
    summary = error_summary(table)

    assert table.height == horizon
    assert np.isfinite(summary["wape"])
    assert summary["realised"] > 0


@pytest.mark.skipif(not LENDINGCLUB.is_file(), reason=f"LendingClub data not found at {LENDINGCLUB} (set SANHUA_SHARED_DATA)")
def test_lendingclub_package_backtest():
    frame = lendingclub_packages(LENDINGCLUB)
    # 83 charged-off loans recovered more than their exposure (data README).
    assert int(frame["capped"].sum()) == 83
    history = frame.filter(pl.col("issue_year") < 2010)
    rates = history.group_by("grade").agg((pl.col("realised_recovery").sum() / pl.col("exposure_at_default").sum()).alias("expected_recovery_rate"))
    test = frame.filter(pl.col("issue_year") == 2010).join(rates, on="grade", how="left").with_columns(pl.col("expected_recovery_rate").fill_null(0.0))
    table = package_backtest(test, ["issue_quarter", "grade"])
    summary = error_summary(table)

    assert table["loans"].sum() == test.height
    assert table["realised"].sum() == pytest.approx(test["realised_recovery"].sum())
    assert 0 < summary["wape"] < 1
