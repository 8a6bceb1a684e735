"""Tests of the hardship relief programme (sanhua.strategy.hardship): detection rules, offers and notices."""

from __future__ import annotations

import polars as pl
import pytest

from sanhua.strategy.hardship import HardshipProgramme
from sanhua.strategy.settings import HardshipSettings, RestructureSettings
from sanhua.value.checks import InputDataError


def _frame(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "loan_id": [f"L{i}" for i in range(n)],
        "currency": ["CNY"] * n,
        "principal_outstanding": [10_000.0] * n,
        "interest_outstanding": [1_000.0] * n,
        "interest_rate": [0.12] * n,
    }
    return pl.DataFrame({**base, **columns})


def test_rules_and_precedence():
    frame = _frame(
        hardship_event=["job_loss", "none", None, None, None, "illness"],
        employment=["employed", "unemployed", "employed", "employed", "employed", "unemployed"],
        income_annual=[100_000.0, 100_000.0, 30_000.0, 100_000.0, 100_000.0, 100_000.0],
        income_previous=[100_000.0, 100_000.0, 100_000.0, 100_000.0, 100_000.0, 100_000.0],
        hardship=[False, False, False, True, False, False],
    )

    flags = HardshipProgramme().run(frame).flags

    assert flags["hardship_kind"].to_list() == ["job_loss", "job_loss", "income_collapse", "declared", None, "illness"]
    assert flags["hardship_rule"].to_list() == ["event", "unemployed", "income", "flag", None, "event"]
    assert flags["hardship"].to_list() == [True, True, True, True, False, True]


def test_social_insurance_lapse_counts_as_job_loss():
    frame = _frame(social_insurance_status=[1.0, 0.5, 0.0])

    on = HardshipProgramme().run(frame).flags["hardship_kind"].to_list()
    off = HardshipProgramme(HardshipSettings(social_insurance_lapse_is_job_loss=False)).run(frame).flags["hardship"].to_list()

    assert on == [None, "job_loss", "job_loss"]
    assert off == [False, False, False]


def test_consumption_collapse():
    frame = _frame(consumption_index=[50.0, 10.0])

    assert HardshipProgramme().run(frame).flags["hardship_kind"].to_list() == [None, "income_collapse"]


def test_offer_terms_follow_kind():
    frame = _frame(hardship_event=["illness", "business_failure"])

    offers = HardshipProgramme().run(frame).offers.sort("loan_id")

    assert offers["interest_waiver"].to_list() == [1.0, 0.5]
    assert offers["deferral_months"].to_list() == [6, 3]
    assert offers["term_months"].to_list() == [48, 36]
    assert offers["interest_waived"].to_list() == pytest.approx([1_000.0, 500.0])


def test_notice_discloses_terms_in_both_languages():
    frame = _frame(hardship_event=["job_loss"])

    offer = HardshipProgramme().run(frame).offers.row(0, named=True)

    assert "失业" in offer["notice_zh"]
    assert "本行" in offer["notice_zh"]
    assert f"{offer['apr'] * 100:.2f}%" in offer["notice_zh"]
    assert "the loss of your job" in offer["notice_en"]
    assert f"{offer['instalment']:.2f}" in offer["notice_en"]
    assert f"{offer['total_paid']:.2f}" in offer["notice_en"]
    assert "L0" not in offer["notice_en"]


def test_fee_disclosed_in_apr():
    frame = _frame(hardship_event=["job_loss"])

    free = HardshipProgramme().run(frame).offers["apr"].item()
    charged = HardshipProgramme(restructure=RestructureSettings(restructure_fee_rate=0.02)).run(frame).offers["apr"].item()

    assert charged > free


def test_no_hardship_gives_empty_offers():
    result = HardshipProgramme().run(_frame(hardship_event=["none", ""]))

    assert result.offers.height == 0
    assert "notice_zh" in result.offers.columns


def test_missing_required_column():
    with pytest.raises(InputDataError, match="principal_outstanding"):
        HardshipProgramme().run(pl.DataFrame({"loan_id": ["a"], "currency": ["CNY"]}))
