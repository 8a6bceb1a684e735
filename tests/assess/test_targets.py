"""Tests of the recovery target's development to ultimate with the recovery curve."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from sanhua.assess.settings import TargetSettings
from sanhua.assess.targets import build_targets

# A linear curve over 10 months: C(m) = m / 10.
LINEAR = np.arange(1, 11) / 10.0


def _history(as_of: date, months_observed: list[int], amounts: list[float]) -> tuple[pl.DataFrame, pl.DataFrame]:
    loans = pl.DataFrame(
        {
            "loan_id": ["L1", "L2"],
            "exposure_at_default": [1000.0, 1000.0],
            "default_date": [date(2024, 1, 1), date(2024, 1, 1)],
            "as_of_date": [as_of, as_of],
        }
    )
    outcomes = pl.DataFrame(
        {
            "loan_id": ["L1", "L2"],
            "month": pl.Series(months_observed, dtype=pl.Int32),
            "amount": amounts,
            "kind": ["recovery", "recovery"],
        }
    )
    return loans, outcomes


def test_observed_window_is_developed_to_ultimate():
    # Cut-off 2 months after default, outcomes up to month 6: the window saw C(6) - C(2) = 0.4 of the 0.8 still to come.
    loans, outcomes = _history(date(2024, 3, 1), [4, 6], [100.0, 100.0])
    settings = TargetSettings(min_observed_months=0)
    targets = build_targets(loans, outcomes, settings, LINEAR).frame.sort("loan_id")

    assert targets["development_factor"].to_list() == pytest.approx([2.0, 2.0])
    assert targets["recovery_rate"].to_list() == pytest.approx([0.2, 0.2])


def test_development_is_capped():
    loans, outcomes = _history(date(2024, 3, 1), [3, 3], [100.0, 100.0])
    settings = TargetSettings(min_observed_months=0, max_development_factor=3.0)
    targets = build_targets(loans, outcomes, settings, LINEAR).frame

    # The window saw 0.1 of 0.8 (factor 8), capped at 3.
    assert targets["development_factor"].to_list() == pytest.approx([3.0, 3.0])


def test_without_curve_rate_is_observed():
    loans, outcomes = _history(date(2024, 3, 1), [4, 6], [100.0, 100.0])
    targets = build_targets(loans, outcomes, TargetSettings(min_observed_months=0)).frame

    assert targets["development_factor"].to_list() == [1.0, 1.0]
    assert targets["recovery_rate"].to_list() == pytest.approx([0.1, 0.1])


def test_able_uses_observed_recovery():
    # Observed rate 0.09 < ability share 0.10, although the developed rate (0.18) is above it.
    loans, outcomes = _history(date(2024, 3, 1), [4, 6], [90.0, 90.0])
    targets = build_targets(loans, outcomes, TargetSettings(min_observed_months=0), LINEAR).frame

    assert not targets["able"].any()
    assert targets["recovery_rate"].to_list() == pytest.approx([0.18, 0.18])


def test_development_can_be_switched_off():
    loans, outcomes = _history(date(2024, 3, 1), [4, 6], [100.0, 100.0])
    settings = TargetSettings(min_observed_months=0, develop_to_ultimate=False)
    targets = build_targets(loans, outcomes, settings, LINEAR).frame

    assert targets["development_factor"].to_list() == [1.0, 1.0]
