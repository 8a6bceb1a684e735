"""Recovery timing: the share of a defaulted loan's lifetime recovery received in each month.

Axes and dates
--------------
- *Development month* ``k = 1 .. max_month`` counts whole months after the
  default date: cash recorded with ``month = k`` arrived during the k-th month
  after default and is discounted as if received at the end of that month.
  Cash recorded with ``month = 0`` (the month of default) is counted in month 1.
- *Cohort* (origin) is the period that contains the default date, truncated to the
  start of a month, quarter or year.
- *Lifetime* means up to ``max_month``. Recoveries recorded after ``max_month``
  are counted in month ``max_month``, so the curve's cumulative share reaches 1
  there and the tail beyond it is zero by construction.

The fitted curve (``curve_``) has one row per development month with
``marginal`` (share of lifetime recovery received in that month; the
marginals sum to 1), ``cumulative`` (share received by the end of that month,
non-decreasing, 1 at ``max_month``) and ``source`` (``empirical`` or
``configured``).

Discounting convention
----------------------
:meth:`RecoveryCurve.pv_factor` takes an annual rate ``r`` compounded monthly:
one unit received ``n`` months from now is worth ``(1 + r / 12) ** -n`` today.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import date
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator
from scipy.optimize import brentq
from scipy.stats import norm

from sanhua.errors import ConfigError, ModelError, NotFittedError
from sanhua.value.checks import InputDataError, check_no_nulls, check_non_negative, require_columns
from sanhua.value.mack import MackResult, exponential_tail, mack_chain_ladder
from sanhua.value.params import assumption_rows, param

__all__ = ["CurveSettings", "RecoveryCurve", "months_between"]

logger = logging.getLogger(__name__)

_STAGE = "recovery curve"
_COHORT_EVERY = {"month": "1mo", "quarter": "1q", "year": "1y"}
_TRIANGLE_SCHEMA = {"cohort": pl.Date, "month": pl.Int32, "cumulative_amount": pl.Float64, "ead": pl.Float64, "cumulative_rate": pl.Float64}
_LDF_SCHEMA = {"month": pl.Int32, "ldf": pl.Float64, "cdf": pl.Float64}
_BANDS_SCHEMA = {
    "month": pl.Int32,
    "cumulative": pl.Float64,
    "cumulative_low": pl.Float64,
    "cumulative_high": pl.Float64,
    "recovery_rate": pl.Float64,
    "recovery_rate_low": pl.Float64,
    "recovery_rate_high": pl.Float64,
}
_COHORTS_SCHEMA = {
    "cohort": pl.Date,
    "loans": pl.UInt32,
    "ead": pl.Float64,
    "maturity": pl.Int32,
    "observed_cells": pl.Int32,
    "projected_cells": pl.Int32,
    "sparse": pl.Boolean,
    "completion": pl.Utf8,
}


def months_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Whole calendar months from ``start`` to ``end`` (Date expressions); negative when ``end`` is earlier.

    A month counts once its day of month is reached: 2024-01-31 to 2024-02-29
    is 0 months, 2024-01-15 to 2024-02-15 is 1 month.
    """
    months = (end.dt.year() - start.dt.year()) * 12 + (end.dt.month() - start.dt.month())
    return (months - (end.dt.day() < start.dt.day()).cast(pl.Int32)).cast(pl.Int32)


class CurveSettings(BaseModel):
    """Parametric recovery timing for tapes that have no monthly outcomes.

    The shape is a truncated exponential: the cumulative share by month ``t``
    is ``F(t) = (1 - exp(-lam * t)) / (1 - exp(-lam * max_month))``, with
    ``lam`` solved so that ``F(12)`` equals ``recovery_12m_rate /
    lifetime_recovery_rate``. With the defaults that share is
    0.2748 / 0.40 = 0.687: about two thirds of a card NPL's lifetime recovery
    arrives in the first year after default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_month: int = param(60, "Last development month of the curve; no recovery is assumed after it.", unit="months", ge=13, le=600)
    recovery_12m_rate: float = param(
        0.2748,
        "Recovery within 12 months of default as a fraction of EAD: mean of 35.8%, 29.8%, 23.9%, 25.2% and 22.7% "
        "for default years 2017-2021.",
        unit="fraction of EAD",
        source="rating-agency static pools of Chinese bank credit-card NPLs, default years 2017-2021",
        gt=0,
        le=1,
    )
    lifetime_recovery_rate: float = param(
        0.40,
        "Lifetime recovery of the same pools as a fraction of EAD; only the ratio recovery_12m_rate / "
        "lifetime_recovery_rate shapes the curve. No published lifetime figure was found for these pools.",
        unit="fraction of EAD",
        gt=0,
        le=1,
    )

    @model_validator(mode="after")
    def _check_share(self) -> CurveSettings:
        share = self.share_12m
        if not 12 / self.max_month < share < 1:
            raise ValueError(
                f"recovery_12m_rate / lifetime_recovery_rate = {share:.4f} must lie in "
                f"({12 / self.max_month:.4f}, 1) for a front-loaded curve over {self.max_month} months; "
                "raise lifetime_recovery_rate or lower recovery_12m_rate."
            )
        return self

    @property
    def share_12m(self) -> float:
        """Share of lifetime recovery received in the first 12 months."""
        return self.recovery_12m_rate / self.lifetime_recovery_rate

    def assumptions(self) -> list[dict[str, object]]:
        """Return every parameter with its value, unit, source and tag (for run.json)."""
        return assumption_rows(self, prefix="curve.")


def _exponential_rate(share_12m: float, max_month: int) -> float:
    """Solve ``(1 - exp(-12 lam)) / (1 - exp(-max_month lam)) = share_12m`` for ``lam > 0``."""

    def gap(lam: float) -> float:
        return -math.expm1(-12 * lam) / -math.expm1(-max_month * lam) - share_12m

    return float(brentq(gap, 1e-9, 50.0, xtol=1e-14))


class RecoveryCurve:
    """Share of lifetime recovery by month after default, fitted or configured.

    Parameters
    ----------
    max_month : int, default 60
        Last development month; recoveries recorded later count in this month.
    cohort : {"month", "quarter", "year"}, default "quarter"
        Period that groups loans by default date into the rows (origins) of
        the development triangle.
    tail : float or "exponential", default 1.0
        Development factor beyond ``max_month``. A number >= 1 is used as
        given; ``"exponential"`` fits ``log(f[k] - 1)`` linearly in ``k``
        and multiplies the extrapolated factors over 100 more months. The
        tail's share of lifetime recovery is received in month ``max_month``
        (recoveries after ``max_month`` count there), so the marginals still
        sum to 1.
    band_level : float, default 0.90
        Two-sided confidence level of ``bands_``.
    min_cohort_loans : int, default 1
        Cohorts with fewer loans are *sparse*: they are left out of the link
        ratios and Mack's sigmas (one loan's timing would steer a link) but
        are still completed and counted in ``recovery_rate_by_month_``.
        ``cohorts_`` flags them.
    recovery_cap : float, default 1.0
        Largest cumulative recovery of one loan, as a fraction of its EAD.
        Cash beyond it is cut from the loan's latest months (the earliest
        cash is kept); ``n_capped_`` and ``capped_amount_`` report it.

    Attributes
    ----------
    curve_ : polars.DataFrame
        ``month`` (1..max_month), ``marginal``, ``cumulative``, ``source``.
    recovery_rate_by_month_ : polars.DataFrame
        ``month``, ``recovery_rate`` (pooled cumulative recovered / EAD by the
        end of the month, immature cohorts completed by the chain ladder) and
        ``observed_ead_share`` (share of EAD in cohorts observed that far).
        For a configured curve ``recovery_rate`` is
        ``lifetime_recovery_rate * cumulative`` and ``observed_ead_share`` is 0.
    triangle_ : polars.DataFrame
        Observed cells: ``cohort``, ``month``, ``cumulative_amount``, ``ead``,
        ``cumulative_rate``. Empty for a configured curve.
    ldf_ : polars.DataFrame
        Volume-weighted link ratios ``month`` -> ``month + 1`` (``ldf``) and
        the cumulative factor to ``max_month`` (``cdf``). Empty for a
        configured curve.
    source_ : str
        ``"empirical"`` or ``"configured"``.
    n_loans_ : int
        Loans in the triangle (fit) or 0 (configured).
    n_lifetime_only_, n_undated_, n_unmatched_outcomes_ : int
        Loans with a lifetime outcome row, loans without a default date, and
        outcome rows of loans missing from the loans table, all left out.
    mack_ : MackResult or None
        Mack chain ladder on the cohort triangle (amounts in the loans'
        currency); None for a configured curve, or when a link ratio is
        undefined (nothing recovered by a month in every cohort observed then).
    bands_ : polars.DataFrame
        ``month``, ``cumulative`` with ``cumulative_low`` and
        ``cumulative_high``, ``recovery_rate`` with ``recovery_rate_low`` and
        ``recovery_rate_high``, at ``band_level``. Bands collapse to the
        curve where no uncertainty is estimated (configured curve, no Mack).
    cohorts_ : polars.DataFrame
        One row per cohort: ``loans``, ``ead``, ``maturity`` (months
        observed), ``observed_cells``, ``projected_cells`` (cells filled by
        the completion, never silently), ``sparse`` and ``completion``
        (``observed``, ``chain_ladder`` or ``bornhuetter_ferguson``).
    n_capped_ : int
        Loans whose recoveries exceeded ``recovery_cap`` times EAD.
    capped_amount_ : float
        Cash cut by the cap, summed over loans (mixed currencies are summed as
        numbers, so read it per currency when a tape mixes them).
    tail_ : float
        Tail factor used.

    Notes
    -----
    Method of :meth:`fit` (chain ladder on recovered amounts):

    1. Each loan is observed for ``maturity`` whole months from its default
       date to the cut-off date. A cohort's maturity is the smallest maturity
       of its loans, so each of its observed cells is complete.
    2. Cumulative recovered amounts ``C[c, k]`` fill the cohort x month
       triangle for ``k <= maturity[c]``.
    3. Link ratio ``f[k] = sum C[c, k + 1] / sum C[c, k]`` over the cohorts
       observed at ``k + 1`` (volume-weighted chain ladder). A link that no
       cohort has reached gets 1 (no further recovery assumed past the oldest
       cohort's development). A link whose denominator is 0 but numerator is
       positive gets an infinite factor: nothing was recovered by month k.
    4. Cumulative share ``F[k] = 1 / (prod(f[k:]) * tail)`` below
       ``max_month`` and ``F[max_month] = 1``; ``marginal = diff(F)``.
       Immature cohorts enter only the links they have reached, so they do
       not pull the curve down. Volume-weighted ratios of non-negative
       cumulative amounts are >= 1, so ``F`` is non-decreasing and in [0, 1].
    5. ``recovery_rate_by_month_`` completes each cohort to ``max_month`` by
       ``C[c, k] = C[c, m] * F[k] / F[m]`` (``m`` its maturity). A cohort
       with ``F[m] = 0`` (or no observed month) gets the Bornhuetter-Ferguson
       completion ``C[c, m] + u * EAD[c] * (F[k] - F[m])``, with ``u`` the
       pooled ultimate rate of the other cohorts.
    6. Mack's standard errors (:mod:`sanhua.value.mack`) give the bands.
       ``cumulative`` is bounded by the parameter error of the link ratios,
       ``F[k] * exp(+-z * sqrt(sum_{j >= k} (se(f[j]) / f[j]) ** 2))``;
       ``recovery_rate`` by the Mack standard error of the total, spread over
       the months in proportion to the amount projected by each month. Both
       are clipped to [0, 1] (rates to ``[0, recovery_cap]``) and made
       non-decreasing by a running maximum. NOTE: the spread of the total
       error over months is an approximation; only the ultimate's error is
       Mack's.

    NOTE: outcomes are assumed complete from month 1 for every loan in the
    triangle. Recoveries that a tape leaves out before a loan's
    ``as_of_date`` count as zero (left truncation is not corrected).
    Loans whose outcomes include a lifetime row (``month`` null) are left out
    of the triangle because their timing is unknown.
    """

    def __init__(
        self,
        max_month: int = 60,
        cohort: Literal["month", "quarter", "year"] = "quarter",
        *,
        tail: float | Literal["exponential"] = 1.0,
        band_level: float = 0.90,
        min_cohort_loans: int = 1,
        recovery_cap: float = 1.0,
    ) -> None:
        self.max_month = max_month
        self.cohort = cohort
        self.tail = tail
        self.band_level = band_level
        self.min_cohort_loans = min_cohort_loans
        self.recovery_cap = recovery_cap

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        if isinstance(self.max_month, bool) or not isinstance(self.max_month, int | np.integer) or not 1 <= self.max_month <= 600:
            raise ConfigError(f"RecoveryCurve: max_month must be an integer in [1, 600], got {self.max_month!r}.")
        if self.cohort not in _COHORT_EVERY:
            raise ConfigError(f"RecoveryCurve: cohort must be one of {sorted(_COHORT_EVERY)}, got {self.cohort!r}.")
        if self.tail != "exponential" and (
            isinstance(self.tail, bool) or not isinstance(self.tail, int | float) or not math.isfinite(self.tail) or self.tail < 1
        ):
            raise ConfigError(f"RecoveryCurve: tail must be a number >= 1 or 'exponential', got {self.tail!r}.")
        if not isinstance(self.band_level, int | float) or not 0 < self.band_level < 1:
            raise ConfigError(f"RecoveryCurve: band_level must lie in (0, 1), got {self.band_level!r}.")
        if isinstance(self.min_cohort_loans, bool) or not isinstance(self.min_cohort_loans, int) or self.min_cohort_loans < 1:
            raise ConfigError(f"RecoveryCurve: min_cohort_loans must be an integer >= 1, got {self.min_cohort_loans!r}.")
        if not isinstance(self.recovery_cap, int | float) or not math.isfinite(self.recovery_cap) or self.recovery_cap <= 0:
            raise ConfigError(f"RecoveryCurve: recovery_cap must be a positive fraction of EAD, got {self.recovery_cap!r}.")

    def _check_inputs(self, outcomes: pl.DataFrame, loans: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Validate both tables; return them without undated loans and without outcomes of unknown loans."""
        require_columns(loans, ["loan_id", "exposure_at_default", "default_date", "as_of_date"], f"{_STAGE} (loans)")
        require_columns(outcomes, ["loan_id", "month", "amount"], f"{_STAGE} (outcomes)")

        for name in ("default_date", "as_of_date"):
            if loans.schema[name] not in (pl.Date, pl.Null):
                raise InputDataError(
                    f"{_STAGE} (loans): column {name!r} must be a Date, got {loans.schema[name]}. Parse it before fitting."
                )
        check_no_nulls(loans, ["loan_id"], f"{_STAGE} (loans)")
        check_non_negative(loans, ["exposure_at_default"], f"{_STAGE} (loans)")

        duplicated = loans.select(pl.col("loan_id").is_duplicated().sum()).item()
        if duplicated:
            example = loans.filter(pl.col("loan_id").is_duplicated())["loan_id"][0]
            raise InputDataError(
                f"{_STAGE} (loans): {duplicated} row(s) share a loan_id, for example {example!r}. "
                "Give one row per loan."
            )

        if not outcomes.schema["month"].is_integer() and outcomes.schema["month"] != pl.Null:
            raise InputDataError(
                f"{_STAGE} (outcomes): column 'month' must be an integer (months after default), got {outcomes.schema['month']}."
            )
        check_no_nulls(outcomes, ["loan_id"], f"{_STAGE} (outcomes)")
        check_non_negative(outcomes, ["amount"], f"{_STAGE} (outcomes)")
        check_non_negative(outcomes.filter(pl.col("month").is_not_null()), ["month"], f"{_STAGE} (outcomes)")

        # Loans without a default date cannot be placed in the triangle, and outcomes of
        # loans missing from the loans table (for example quarantined rows) have no EAD.
        undated = loans.filter(pl.col("default_date").is_null())
        self.n_undated_ = undated.height
        if undated.height:
            logger.warning(
                "recovery curve: %d loan(s) without default_date left out, for example loan_id %r",
                undated.height,
                undated["loan_id"][0],
            )
            loans = loans.filter(pl.col("default_date").is_not_null())

        unknown = outcomes.join(loans.select("loan_id"), on="loan_id", how="anti")
        self.n_unmatched_outcomes_ = unknown.height
        if unknown.height == outcomes.height and outcomes.height:
            raise InputDataError(
                f"{_STAGE} (outcomes): none of the {outcomes.height} row(s) names a dated loan of the loans table, "
                f"for example loan_id {unknown['loan_id'][0]!r}. Pass the loans table that the outcomes belong to."
            )
        if unknown.height:
            logger.warning(
                "recovery curve: %d outcome row(s) of loans missing from the loans table (or undated) left out, "
                "for example loan_id %r",
                unknown.height,
                unknown["loan_id"][0],
            )
            outcomes = outcomes.join(loans.select("loan_id"), on="loan_id", how="semi")

        return outcomes, loans

    def fit(self, outcomes: pl.DataFrame, loans: pl.DataFrame, cutoff_date: date | None = None) -> RecoveryCurve:
        """Fit the empirical curve by the chain ladder on a cohort x month triangle.

        Parameters
        ----------
        outcomes : polars.DataFrame
            ``loan_id``, ``month`` (whole months after default, integer;
            null for a lifetime total of unknown timing) and ``amount``
            (cash recovered, non-negative, in the loan's currency).
        loans : polars.DataFrame
            One row per loan: ``loan_id``, ``exposure_at_default`` (EAD,
            non-negative), ``default_date`` and ``as_of_date`` (Date). Loans
            without outcome rows recovered nothing and count in the EAD.
            Loans without ``default_date`` are left out (``n_undated_``),
            and so are outcome rows of loans that are not in this table
            (``n_unmatched_outcomes_``, for example quarantined loans); both
            are logged as warnings.
        cutoff_date : datetime.date or None
            Latest date at which recoveries were observed. None takes the
            latest of every ``as_of_date`` and every outcome's month end
            (default date plus ``month`` months).

        Returns
        -------
        RecoveryCurve
            ``self``, fitted.

        Raises
        ------
        InputDataError
            Missing or invalid columns, duplicated loans, no outcome row of a
            dated loan in ``loans``, or an outcome recorded after
            ``cutoff_date``.
        ModelError
            No loan has monthly outcomes, or nothing was recovered.
        """
        started = time.perf_counter()
        self._check_params()
        outcomes, loans = self._check_inputs(outcomes, loans)
        max_month = int(self.max_month)

        timed_loans = loans.select(
            pl.col("loan_id"),
            pl.col("exposure_at_default").cast(pl.Float64).alias("ead"),
            pl.col("default_date"),
            pl.col("default_date").dt.truncate(_COHORT_EVERY[self.cohort]).alias("cohort"),
        )
        lifetime_ids = outcomes.filter(pl.col("month").is_null()).select("loan_id").unique()
        monthly = outcomes.filter(pl.col("month").is_not_null()).select(
            "loan_id", pl.col("month").cast(pl.Int32), pl.col("amount").cast(pl.Float64)
        )
        n_excluded = lifetime_ids.height
        timed_loans = timed_loans.join(lifetime_ids, on="loan_id", how="anti")
        monthly = monthly.join(lifetime_ids, on="loan_id", how="anti")
        if monthly.height == 0:
            raise ModelError(
                f"{_STAGE}: no loan has monthly outcomes ({n_excluded} loan(s) have only lifetime totals). "
                "Use RecoveryCurve.configured(CurveSettings(...)) for tapes without recovery timing."
            )

        monthly = monthly.join(timed_loans.select("loan_id", "default_date"), on="loan_id")
        latest_outcome = monthly.select(pl.col("default_date").dt.offset_by(pl.format("{}mo", pl.col("month"))).max()).item()
        if cutoff_date is None:
            latest_as_of = loans["as_of_date"].max()
            cutoff_date = latest_outcome if latest_as_of is None else max(latest_as_of, latest_outcome)
        elif latest_outcome > cutoff_date:
            late = monthly.filter(pl.col("default_date").dt.offset_by(pl.format("{}mo", pl.col("month"))) > cutoff_date)
            raise InputDataError(
                f"{_STAGE} (outcomes): {late.height} row(s) fall after the cut-off date {cutoff_date}, "
                f"for example loan_id {late['loan_id'][0]!r} month {late['month'][0]}. "
                "Pass the date the outcomes were extracted as cutoff_date."
            )

        timed_loans = timed_loans.with_columns(
            months_between(pl.col("default_date"), pl.lit(cutoff_date)).clip(0, max_month).alias("maturity")
        )
        if timed_loans.select((pl.col("default_date") > cutoff_date).any()).item():
            raise InputDataError(
                f"{_STAGE} (loans): some default_date values fall after the cut-off date {cutoff_date}. "
                "Drop loans that had not defaulted by the cut-off."
            )

        monthly = self._cap_recoveries(monthly, timed_loans)
        self._fit_triangle(timed_loans, monthly, max_month)
        self.source_ = "empirical"
        self.cutoff_date_ = cutoff_date
        self.n_loans_ = timed_loans.height
        self.n_lifetime_only_ = n_excluded
        self._settings: CurveSettings | None = None
        self._saved_assumptions: list[dict[str, object]] | None = None

        logger.info(
            "recovery curve: fitted on %d loans in %d cohorts (%d loans with lifetime-only outcomes left out), "
            "cut-off %s, %.3f s",
            self.n_loans_,
            self.triangle_["cohort"].n_unique(),
            n_excluded,
            cutoff_date,
            time.perf_counter() - started,
        )
        return self

    def _cap_recoveries(self, monthly: pl.DataFrame, timed_loans: pl.DataFrame) -> pl.DataFrame:
        """Cut each loan's cash beyond ``recovery_cap * EAD``, latest months first; record what was cut."""
        capped = (
            monthly.join(timed_loans.select("loan_id", "ead"), on="loan_id")
            .sort("loan_id", "month")
            .with_columns((pl.col("ead") * self.recovery_cap).alias("_cap"))
            .with_columns(pl.col("amount").cum_sum().over("loan_id").alias("_cumulative"))
            .with_columns(
                (
                    pl.min_horizontal("_cumulative", "_cap")
                    - pl.min_horizontal(pl.col("_cumulative") - pl.col("amount"), pl.col("_cap"))
                ).alias("_kept")
            )
        )
        over = capped.filter(pl.col("_kept") < pl.col("amount") - 1e-9)
        self.n_capped_ = int(over["loan_id"].n_unique())
        self.capped_amount_ = float((over["amount"] - over["_kept"]).sum())
        if self.n_capped_:
            logger.warning(
                "recovery curve: %d loan(s) recovered more than %.2f x EAD; %.2f of cash cut from their latest months",
                self.n_capped_,
                self.recovery_cap,
                self.capped_amount_,
            )
        return capped.select("loan_id", "month", pl.col("_kept").alias("amount"), "default_date")

    def _tail_factor(self, ldf: np.ndarray) -> float:
        if self.tail == "exponential":
            return exponential_tail(ldf[np.isfinite(ldf)])
        return float(self.tail)

    def _fit_triangle(self, timed_loans: pl.DataFrame, monthly: pl.DataFrame, max_month: int) -> None:
        cohorts = (
            timed_loans.group_by("cohort")
            .agg(pl.col("ead").sum(), pl.col("maturity").min(), pl.len().alias("loans"))
            .sort("cohort")
        )
        n_cohorts = cohorts.height
        index = cohorts.with_row_index("row").select("cohort", "row")

        cells = (
            monthly.join(timed_loans.select("loan_id", "cohort"), on="loan_id")
            .with_columns(pl.col("month").clip(1, max_month))
            .group_by("cohort", "month")
            .agg(pl.col("amount").sum())
            .join(index, on="cohort")
        )
        increments = np.zeros((n_cohorts, max_month))
        np.add.at(increments, (cells["row"].to_numpy(), cells["month"].to_numpy() - 1), cells["amount"].to_numpy())
        cumulative = np.cumsum(increments, axis=1)

        ead = cohorts["ead"].to_numpy()
        maturity = cohorts["maturity"].to_numpy()
        sparse = cohorts["loans"].to_numpy() < self.min_cohort_loans
        observed = np.arange(1, max_month + 1)[None, :] <= maturity[:, None]
        if sparse.any():
            logger.warning(
                "recovery curve: %d of %d cohort(s) have fewer than %d loans; they are left out of the link ratios",
                int(sparse.sum()),
                n_cohorts,
                self.min_cohort_loans,
            )

        ldf = np.ones(max_month - 1)
        for k in range(1, max_month):
            reached = (maturity >= k + 1) & ~sparse
            numerator = cumulative[reached, k].sum()
            denominator = cumulative[reached, k - 1].sum()
            if denominator > 0:
                ldf[k - 1] = numerator / denominator
            elif numerator > 0:
                ldf[k - 1] = np.inf

        tail = self._tail_factor(ldf)
        cdf = np.append(np.cumprod(ldf[::-1])[::-1], 1.0) * np.append(np.full(max_month - 1, tail), 1.0)
        share = np.where(np.isinf(cdf), 0.0, 1.0 / cdf)
        if not np.any(cumulative[observed] > 0):
            raise ModelError(
                f"{_STAGE}: nothing was recovered in any observed cell of the triangle, so the timing is undefined. "
                "Use RecoveryCurve.configured(CurveSettings(...))."
            )

        marginal = np.diff(share, prepend=0.0)
        months = np.arange(1, max_month + 1, dtype=np.int32)
        self.curve_ = pl.DataFrame(
            {"month": months, "marginal": marginal, "cumulative": share, "source": ["empirical"] * max_month}
        )
        self.ldf_ = pl.DataFrame({"month": months, "ldf": np.append(ldf, 1.0), "cdf": cdf})

        completed = self._complete(cumulative, ead, maturity, share)
        total_ead = ead.sum()
        rate = completed.sum(axis=0) / total_ead if total_ead > 0 else np.zeros(max_month)
        observed_share = (observed * ead[:, None]).sum(axis=0) / total_ead if total_ead > 0 else np.zeros(max_month)
        self.recovery_rate_by_month_ = pl.DataFrame(
            {"month": months, "recovery_rate": rate, "observed_ead_share": observed_share}
        )

        self.tail_ = tail
        self.mack_ = self._mack(cumulative, maturity, sparse, tail)
        self.bands_ = self._bands(share, rate, completed, cumulative, observed, total_ead)
        completion = np.where(
            maturity >= max_month,
            "observed",
            np.where(np.where(maturity >= 1, share[np.clip(maturity - 1, 0, None)], 0.0) > 0, "chain_ladder", "bornhuetter_ferguson"),
        )
        self.cohorts_ = pl.DataFrame(
            {
                "cohort": cohorts["cohort"],
                "loans": cohorts["loans"].cast(pl.UInt32),
                "ead": ead,
                "maturity": maturity.astype(np.int32),
                "observed_cells": observed.sum(axis=1).astype(np.int32),
                "projected_cells": (~observed).sum(axis=1).astype(np.int32),
                "sparse": sparse,
                "completion": completion,
            },
            schema=_COHORTS_SCHEMA,
        )

        rows, cols = np.nonzero(observed)
        self.triangle_ = pl.DataFrame(
            {
                "cohort": cohorts["cohort"].gather(rows),
                "month": months[cols],
                "cumulative_amount": cumulative[rows, cols],
                "ead": ead[rows],
                "cumulative_rate": np.divide(
                    cumulative[rows, cols], ead[rows], out=np.zeros(rows.size), where=ead[rows] > 0
                ),
            }
        )

    def _mack(self, cumulative: np.ndarray, maturity: np.ndarray, sparse: np.ndarray, tail: float) -> MackResult | None:
        """Run Mack's chain ladder on the non-sparse cohorts observed at least one month; None when undefined."""
        usable = (maturity >= 1) & ~sparse
        if usable.sum() < 1 or cumulative.shape[1] < 2:
            return None

        months = np.arange(1, cumulative.shape[1] + 1)
        triangle = np.where(months[None, :] <= maturity[usable, None], cumulative[usable], np.nan)
        order = np.argsort(-maturity[usable], kind="stable")
        try:
            return mack_chain_ladder(triangle[order], tail=tail)
        except ModelError as error:
            logger.warning("recovery curve: Mack standard errors not computed (%s); bands collapse to the curve", error)
            return None

    def _bands(
        self,
        share: np.ndarray,
        rate: np.ndarray,
        completed: np.ndarray,
        cumulative: np.ndarray,
        observed: np.ndarray,
        total_ead: float,
    ) -> pl.DataFrame:
        """Confidence bands of the cumulative share and of the pooled recovery rate (see Notes, step 6)."""
        max_month = share.size
        z = float(norm.ppf(0.5 + self.band_level / 2))
        mack = self.mack_
        if mack is None:
            share_sd = np.zeros(max_month)
            rate_sd = np.zeros(max_month)
        else:
            relative = np.divide(mack.ldf_se, mack.ldf, out=np.zeros_like(mack.ldf_se), where=mack.ldf > 0)
            share_sd = np.append(np.sqrt(np.cumsum((relative**2)[::-1])[::-1]), 0.0)
            projected = (completed - np.where(observed, cumulative, 0.0) * observed).sum(axis=0)
            projected = np.where(observed.all(axis=0), 0.0, projected)
            weight = projected / projected[-1] if projected[-1] > 0 else np.zeros(max_month)
            rate_sd = mack.total_mack_se * weight / total_ead if total_ead > 0 else np.zeros(max_month)

        share_low = np.maximum.accumulate(np.clip(share * np.exp(-z * share_sd), 0.0, 1.0))
        share_high = np.maximum.accumulate(np.clip(share * np.exp(z * share_sd), 0.0, 1.0))
        rate_low = np.maximum.accumulate(np.clip(rate - z * rate_sd, 0.0, self.recovery_cap))
        rate_high = np.maximum.accumulate(np.clip(rate + z * rate_sd, 0.0, self.recovery_cap))
        return pl.DataFrame(
            {
                "month": np.arange(1, max_month + 1, dtype=np.int32),
                "cumulative": share,
                "cumulative_low": np.minimum(share_low, share),
                "cumulative_high": np.maximum(share_high, share),
                "recovery_rate": rate,
                "recovery_rate_low": np.minimum(rate_low, rate),
                "recovery_rate_high": np.maximum(rate_high, rate),
            },
            schema=_BANDS_SCHEMA,
        )

    @staticmethod
    def _complete(cumulative: np.ndarray, ead: np.ndarray, maturity: np.ndarray, share: np.ndarray) -> np.ndarray:
        """Complete each cohort's cumulative amounts to max_month (chain ladder, BF where the ratio is undefined)."""
        n_cohorts, max_month = cumulative.shape
        months = np.arange(1, max_month + 1)
        latest_col = np.clip(maturity - 1, 0, None)
        latest = np.where(maturity >= 1, cumulative[np.arange(n_cohorts), latest_col], 0.0)
        share_at_latest = np.where(maturity >= 1, share[latest_col], 0.0)

        ratio_ok = share_at_latest > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            chain = latest[:, None] * share[None, :] / share_at_latest[:, None]
        ultimate_ok = chain[ratio_ok, -1].sum()
        prior_rate = ultimate_ok / ead[ratio_ok].sum() if ead[ratio_ok].sum() > 0 else 0.0
        bf = latest[:, None] + prior_rate * ead[:, None] * (share[None, :] - share_at_latest[:, None])

        projected = np.where(ratio_ok[:, None], chain, bf)
        observed = months[None, :] <= maturity[:, None]
        return np.where(observed, cumulative, projected)

    # ---------------------------------------------------------- configured

    @classmethod
    def configured(cls, settings: CurveSettings | None = None) -> RecoveryCurve:
        """Build the parametric curve of ``settings`` for tapes with no monthly outcomes.

        Parameters
        ----------
        settings : CurveSettings or None
            Shape parameters; defaults when None.

        Returns
        -------
        RecoveryCurve
            A fitted curve with ``source_ == "configured"``. Its parameters
            are returned by :meth:`assumptions` for the run record.
        """
        settings = settings if settings is not None else CurveSettings()
        max_month = settings.max_month
        lam = _exponential_rate(settings.share_12m, max_month)

        months = np.arange(1, max_month + 1)
        share = -np.expm1(-lam * months) / -math.expm1(-lam * max_month)
        share[-1] = 1.0
        marginal = np.diff(share, prepend=0.0)

        curve = cls(max_month=max_month)
        curve.curve_ = pl.DataFrame(
            {
                "month": months.astype(np.int32),
                "marginal": marginal,
                "cumulative": share,
                "source": ["configured"] * max_month,
            }
        )
        curve.recovery_rate_by_month_ = pl.DataFrame(
            {
                "month": months.astype(np.int32),
                "recovery_rate": settings.lifetime_recovery_rate * share,
                "observed_ead_share": np.zeros(max_month),
            }
        )
        curve.triangle_ = pl.DataFrame(schema=_TRIANGLE_SCHEMA)
        curve.ldf_ = pl.DataFrame(schema=_LDF_SCHEMA)
        curve.source_ = "configured"
        curve.cutoff_date_ = None
        curve.n_loans_ = 0
        curve.n_lifetime_only_ = 0
        curve.n_undated_ = 0
        curve.n_unmatched_outcomes_ = 0
        curve._settings = settings
        curve._saved_assumptions = None
        curve.rate_ = lam
        curve._set_no_uncertainty(settings.lifetime_recovery_rate * share)

        logger.info(
            "recovery curve: configured exponential shape, %.1f%% of lifetime recovery by month 12, max_month %d",
            100 * settings.share_12m,
            max_month,
        )
        return curve

    @classmethod
    def from_lifetime(
        cls,
        outcomes: pl.DataFrame,
        loans: pl.DataFrame,
        settings: CurveSettings | None = None,
        *,
        recovery_cap: float = 1.0,
    ) -> RecoveryCurve:
        """Build a curve whose level comes from lifetime recoveries and whose shape is configured.

        For tapes such as LendingClub that record one lifetime recovery per
        loan and no timing. The pooled rate ``sum(min(recovered, cap * EAD)) /
        sum(EAD)`` replaces ``lifetime_recovery_rate`` in
        ``recovery_rate_by_month_``; the marginals are those of
        :meth:`configured`. ``source_`` is ``"lifetime_level_configured_shape"``
        so the report can say that the timing is an assumption.

        Parameters
        ----------
        outcomes : polars.DataFrame
            ``loan_id``, ``month`` (null for lifetime rows; monthly rows are
            summed too) and ``amount`` (>= 0).
        loans : polars.DataFrame
            ``loan_id`` and ``exposure_at_default`` (>= 0). Loans without
            outcome rows recovered nothing.
        settings : CurveSettings or None
            Shape parameters; defaults when None.
        recovery_cap : float, default 1.0
            Largest lifetime recovery per loan as a fraction of its EAD; the
            excess is cut and counted in ``n_capped_`` and ``capped_amount_``.

        Returns
        -------
        RecoveryCurve

        Raises
        ------
        InputDataError
            A column is missing, an amount is negative, or the EAD sums to 0.
        """
        stage = f"{_STAGE} (lifetime level)"
        require_columns(loans, ["loan_id", "exposure_at_default"], stage)
        require_columns(outcomes, ["loan_id", "amount"], stage)
        check_non_negative(loans, ["exposure_at_default"], stage)
        check_non_negative(outcomes, ["amount"], stage)
        if not math.isfinite(recovery_cap) or recovery_cap <= 0:
            raise ConfigError(f"{stage}: recovery_cap must be a positive fraction of EAD, got {recovery_cap!r}.")

        per_loan = (
            loans.select("loan_id", pl.col("exposure_at_default").cast(pl.Float64).alias("ead"))
            .join(outcomes.group_by("loan_id").agg(pl.col("amount").cast(pl.Float64).sum()), on="loan_id", how="left")
            .with_columns(pl.col("amount").fill_null(0.0))
            .with_columns(pl.min_horizontal("amount", pl.col("ead") * recovery_cap).alias("kept"))
        )
        total_ead = float(per_loan["ead"].sum())
        if total_ead <= 0:
            raise InputDataError(f"{stage}: exposure_at_default sums to 0 over {loans.height} loan(s); nothing to level the curve on.")

        level = float(per_loan["kept"].sum()) / total_ead
        curve = cls.configured(settings)
        share = curve.curve_["cumulative"].to_numpy()
        curve.curve_ = curve.curve_.with_columns(pl.lit("lifetime_level_configured_shape").alias("source"))
        curve.recovery_rate_by_month_ = curve.recovery_rate_by_month_.with_columns(pl.Series("recovery_rate", level * share))
        curve.source_ = "lifetime_level_configured_shape"
        curve.n_loans_ = per_loan.height
        curve.lifetime_level_ = level
        curve._set_no_uncertainty(level * share)
        over = per_loan.filter(pl.col("amount") > pl.col("kept"))
        curve.n_capped_ = over.height
        curve.capped_amount_ = float((over["amount"] - over["kept"]).sum())
        if curve.n_capped_:
            logger.warning(
                "recovery curve: %d loan(s) recovered more than %.2f x EAD over their lifetime; %.2f cut",
                curve.n_capped_,
                recovery_cap,
                curve.capped_amount_,
            )
        logger.info(
            "recovery curve: lifetime level %.4f of EAD from %d loans, timing from the configured shape", level, per_loan.height
        )
        return curve

    @classmethod
    def from_table(cls, table: pl.DataFrame, assumptions: list[dict[str, object]] | None = None) -> RecoveryCurve:
        """Rebuild a fitted curve from a saved ``curve_`` table (for example a model folder's JSON).

        Parameters
        ----------
        table : polars.DataFrame
            ``month`` (1 .. max_month, consecutive), ``marginal`` (>= 0,
            summing to 1) and optionally ``source``; ``cumulative`` is
            recomputed from the marginals.
        assumptions : list of dict or None
            The records :meth:`assumptions` returned when the curve was saved.

        Returns
        -------
        RecoveryCurve
            A curve usable for :meth:`pv_factor` and :meth:`expected_months`;
            its triangle, link ratios and recovery rates are empty.

        Raises
        ------
        ModelError
            The table lacks a column, its months are not 1 .. n, or its
            marginals are negative or do not sum to 1 (tolerance 1e-6).
        """
        missing = [name for name in ("month", "marginal") if name not in table.columns]
        if missing:
            raise ModelError(f"{_STAGE}: saved curve table lacks column(s) {missing}; refit the curve.")

        table = table.sort("month")
        months = table["month"].cast(pl.Int64).to_numpy()
        marginal = table["marginal"].cast(pl.Float64).to_numpy()
        if months.size == 0 or not np.array_equal(months, np.arange(1, months.size + 1)):
            raise ModelError(f"{_STAGE}: saved curve months must run 1 .. n without gaps; refit the curve.")
        if np.isnan(marginal).any() or (marginal < 0).any() or abs(marginal.sum() - 1.0) > 1e-6:
            raise ModelError(
                f"{_STAGE}: saved curve marginals must be >= 0 and sum to 1, got sum {marginal.sum():.6f}; refit the curve."
            )

        source = str(table["source"][0]) if "source" in table.columns else "saved"
        curve = cls(max_month=int(months.size))
        curve.curve_ = pl.DataFrame(
            {
                "month": months.astype(np.int32),
                "marginal": marginal,
                "cumulative": np.minimum(np.cumsum(marginal), 1.0),
                "source": [source] * months.size,
            }
        )
        curve.recovery_rate_by_month_ = pl.DataFrame(
            schema={"month": pl.Int32, "recovery_rate": pl.Float64, "observed_ead_share": pl.Float64}
        )
        curve.triangle_ = pl.DataFrame(schema=_TRIANGLE_SCHEMA)
        curve.ldf_ = pl.DataFrame(schema=_LDF_SCHEMA)
        curve.source_ = source
        curve.cutoff_date_ = None
        curve.n_loans_ = 0
        curve.n_lifetime_only_ = 0
        curve.n_undated_ = 0
        curve.n_unmatched_outcomes_ = 0
        curve._settings = None
        curve._saved_assumptions = list(assumptions or [])
        curve._set_no_uncertainty(np.full(months.size, np.nan))
        return curve

    def _set_no_uncertainty(self, recovery_rate: np.ndarray) -> None:
        """Set the fitted attributes that only a triangle fills: no Mack result, bands equal to the curve."""
        share = self.curve_["cumulative"].to_numpy()
        self.mack_ = None
        self.tail_ = 1.0
        self.n_capped_ = 0
        self.capped_amount_ = 0.0
        self.cohorts_ = pl.DataFrame(schema=_COHORTS_SCHEMA)
        self.bands_ = pl.DataFrame(
            {
                "month": self.curve_["month"],
                "cumulative": share,
                "cumulative_low": share,
                "cumulative_high": share,
                "recovery_rate": recovery_rate,
                "recovery_rate_low": recovery_rate,
                "recovery_rate_high": recovery_rate,
            },
            schema=_BANDS_SCHEMA,
        )

    # -------------------------------------------------------------- use

    def _check_fitted(self) -> np.ndarray:
        if not hasattr(self, "curve_"):
            raise NotFittedError(
                "This RecoveryCurve is not fitted: call fit(outcomes, loans) or build it with RecoveryCurve.configured(settings)."
            )
        return self.curve_["marginal"].to_numpy()

    @staticmethod
    def _elapsed(months_since_default: np.ndarray | pl.Series | float | int, max_month: int) -> np.ndarray:
        if isinstance(months_since_default, pl.Series):
            if months_since_default.null_count():
                raise InputDataError(
                    f"{_STAGE}: months_since_default has {months_since_default.null_count()} null value(s); "
                    "fill them (for example from dpd or the default date) first."
                )
            values = months_since_default.cast(pl.Float64).to_numpy()
        else:
            values = np.atleast_1d(np.asarray(months_since_default, dtype=float))

        if np.isnan(values).any():
            raise InputDataError(f"{_STAGE}: months_since_default has {int(np.isnan(values).sum())} NaN value(s).")
        if (values < 0).any():
            raise InputDataError(
                f"{_STAGE}: months_since_default must be >= 0, got {int((values < 0).sum())} negative value(s) "
                f"(smallest {values.min():.2f}); check default_date against as_of_date."
            )
        return np.minimum(np.floor(values), max_month).astype(np.int64)

    def pv_factor(self, discount_rate: float, months_since_default: np.ndarray | pl.Series | float | int) -> np.ndarray:
        """Present value of one unit of a loan's remaining lifetime recovery.

        Parameters
        ----------
        discount_rate : float
            Annual rate, compounded monthly: a unit ``n`` months ahead is
            worth ``(1 + discount_rate / 12) ** -n``. Must be >= 0.
        months_since_default : array-like of float
            Months already elapsed since default, one per loan, >= 0.
            Fractions are floored to whole months.

        Returns
        -------
        numpy.ndarray
            One factor per loan in (0, 1]; 1 at ``discount_rate`` 0.
            For elapsed months ``s`` the curve is renormalised over the months
            after ``s``: ``sum_k m[k] v**(k - s) / sum_k m[k]`` over ``k > s``.
            When no recovery remains on the curve (``s`` at or past its last
            month with recovery) the remaining recovery is assumed to arrive
            in the next month, ``v ** 1``.
        """
        marginal = self._check_fitted()
        table = self._remaining_table(marginal, discount_rate, kind="pv")
        return table[self._elapsed(months_since_default, marginal.size)]

    def expected_months(self, months_since_default: np.ndarray | pl.Series | float | int = 0) -> np.ndarray:
        """Mean time in months until the remaining lifetime recovery arrives.

        Parameters
        ----------
        months_since_default : array-like of float, default 0
            Months already elapsed since default, one per loan, >= 0.

        Returns
        -------
        numpy.ndarray
            ``sum_k m[k] (k - s) / sum_k m[k]`` over ``k > s``; 1 where no
            recovery remains on the curve (the same tail as :meth:`pv_factor`).
        """
        marginal = self._check_fitted()
        table = self._remaining_table(marginal, 0.0, kind="months")
        return table[self._elapsed(months_since_default, marginal.size)]

    @staticmethod
    def _remaining_table(marginal: np.ndarray, discount_rate: float, kind: Literal["pv", "months"]) -> np.ndarray:
        """Tabulate the renormalised remaining-curve statistic for s = 0 .. max_month."""
        if not isinstance(discount_rate, int | float | np.floating) or not math.isfinite(discount_rate) or discount_rate < 0:
            raise ConfigError(f"{_STAGE}: discount_rate must be a finite annual fraction >= 0, got {discount_rate!r}.")

        max_month = marginal.size
        months = np.arange(1, max_month + 1, dtype=float)
        elapsed = np.arange(0, max_month + 1, dtype=float)
        remaining = months[None, :] > elapsed[:, None]
        weights = np.where(remaining, marginal[None, :], 0.0)
        mass = weights.sum(axis=1)

        if kind == "pv":
            log_v = -math.log1p(discount_rate / 12)
            statistic = np.exp(log_v * np.clip(months[None, :] - elapsed[:, None], 0, None))
            tail = math.exp(log_v)
        else:
            statistic = np.clip(months[None, :] - elapsed[:, None], 0, None)
            tail = 1.0

        total = (weights * statistic).sum(axis=1)
        return np.where(mass > 1e-12, total / np.where(mass > 1e-12, mass, 1.0), tail)

    def assumptions(self) -> list[dict[str, object]]:
        """Return the curve's parameters with their provenance (for run.json)."""
        self._check_fitted()
        if getattr(self, "_saved_assumptions", None) is not None:
            return list(self._saved_assumptions)
        if self._settings is not None and self.source_ == "lifetime_level_configured_shape":
            level = {
                "name": "curve.lifetime_level",
                "value": self.lifetime_level_,
                "unit": "fraction of EAD",
                "source": f"pooled lifetime recoveries of {self.n_loans_} loans (timing from the configured shape)",
                "tag": "FITTED",
            }
            return [*self._settings.assumptions(), level]
        if self._settings is not None:
            return self._settings.assumptions()
        return [
            {
                "name": "curve.method",
                "value": f"chain ladder, {self.cohort} cohorts, max_month {self.max_month}, cut-off {self.cutoff_date_}",
                "unit": "",
                "source": f"fitted on {self.n_loans_} loans' monthly outcomes",
                "tag": "FITTED",
            }
        ]
