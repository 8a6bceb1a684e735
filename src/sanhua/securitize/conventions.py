"""Market conventions of a deal: day counts, payment frequencies and payment schedules.

Conventions are data, not literals in the engine. :class:`DayCount` states each
rule in its docstring; :data:`CN_INTERBANK_ABS` bundles the conventions of
credit-asset ABS issued on the China interbank bond market: interest accrues
ACT/365 (fixed), payment dates are monthly or quarterly (some early NPL deals
paid semi-annually, so ``semiannual`` is accepted too), and a payment date
that falls on a month's day that does not exist (the 31st of April) moves to
the month's last day.

NOTE: payment dates are not adjusted for Chinese business days (no holiday
calendar ships with sanhua); a deal whose prospectus rolls payment dates to the
next business day accrues a few days differently.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final

import numpy as np

from sanhua.errors import ConfigError

__all__ = [
    "DayCount",
    "Frequency",
    "ConventionBundle",
    "CN_INTERBANK_ABS",
    "add_months",
    "year_fraction",
    "payment_dates",
    "year_fractions",
]


class DayCount(str, Enum):
    """Day-count convention of interest accrual.

    - ``ACT/365F``: actual days / 365, leap years included (the Chinese
      interbank market's convention for fixed-income ABS coupons).
    - ``ACT/360``: actual days / 360.
    - ``30/360``: 30/360 bond basis (ISDA 2006 section 4.16(f)): day 31 becomes
      30, and the end day 31 becomes 30 when the start day is 30 or 31.
    """

    ACT_365F = "ACT/365F"
    ACT_360 = "ACT/360"
    THIRTY_360 = "30/360"

    @classmethod
    def parse(cls, value: str | DayCount) -> DayCount:
        """Return the convention named by ``value`` or one of its usual aliases.

        Raises
        ------
        ConfigError
            The name is not a supported convention; the message lists them.
        """
        if isinstance(value, DayCount):
            return value
        key = str(value).strip().upper().replace(" ", "").replace("_", "/")
        aliases = {
            "ACT/365F": cls.ACT_365F,
            "ACT/365": cls.ACT_365F,
            "ACT/365FIXED": cls.ACT_365F,
            "A365F": cls.ACT_365F,
            "ACT/360": cls.ACT_360,
            "A360": cls.ACT_360,
            "30/360": cls.THIRTY_360,
            "30E/360": cls.THIRTY_360,
        }
        if key not in aliases:
            raise ConfigError(f"Invalid day count {value!r}. Allowed: ACT/365F (also ACT/365, ACT/365 Fixed), ACT/360, 30/360.")
        return aliases[key]


class Frequency(str, Enum):
    """Payment frequency: one collection period and one payment date per period."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"

    @property
    def months(self) -> int:
        """Months in one collection period."""
        return {"monthly": 1, "quarterly": 3, "semiannual": 6}[self.value]


@dataclass(frozen=True)
class ConventionBundle:
    """A named set of conventions that a deal file can refer to by name."""

    name: str
    day_count: DayCount
    frequency: Frequency
    description: str


CN_INTERBANK_ABS: Final[ConventionBundle] = ConventionBundle(
    name="cn-interbank-abs",
    day_count=DayCount.ACT_365F,
    frequency=Frequency.MONTHLY,
    description="China interbank credit-asset ABS: ACT/365 fixed accrual; monthly or quarterly payment dates.",
)


def add_months(start: date, months: int) -> date:
    """Return ``start`` moved by whole months, clamped to the month's last day (Jan 31 + 1 = Feb 28/29)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def year_fraction(start: date, end: date, day_count: DayCount) -> float:
    """Return the accrual fraction of a year from ``start`` to ``end`` under ``day_count``.

    Examples
    --------
    >>> year_fraction(date(2024, 1, 1), date(2025, 1, 1), DayCount.ACT_365F)
    1.0027397260273974
    """
    if day_count is DayCount.ACT_365F:
        return (end - start).days / 365.0
    if day_count is DayCount.ACT_360:
        return (end - start).days / 360.0

    d1 = min(start.day, 30)
    d2 = end.day
    if d2 == 31 and d1 == 30:
        d2 = 30
    return (360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)) / 360.0


def payment_dates(first_payment: date, frequency: Frequency, periods: int) -> list[date]:
    """Return ``periods`` payment dates from ``first_payment``, one frequency apart (month-end clamped)."""
    return [add_months(first_payment, i * frequency.months) for i in range(periods)]


def year_fractions(closing: date, dates: list[date], day_count: DayCount) -> tuple[np.ndarray, np.ndarray]:
    """Return per-period accrual fractions and times from closing, both in years.

    Returns
    -------
    accrual : np.ndarray, shape (periods,)
        Fraction of the period from the previous payment date (closing for
        the first period) to this one.
    time : np.ndarray, shape (periods,)
        Fraction from closing to each payment date.
    """
    starts = [closing, *dates[:-1]]
    accrual = np.array([year_fraction(s, e, day_count) for s, e in zip(starts, dates)], dtype=np.float64)
    time = np.cumsum(accrual)
    return accrual, time
