"""Survival view of recoveries: Kaplan-Meier time from default to the first payment, with censoring.

Vocabulary follows lifelines: ``durations`` (months from default to the first
payment, or to the end of observation), ``event_observed`` (True when a
payment was seen), ``entry`` (month the loan entered observation, for delayed
entry), ``timeline`` (whole months).

Estimator: ``S(t) = prod_{u <= t} (1 - d_u / n_u)`` with ``d_u`` the first
payments in month ``u`` and ``n_u`` the loans at risk, that is entered before
``u`` and neither paid nor censored before ``u``. The variance is
Greenwood's, and the band uses the log(-log) transform, which keeps it in
[0, 1] (Kalbfleisch and Prentice, 2002, section 1.4).
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import polars as pl
from scipy.stats import norm

from sanhua.errors import ConfigError, InputDataError
from sanhua.value.checks import check_no_nulls, require_columns
from sanhua.value.curves import months_between

__all__ = ["kaplan_meier", "time_to_first_payment"]

logger = logging.getLogger(__name__)

_STAGE = "survival"


def kaplan_meier(
    durations: np.ndarray,
    event_observed: np.ndarray,
    entry: np.ndarray | None = None,
    *,
    band_level: float = 0.90,
) -> pl.DataFrame:
    """Estimate the survival curve of the time to the first payment.

    Parameters
    ----------
    durations : numpy.ndarray of int, shape (n,)
        Months from default to the first payment (event) or to the end of
        observation (censored), >= 1.
    event_observed : numpy.ndarray of bool, shape (n,)
        True when the first payment was observed at ``durations``.
    entry : numpy.ndarray of int or None, shape (n,)
        Month after which each loan is observed (delayed entry, left
        truncation), ``0 <= entry < durations``; None means 0 for all.
    band_level : float, default 0.90
        Two-sided level of the pointwise band.

    Returns
    -------
    polars.DataFrame
        One row per month ``1 .. max(durations)``: ``month``, ``at_risk``,
        ``events``, ``censored``, ``survival`` (share not yet paid),
        ``survival_low``, ``survival_high``, and ``paid_share``
        (``1 - survival``).

    Raises
    ------
    InputDataError
        Lengths differ, a duration is < 1, or an entry is not below its duration.
    """
    durations = np.asarray(durations, dtype=np.int64)
    events = np.asarray(event_observed, dtype=bool)
    entry = np.zeros_like(durations) if entry is None else np.asarray(entry, dtype=np.int64)
    if not durations.shape == events.shape == entry.shape or durations.ndim != 1:
        raise InputDataError(
            f"{_STAGE}: durations, event_observed and entry must be 1-D of equal length, "
            f"got {durations.shape}, {events.shape}, {entry.shape}."
        )
    if durations.size == 0:
        raise InputDataError(f"{_STAGE}: no loans to estimate the survival curve on.")
    if (durations < 1).any():
        raise InputDataError(f"{_STAGE}: {int((durations < 1).sum())} duration(s) are below 1 month; durations count whole months from default.")
    if ((entry < 0) | (entry >= durations)).any():
        raise InputDataError(f"{_STAGE}: {int(((entry < 0) | (entry >= durations)).sum())} entry month(s) lie outside [0, duration).")
    if not 0 < band_level < 1:
        raise ConfigError(f"{_STAGE}: band_level must lie in (0, 1), got {band_level!r}.")

    horizon = int(durations.max())
    event_count = np.bincount(durations[events], minlength=horizon + 1)[1:]
    censor_count = np.bincount(durations[~events], minlength=horizon + 1)[1:]
    entered = np.bincount(entry, minlength=horizon + 1)[: horizon + 1]
    left = np.bincount(durations, minlength=horizon + 1)
    # At risk in month u: entered at a month < u and still observed at u.
    at_risk = np.cumsum(entered)[:-1] - np.concatenate(([0], np.cumsum(left[1:])[:-1]))

    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, event_count / at_risk, 0.0)
        survival = np.cumprod(1.0 - hazard)
        greenwood_terms = np.where(
            (at_risk > 0) & (at_risk > event_count), event_count / (at_risk * (at_risk - event_count)), 0.0
        )
        greenwood = np.cumsum(greenwood_terms)
        z = float(norm.ppf(0.5 + band_level / 2))
        log_survival = np.log(survival)
        sd_loglog = np.sqrt(greenwood) / np.abs(log_survival)
        valid = (survival > 0) & (survival < 1)
        low = np.where(valid, survival ** np.exp(z * sd_loglog), survival)
        high = np.where(valid, survival ** np.exp(-z * sd_loglog), survival)

    return pl.DataFrame(
        {
            "month": np.arange(1, horizon + 1, dtype=np.int32),
            "at_risk": at_risk.astype(np.int64),
            "events": event_count.astype(np.int64),
            "censored": censor_count.astype(np.int64),
            "survival": survival,
            "survival_low": low,
            "survival_high": high,
            "paid_share": 1.0 - survival,
        }
    )


def time_to_first_payment(
    outcomes: pl.DataFrame,
    loans: pl.DataFrame,
    cutoff_date: date,
    *,
    max_month: int = 60,
    band_level: float = 0.90,
) -> pl.DataFrame:
    """Kaplan-Meier curve of the months from default to the first recovery payment.

    Parameters
    ----------
    outcomes : polars.DataFrame
        ``loan_id``, ``month`` (months after default; lifetime rows with a
        null month are ignored) and ``amount``.
    loans : polars.DataFrame
        ``loan_id``, ``default_date`` and ``as_of_date`` (Date). Loans without
        a default date are left out.
    cutoff_date : datetime.date
        Date the outcomes were extracted: loans with no payment by then are
        censored at ``months_between(default_date, cutoff_date)``.
    max_month : int, default 60
        Durations are capped here (censored if no payment by then).
    band_level : float, default 0.90
        Level of the band.

    Returns
    -------
    polars.DataFrame
        The :func:`kaplan_meier` table.

    Notes
    -----
    A loan enters observation at its as-of month (``entry``): the outcomes
    table holds cash after the as-of date only, so a payment before it is not
    seen, and the estimate is the time to the first payment *after* the as-of
    date among loans still open then (delayed entry). NOTE: payments before the
    as-of date live in the repayments table, which this function does not read.
    """
    require_columns(loans, ["loan_id", "default_date", "as_of_date"], f"{_STAGE} (loans)")
    require_columns(outcomes, ["loan_id", "month", "amount"], f"{_STAGE} (outcomes)")
    check_no_nulls(loans, ["loan_id", "as_of_date"], f"{_STAGE} (loans)")

    dated = loans.filter(pl.col("default_date").is_not_null()).select(
        "loan_id",
        months_between(pl.col("default_date"), pl.col("as_of_date")).clip(0, max_month - 1).alias("entry"),
        months_between(pl.col("default_date"), pl.lit(cutoff_date)).clip(1, max_month).alias("observed_to"),
    )
    first = (
        outcomes.filter(pl.col("month").is_not_null() & (pl.col("amount") > 0))
        .group_by("loan_id")
        .agg(pl.col("month").min().alias("first_month"))
    )
    table = dated.join(first, on="loan_id", how="left").with_columns(
        pl.col("first_month").cast(pl.Int64).clip(1, None),
    )
    event = table["first_month"].is_not_null() & (table["first_month"] <= table["observed_to"])
    durations = np.where(event.to_numpy(), table["first_month"].fill_null(0).to_numpy(), table["observed_to"].to_numpy())
    entry = np.minimum(table["entry"].to_numpy(), durations - 1)

    logger.info(
        "survival: %d loans, %d first payments observed, %d censored", table.height, int(event.sum()), table.height - int(event.sum())
    )
    return kaplan_meier(durations, event.to_numpy(), entry, band_level=band_level)
