"""Tests of the main job's entry point: propose, size and write the ABS proposal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sanhua.errors import InputDataError
from sanhua.securitize import Scenarios, WaterfallEngine
from sanhua.securitize.proposal import build_abs_proposal, propose_deal, target_stress
from sanhua.securitize.settings import SecuritizeSettings


def _pool() -> pl.DataFrame:
    months = np.arange(1, 37)
    return pl.DataFrame({"period": months, "expected_collections": 1_000_000.0 * 0.97 ** months})


def test_propose_deal_issues_share_of_collections() -> None:
    settings = SecuritizeSettings()

    deal = propose_deal(_pool(), date(2026, 6, 30), settings)

    assert deal.issue_balance == pytest.approx(settings.issue_share * _pool()["expected_collections"].sum())
    assert deal.dates.closing == date(2026, 8, 30)
    assert deal.dates.first_payment == date(2026, 9, 26)
    assert deal.seniors[0].balance / deal.issue_balance == pytest.approx(settings.initial_senior_share)


def test_missing_months_count_as_zero() -> None:
    pool = pl.DataFrame({"period": [1, 3], "expected_collections": [10.0, 30.0]})

    deal = propose_deal(pool, date(2026, 6, 30))

    assert deal.collateral.collections == [10.0, 0.0, 30.0]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"month": [1], "expected_collections": [1.0]}), "lack column"),
        (pl.DataFrame({"period": [1, 2], "expected_collections": [1.0, None]}), "row 1 is null"),
        (pl.DataFrame({"period": [0], "expected_collections": [1.0]}), "periods start at 1"),
        (pl.DataFrame({"period": [1], "expected_collections": [-5.0]}), "invalid"),
        (pl.DataFrame({"period": [1, 1], "expected_collections": [1.0, 2.0]}), "appears twice"),
        (pl.DataFrame({"period": [1], "expected_collections": [0.0]}), "nothing to securitize"),
    ],
)
def test_bad_pool_rejected(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(InputDataError, match=message):
        propose_deal(frame, date(2026, 6, 30))


def test_build_proposal_sizes_and_writes(tmp_path: Path) -> None:
    settings = SecuritizeSettings()

    proposal = build_abs_proposal(_pool(), date(2026, 6, 30), settings)
    path = proposal.write(tmp_path / "abs", "en")
    sized = proposal.analysis.sizing

    assert path == tmp_path / "abs" / "deal_report.html"
    assert path.exists()
    assert (tmp_path / "abs" / "summary.xlsx").exists()
    assert sized is not None
    assert 0 < sized.senior_share < 1
    assert proposal.deal.seniors[0].balance == pytest.approx(sized.senior_balance)
    assert WaterfallEngine(proposal.deal).run(target_stress(settings)).survives("senior")[0]
    assert proposal.summary()["senior_share"] == sized.senior_share
    assert any(row["name"] == "securitize.target_haircut" for row in proposal.analysis.assumptions)


def test_settings_assumptions_are_tagged() -> None:
    rows = SecuritizeSettings().assumptions()

    tags = {row["name"]: row["tag"] for row in rows}
    assert tags["securitize.retained_share"] == "SOURCED"
    assert tags["securitize.senior_coupon"] == "ASSUMPTION"


def test_target_stress_from_settings() -> None:
    target = target_stress(SecuritizeSettings(target_haircut=0.3, target_delay_months=6))

    assert isinstance(target, Scenarios)
    assert target.recovery_haircut.tolist() == [0.3]
    assert target.delay_months.tolist() == [6.0]
