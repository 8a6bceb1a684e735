"""Default and as-of dates of the demo books, with whole-month arithmetic.

Dates are ``numpy.datetime64[D]`` arrays. Default dates fall on days 1-28 of
a month so that "default plus k months" is always a valid date. Month ``m``
after default is the period ``(default + (m - 1) months, default + m months]``;
month ``k`` is complete on the as-of date ``default + k months``.
"""

from __future__ import annotations

from datetime import date

import numpy as np

__all__ = ["add_months", "months_between", "history_timing", "tape_timing", "to_datetime64"]


def to_datetime64(day: date) -> np.datetime64:
    """Return a ``datetime.date`` as ``numpy.datetime64[D]``."""
    return np.datetime64(day.isoformat(), "D")


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Add whole months to dates whose day of month is at most 28."""
    month_start = days.astype("datetime64[M]")
    offset = days - month_start.astype("datetime64[D]")
    return (month_start + np.asarray(months, dtype=np.int64)).astype("datetime64[D]") + offset


def months_between(start: np.ndarray, end: np.datetime64 | np.ndarray) -> np.ndarray:
    """Count the whole months ``m >= 0`` with ``start + m months <= end`` (start days at most 28)."""
    end = np.asarray(end, dtype="datetime64[D]")
    months = end.astype("datetime64[M]").astype(np.int64) - start.astype("datetime64[M]").astype(np.int64)
    end_day = end - end.astype("datetime64[M]").astype("datetime64[D]")
    start_day = start - start.astype("datetime64[M]").astype("datetime64[D]")
    return np.maximum(months - (end_day < start_day).astype(np.int64), 0)


def _day_in_month(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 28, size=n).astype("timedelta64[D]")


def history_timing(
    rng: np.random.Generator, n: int, cutoff: date, cohorts: int, at_default_share: float, max_gap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw default dates and whole-month gaps to the as-of date for history borrowers.

    Default months are spread evenly over the ``cohorts`` months before the
    cut-off month. A share of borrowers is observed at default (gap 0); the
    others after 1 to ``max_gap`` months, but never after the cut-off.

    Returns
    -------
    default_date : numpy.ndarray of datetime64[D]
    gap_months : numpy.ndarray of int64
    """
    cut = to_datetime64(cutoff)
    cohort = rng.integers(1, cohorts + 1, size=n)
    default_date = (cut.astype("datetime64[M]") - cohort).astype("datetime64[D]") + _day_in_month(rng, n)
    observable = months_between(default_date, cut)

    gap = np.where(rng.random(n) < at_default_share, 0, rng.integers(1, max_gap + 1, size=n))
    late = gap > observable
    gap[late] = np.floor(rng.random(int(late.sum())) * (observable[late] + 1)).astype(np.int64)
    return default_date, gap


def tape_timing(rng: np.random.Generator, n: int, cutoff: date) -> tuple[np.ndarray, np.ndarray]:
    """Draw default dates of tape borrowers and their whole months since default at the cut-off.

    Days since default follow a mixture (ASSUMPTION): 30 % under a year, 35 %
    one to three years, 35 % three to seven years, so DPD (90 plus days since
    default) runs from 91 days to about 7 years.

    Returns
    -------
    default_date : numpy.ndarray of datetime64[D]
    gap_months : numpy.ndarray of int64
    """
    cut = to_datetime64(cutoff)
    band = rng.choice(3, size=n, p=[0.30, 0.35, 0.35])
    low = np.array([1, 365, 1095])[band]
    high = np.array([365, 1095, 2555])[band]
    days_since = rng.integers(low, high)

    # Move days 29-31 back to day 28 so that month arithmetic stays valid.
    default_date = cut - days_since.astype("timedelta64[D]")
    day = (default_date - default_date.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    default_date = default_date - np.maximum(day - 27, 0).astype("timedelta64[D]")
    return default_date, months_between(default_date, cut)
