"""Latent willingness and ability drive the observable tables with the intended signs."""

from __future__ import annotations

import polars as pl
import pytest
from scipy.stats import spearmanr

from sanhua.demo import DemoSettings

ENGAGED = ["right_party", "promise", "refuse", "dispute", "complaint"]


@pytest.fixture(scope="module")
def loans(demo) -> pl.DataFrame:
    """History loans with their latent values."""
    return demo.history["loans"].join(demo.latent, on="loan_id")


def _rho(frame: pl.DataFrame, x: str, y: str) -> float:
    clean = frame.select(x, y).drop_nulls()
    return float(spearmanr(clean[x], clean[y]).statistic)


def test_willingness_raises_right_party_contact(demo, loans):
    voice = demo.history["collection_events"].filter(pl.col("channel").is_in(["phone", "ai_voice", "visit"]))
    rate = voice.group_by("loan_id").agg(pl.col("outcome").is_in(ENGAGED).mean().alias("rpc"))
    assert _rho(loans.join(rate, on="loan_id"), "willingness", "rpc") > 0.3


def test_willingness_lowers_refusals_disputes_complaints(demo, loans):
    engaged = demo.history["collection_events"].filter(pl.col("outcome").is_in(ENGAGED))
    share = engaged.group_by("loan_id").agg(pl.col("outcome").is_in(["dispute", "complaint", "refuse"]).mean().alias("hostile"))
    assert _rho(loans.join(share, on="loan_id"), "willingness", "hostile") < -0.2


def test_willingness_raises_promises_kept(demo, loans):
    events = demo.history["collection_events"].sort("loan_id", "timestamp")
    promises = events.filter(pl.col("outcome") == "promise").select("loan_id", "timestamp")
    paid = events.filter(pl.col("outcome") == "paid").select("loan_id", pl.col("timestamp").alias("paid_at"))
    kept = (
        promises.join_asof(
            paid.sort("paid_at"), left_on="timestamp", right_on="paid_at", by="loan_id", strategy="forward", check_sortedness=False
        )
        .with_columns(((pl.col("paid_at") - pl.col("timestamp")).dt.total_days() <= 30).fill_null(False).alias("kept"))
        .group_by("loan_id")
        .agg(pl.col("kept").mean())
    )
    assert _rho(loans.join(kept, on="loan_id"), "willingness", "kept") > 0.2


def test_willingness_regularises_instalments(demo, loans):
    instalments = demo.history["repayments"].filter(pl.col("kind") == "instalment")
    spread = instalments.group_by("loan_id").agg(pl.col("date").dt.day().std().alias("day_spread"), pl.len().alias("n"))
    frame = loans.join(spread.filter(pl.col("n") >= 6), on="loan_id")
    assert _rho(frame, "willingness", "day_spread") < -0.1


def test_willingness_raises_voluntary_payments(demo, loans):
    voluntary = demo.history["outcomes"].filter(pl.col("kind").is_in(["voluntary", "settlement"]))
    cash = voluntary.group_by("loan_id").agg(pl.col("amount").sum().alias("cash"))
    frame = loans.filter(pl.col("as_of_date") == pl.col("default_date")).join(cash, on="loan_id", how="left")
    frame = frame.with_columns((pl.col("cash").fill_null(0) / pl.col("exposure_at_default")).alias("share"))
    assert _rho(frame, "willingness", "share") > 0.3


def test_ability_drives_income_and_external_data(demo, loans):
    borrowers = demo.history["borrowers"].join(
        loans.group_by("borrower_id").agg(pl.col("ability").first(), pl.col("ability_at_as_of").first(), pl.col("willingness").first()),
        on="borrower_id",
    )
    assert _rho(borrowers, "ability", "income_annual") > 0.3

    external = (
        demo.history["external"]
        .pivot(on="field", index="borrower_id", values="value", aggregate_function="first")
        .join(borrowers.select("borrower_id", "ability", "ability_at_as_of"), on="borrower_id")
        .with_columns(
            pl.col("consumption_index", "court_enforcement_count", "social_insurance_base").cast(pl.Float64),
            (pl.col("social_insurance_status") == "active").cast(pl.Float64).alias("insured"),
            (pl.col("dishonest_debtor") == "true").cast(pl.Float64).alias("dishonest"),
        )
    )
    assert _rho(external, "ability_at_as_of", "consumption_index") > 0.5
    assert _rho(external, "ability_at_as_of", "insured") > 0.2
    assert _rho(external, "ability", "social_insurance_base") > 0.2
    assert _rho(external, "ability", "court_enforcement_count") < -0.15
    assert _rho(external, "ability", "dishonest") < -0.1


def test_ability_raises_amount_paid(demo, loans):
    cash = demo.history["outcomes"].group_by("loan_id").agg(pl.col("amount").sum().alias("cash"))
    frame = loans.filter(pl.col("as_of_date") == pl.col("default_date")).join(cash, on="loan_id", how="left")
    frame = frame.with_columns((pl.col("cash").fill_null(0) / pl.col("exposure_at_default")).alias("share"))
    assert _rho(frame, "ability", "share") > 0.3


def test_hardship_lowers_ability_keeps_willingness(demo, loans):
    in_hardship = loans.filter(pl.col("ability_at_as_of") < pl.col("ability"))
    others = loans.filter(~pl.col("hardship"))
    assert in_hardship.height > 500
    assert in_hardship["hardship"].all()
    assert in_hardship["ability_at_as_of"].mean() < 0.5 * others["ability"].mean()
    assert in_hardship["willingness"].mean() > others["willingness"].mean()

    declared = demo.history["external"].filter(
        (pl.col("field") == "hardship_event") & (pl.col("value") != "none")
    )["borrower_id"]
    share = in_hardship["borrower_id"].is_in(declared.implode()).mean()
    assert 0.6 < share < 0.9, "most, not all, debtors in hardship declared it"


def test_region_bias_lowers_recovery_not_latents(demo, loans):
    slow = list(DemoSettings().region_bias)
    cash = demo.history["outcomes"].group_by("loan_id").agg(pl.col("amount").sum().alias("cash"))
    frame = loans.filter(
        (pl.col("as_of_date") == pl.col("default_date")) & pl.col("collateral").is_in(["none", "guarantee"])
    ).join(cash, on="loan_id", how="left")
    in_slow = frame.filter(pl.col("region").is_in(slow))
    rest = frame.filter(~pl.col("region").is_in(slow))
    assert in_slow.height > 200
    assert abs(in_slow["willingness"].mean() - rest["willingness"].mean()) < 0.03
    assert abs(in_slow["ability"].mean() - rest["ability"].mean()) < 0.03
    slow_rate = in_slow["cash"].fill_null(0).sum() / in_slow["exposure_at_default"].sum()
    rest_rate = rest["cash"].fill_null(0).sum() / rest["exposure_at_default"].sum()
    assert slow_rate < 0.9 * rest_rate


def test_elderly_are_vulnerable(demo, loans):
    ages = demo.history["borrowers"].select("borrower_id", "age")
    frame = loans.join(ages, on="borrower_id")
    assert frame.filter(pl.col("age") >= 70)["vulnerable"].all()
    assert 0.01 < frame["vulnerable"].mean() < 0.1


def test_latent_file_has_no_personal_data(demo):
    assert "borrower_id" not in demo.latent.columns
    assert set(demo.latent["book"].unique()) == {"history", "tape"}
    assert demo.latent["willingness"].is_between(0, 1).all()
    assert demo.latent["ability"].is_between(0, 1).all()
