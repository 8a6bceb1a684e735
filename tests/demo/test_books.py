"""History and tape structure: cohorts, dates before the as-of date, codes, outcomes window."""

from __future__ import annotations

import polars as pl
import pytest

from sanhua.demo import DemoSettings
from sanhua.tape.schema import CODES, TABLES

SETTINGS = DemoSettings()


def _months_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    months = (end.dt.year() - start.dt.year()) * 12 + end.dt.month() - start.dt.month()
    return months - (end.dt.day() < start.dt.day()).cast(pl.Int32)


@pytest.mark.parametrize("book", ["history", "tape"])
def test_columns_and_codes_are_canonical(demo, book):
    for name, frame in getattr(demo, book).items():
        assert frame.columns == TABLES[name].names, name
        for column in TABLES[name].columns:
            assert frame[column.name].dtype == column.dtype, f"{name}.{column.name}"
            if column.code_list:
                values = set(frame[column.name].drop_nulls().unique().to_list())
                assert values <= set(CODES[column.code_list]), f"{name}.{column.name}: {values}"
            if column.required:
                assert frame[column.name].null_count() == 0, f"{name}.{column.name}"
            if column.minimum is not None:
                assert (frame[column.name].drop_nulls() >= column.minimum).all(), f"{name}.{column.name}"


def test_loan_ids_unique_across_books(demo):
    history = demo.history["loans"]["loan_id"]
    tape = demo.tape["loans"]["loan_id"]
    assert history.is_unique().all()
    assert tape.is_unique().all()
    assert not history.is_in(tape.implode()).any()
    assert demo.history["borrowers"]["borrower_id"].is_unique().all()


def test_at_least_24_cohorts_with_immature_ones(demo):
    loans = demo.history["loans"].with_columns(pl.col("default_date").dt.truncate("1mo").alias("cohort"))
    cohorts = loans["cohort"].unique().sort()
    assert cohorts.len() >= 24

    observed = loans.join(demo.history["outcomes"], on="loan_id").group_by("cohort").agg(pl.col("month").max())
    latest = cohorts.to_list()[-6:]
    immature = observed.filter(pl.col("cohort").is_in(latest))
    assert (immature["month"] < 12).all(), "the latest cohorts must be observed for less than a year"
    at_default = loans.filter(pl.col("as_of_date") == pl.col("default_date"))
    assert at_default.height > 0.3 * loans.height
    assert at_default["cohort"].n_unique() >= 24


def test_history_dates(demo):
    loans = demo.history["loans"]
    gap = loans.select(_months_between(pl.col("default_date"), pl.col("as_of_date"))).to_series()
    assert gap.is_between(0, SETTINGS.max_months_after_default).all()
    assert (loans["as_of_date"] <= SETTINGS.history_cutoff).all()
    assert (loans["as_of_date"].dt.day() == loans["default_date"].dt.day()).all()
    days = (loans["as_of_date"] - loans["default_date"]).dt.total_days()
    assert (loans["dpd"] == 90 + days).all()
    assert (loans["origination_date"] < loans["default_date"]).all()
    assert (loans["last_payment_date"] <= loans["as_of_date"]).all()


def test_tape_dates(demo):
    loans = demo.tape["loans"]
    assert (loans["as_of_date"] == SETTINGS.tape_cutoff).all()
    assert loans["dpd"].min() >= 91
    assert loans["dpd"].max() > 5 * 365
    days = (loans["as_of_date"] - loans["default_date"]).dt.total_days()
    assert (loans["dpd"] == 90 + days).all()
    assert "outcomes" not in demo.tape


@pytest.mark.parametrize("book", ["history", "tape"])
def test_events_before_as_of(demo, book):
    tables = getattr(demo, book)
    as_of = tables["loans"].select("loan_id", "as_of_date")
    repayments = tables["repayments"].join(as_of, on="loan_id")
    assert repayments.height == tables["repayments"].height
    assert (repayments["date"] <= repayments["as_of_date"]).all()
    events = tables["collection_events"].join(as_of, on="loan_id")
    assert (events["timestamp"].dt.date() < events["as_of_date"]).all()
    hours = events["timestamp"].dt.hour()
    assert hours.is_between(8, 21).all(), "no collection contact between 22:00 and 08:00"
    by_borrower = tables["loans"].group_by("borrower_id").agg(pl.col("as_of_date").first())
    external = tables["external"].join(by_borrower, on="borrower_id")
    assert (external["as_of_date"] <= external["as_of_date_right"]).all()


def test_outcomes_after_as_of_up_to_cutoff(demo):
    loans = demo.history["loans"].select("loan_id", "default_date", "as_of_date")
    outcomes = demo.history["outcomes"].join(loans, on="loan_id")
    assert outcomes.height == demo.history["outcomes"].height
    gap = _months_between(pl.col("default_date"), pl.col("as_of_date"))
    observable = _months_between(pl.col("default_date"), pl.lit(SETTINGS.history_cutoff))
    checked = outcomes.select((pl.col("month") > gap).alias("after"), (pl.col("month") <= observable).alias("within"))
    assert checked["after"].all()
    assert checked["within"].all()
    assert set(outcomes["kind"].unique()) == {"recovery", "settlement", "voluntary"}


def test_balances_fall_with_cash_before_as_of(demo):
    loans = demo.history["loans"].join(demo.latent.select("loan_id", "ead_at_default"), on="loan_id")
    balance = loans["principal_outstanding"] + loans["interest_outstanding"] + loans["fees_outstanding"]
    assert ((balance - loans["exposure_at_default"]).abs() < 0.011).all()
    assert (loans["exposure_at_default"] <= loans["ead_at_default"] + 0.01).all()
    at_default = loans.filter(pl.col("as_of_date") == pl.col("default_date"))
    assert ((at_default["exposure_at_default"] - at_default["ead_at_default"]).abs() < 0.011).all()


def test_external_fields_and_legal_basis(demo):
    external = demo.history["external"]
    fields = set(external["field"].unique())
    assert {
        "social_insurance_status",
        "social_insurance_base",
        "court_enforcement_count",
        "dishonest_debtor",
        "consumption_index",
        "hardship_event",
    } <= fields
    none_share = (external["legal_basis"] == "none").mean()
    assert 0.01 < none_share < 0.2
    hardship = external.filter(pl.col("field") == "hardship_event")["value"]
    assert {"illness", "job_loss"} <= set(hardship.unique())


def test_product_mix(demo):
    products = dict(demo.history["loans"]["product"].value_counts().iter_rows())
    assert set(products) == {"credit_card", "consumer_loan", "business_loan", "mortgage", "auto_loan"}
    assert products["credit_card"] > products["consumer_loan"] > products["mortgage"]
    collateral = demo.history["loans"].filter(pl.col("product") == "mortgage")["collateral"]
    assert (collateral == "mortgage").all()
    cards = demo.history["loans"].filter(pl.col("product") == "credit_card")
    assert cards["term_months"].null_count() == cards.height
