"""Recovery levels of the default demo against published figures.

Sources (secondary, as collected for the project's domain notes):

- rating agencies' static pools of bank credit-card NPLs: cash recovered within
  12 months of default, 35.8 %, 29.8 %, 23.9 %, 25.2 % and 22.7 % of the
  defaulted balance for default years 2017-2021; the check accepts 20-35 %;
- bulk transfers of personal NPLs through the credit-asset registration and
  transfer centre, 2025 Q1: principal recovery 6.9 % overall and 5.8 % for
  loans two to three years past due. The check accepts 5-9 % for loans more
  than two years past due.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from sanhua.demo import DemoSettings

CUTOFF = DemoSettings().history_cutoff
UNSECURED = ["none", "guarantee"]


def _shift_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, min(day.day, 28))


def test_card_static_pool_12_months(demo):
    loans = demo.history["loans"].filter(
        (pl.col("product") == "credit_card")
        & (pl.col("as_of_date") == pl.col("default_date"))
        & (pl.col("default_date") <= _shift_months(CUTOFF, -12))
    )
    assert loans.height > 1000
    first_year = demo.history["outcomes"].filter(pl.col("month") <= 12).group_by("loan_id").agg(pl.col("amount").sum())
    recovered = loans.join(first_year, on="loan_id", how="left")["amount"].fill_null(0).sum()
    rate = recovered / loans["exposure_at_default"].sum()
    assert 0.20 <= rate <= 0.35, f"12-month card recovery {rate:.3f} outside 20-35 %"


def test_tape_cards_under_a_year_12_months(demo):
    cards = demo.tape["loans"].filter((pl.col("product") == "credit_card") & (pl.col("dpd") <= 90 + 365))
    latent = cards.select("loan_id").join(demo.latent, on="loan_id")
    assert latent.height == cards.height > 300
    rate = latent["recovery_12m"].sum() / latent["ead_at_default"].sum()
    assert 0.20 <= rate <= 0.35, f"12-month card recovery of the tape {rate:.3f} outside 20-35 %"


def test_lifetime_after_two_years_past_due(demo):
    # NOTE: about 390 loans qualify, so this figure moves by roughly 0.015 between
    # seeds (0.069-0.091 over seeds 1-3); it is checked for the default seed only.
    loans = demo.history["loans"].filter(
        (pl.col("dpd") > 730)
        & pl.col("collateral").is_in(UNSECURED)
        & (pl.col("as_of_date") <= _shift_months(CUTOFF, -24))
    )
    assert loans.height > 200
    recovered = demo.history["outcomes"].group_by("loan_id").agg(pl.col("amount").sum())
    total = loans.join(recovered, on="loan_id", how="left")["amount"].fill_null(0).sum()
    rate = total / loans["exposure_at_default"].sum()
    assert 0.05 <= rate <= 0.09, f"recovery after two years past due {rate:.3f} outside 5-9 %"


def test_tape_lifetime_after_two_years_past_due(demo):
    loans = demo.tape["loans"].filter((pl.col("dpd") > 730) & pl.col("collateral").is_in(UNSECURED))
    joined = loans.select("loan_id", "exposure_at_default").join(demo.latent, on="loan_id")
    rate = joined["future_recovery"].sum() / joined["exposure_at_default"].sum()
    assert 0.05 <= rate <= 0.09, f"simulated lifetime recovery of the tape {rate:.3f} outside 5-9 %"


@pytest.mark.parametrize("book", ["history", "tape"])
def test_cash_after_default_is_the_path(demo, book):
    """Conservation: repayments after default plus outcomes equal the simulated path up to the cut-off."""
    tables = getattr(demo, book)
    loans = tables["loans"].select("loan_id", "default_date")
    paid = (
        tables["repayments"]
        .join(loans, on="loan_id")
        .filter((pl.col("kind") != "instalment") & (pl.col("date") >= pl.col("default_date")))
        .group_by("loan_id")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    latent = demo.latent.filter(pl.col("book") == book).select(
        "loan_id",
        pl.col("recovery_path").list.slice(0, pl.col("months_since_default")).list.sum().alias("path"),
    )
    joined = latent.join(paid, on="loan_id", how="left").with_columns(pl.col("paid").fill_null(0))
    assert ((joined["path"] - joined["paid"]).abs() < 0.01).all()


def test_outcomes_are_the_path_after_as_of(demo):
    outcomes = demo.history["outcomes"].group_by("loan_id", "month").agg(pl.col("amount").sum())
    path = (
        demo.latent.filter(pl.col("book") == "history")
        .select("loan_id", "recovery_path")
        .explode("recovery_path")
        .with_columns((pl.int_range(pl.len()).over("loan_id") + 1).cast(pl.Int32).alias("month"))
    )
    joined = outcomes.join(path, on=["loan_id", "month"], how="left")
    assert ((joined["amount"] - joined["recovery_path"]).abs() < 0.01).all()
