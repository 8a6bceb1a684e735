"""Tests of day counts, frequencies and payment dates."""

from __future__ import annotations

from datetime import date

import pytest

from sanhua.errors import ConfigError
from sanhua.securitize.conventions import DayCount, Frequency, add_months, payment_dates, year_fraction, year_fractions


def test_act365f_counts_leap_day() -> None:
    # 2024 is a leap year: 366 actual days / 365.
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1), DayCount.ACT_365F) == pytest.approx(366 / 365, abs=1e-15)


def test_act360_and_30_360() -> None:
    assert year_fraction(date(2025, 1, 1), date(2025, 7, 1), DayCount.ACT_360) == pytest.approx(181 / 360, abs=1e-15)
    # 30/360 bond basis: Jan 31 -> Mar 31 is 60 days.
    assert year_fraction(date(2025, 1, 31), date(2025, 3, 31), DayCount.THIRTY_360) == pytest.approx(60 / 360, abs=1e-15)


@pytest.mark.parametrize("alias", ["ACT/365", "act/365 fixed", "A365F", "ACT_365F"])
def test_day_count_aliases(alias: str) -> None:
    assert DayCount.parse(alias) is DayCount.ACT_365F


def test_day_count_unknown_raises() -> None:
    with pytest.raises(ConfigError, match="Allowed: ACT/365F"):
        DayCount.parse("ACT/ACT")


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_payment_dates_quarterly() -> None:
    dates = payment_dates(date(2025, 3, 26), Frequency.QUARTERLY, 3)
    assert dates == [date(2025, 3, 26), date(2025, 6, 26), date(2025, 9, 26)]


def test_year_fractions_start_at_closing() -> None:
    accrual, time = year_fractions(date(2025, 1, 20), [date(2025, 2, 26), date(2025, 3, 26)], DayCount.ACT_365F)
    assert accrual.tolist() == pytest.approx([37 / 365, 28 / 365], abs=1e-15)
    assert time.tolist() == pytest.approx([37 / 365, 65 / 365], abs=1e-15)
