"""Targets of the assessment models, read from observed outcomes.

Definitions (the same on every profile; the data behind them differs):

- ``recovery_rate``: cash recovered after the loan's cut-off (sum of the
  outcomes table) / exposure at default, capped at ``rate_cap`` (1.5 by
  default), fraction. With monthly outcomes and a fitted recovery curve it
  is developed to ultimate (see :func:`build_targets`), so that the model
  predicts the whole recovery still to come, not the part a history
  happened to observe.
- ``willing``: the debtor engaged: a settlement or a voluntary payment is
  among the outcomes; with ``engaged_or_above_median``, also a recovery rate
  above the history median.
- ``able``: the debtor paid at least ``ability_share`` of EAD.

On LendingClub the outcomes are one lifetime row per loan (``recoveries``,
kind ``settlement`` when the debt-settlement flag is set); on the demo and
bank tapes they are monthly, and a loan is a training example only when at
least ``min_observed_months`` months after its cut-off were observed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.assess.settings import TargetSettings
from sanhua.errors import ModelError
from sanhua.features.loan import DAYS_PER_MONTH
from sanhua.value.curves import months_between

logger = logging.getLogger(__name__)


def _development(loans: pl.DataFrame, cutoff, settings: TargetSettings, cumulative_share: np.ndarray | None) -> np.ndarray | None:
    """Return each loan's factor from observed to ultimate recovery, or None when there is nothing to develop."""
    if cumulative_share is None or cutoff is None or not settings.develop_to_ultimate or "default_date" not in loans.columns:
        return None
    share = np.concatenate([[0.0], np.clip(np.asarray(cumulative_share, dtype=np.float64), 0.0, 1.0)])
    last = len(share) - 1
    months = loans.select(
        months_between(pl.col("default_date"), pl.col("as_of_date")).alias("m0"),
        months_between(pl.col("default_date"), pl.lit(cutoff)).alias("m1"),
    )
    m0 = np.clip(months["m0"].fill_null(0).to_numpy(), 0, last)
    m1 = np.clip(months["m1"].fill_null(last).to_numpy(), 0, last)
    remaining = 1.0 - share[m0]
    seen = share[m1] - share[m0]
    # Nothing left to come, or nothing expected in the window: the observed recovery is kept.
    factor = np.where((seen > 1e-9) & (remaining > 1e-9), remaining / np.maximum(seen, 1e-9), 1.0)
    missing = months["m0"].is_null().to_numpy()
    return np.where(missing, 1.0, np.clip(factor, 1.0, settings.max_development_factor))


@dataclass
class Targets:
    """Observed targets of a history.

    Attributes
    ----------
    frame : pl.DataFrame
        ``loan_id``, ``recovered`` (amount observed), ``recovery_rate``
        (fraction of EAD, developed to ultimate), ``willing``, ``able``
        (bool), ``mature`` (bool: enough months observed to be a training
        example) and ``development_factor`` (ultimate / observed, 1 when not
        developed).
    median_rate : float
        Median recovery rate of the mature loans, fraction.
    cutoff_month : str or None
        Latest month observed in monthly outcomes (ISO date), None for lifetime outcomes.
    """

    frame: pl.DataFrame
    median_rate: float
    cutoff_month: str | None


def build_targets(
    loans: pl.DataFrame, outcomes: pl.DataFrame | None, settings: TargetSettings, cumulative_share: np.ndarray | None = None
) -> Targets:
    """Compute the targets of every loan from its outcomes.

    With monthly outcomes and ``cumulative_share`` (the recovery curve's
    cumulative share of lifetime recovery at months 1, 2, ... after
    default), the recovery rate is developed to ultimate: a loan observed from
    month ``m0`` to month ``m1`` after default has seen ``C(m1) - C(m0)`` of
    the ``1 - C(m0)`` still to come at its cut-off, so its observed recovery
    is multiplied by ``(1 - C(m0)) / (C(m1) - C(m0))``, capped at
    ``settings.max_development_factor``. The willing and able targets use
    the observed recovery.

    Parameters
    ----------
    loans : pl.DataFrame
        Canonical loans with ``loan_id``, ``exposure_at_default``, ``as_of_date``
        and, for monthly outcomes, ``default_date``.
    outcomes : pl.DataFrame
        Canonical outcomes table.
    settings : TargetSettings

    Returns
    -------
    Targets

    Raises
    ------
    ModelError
        When there are no outcomes, or no loan is mature.
    """
    if outcomes is None or outcomes.height == 0:
        raise ModelError(
            "the history has no outcomes: a model needs observed recoveries. "
            "Give a HISTORY with an outcomes table (or, for a single file, a profile that maps outcome columns)."
        )

    monthly = outcomes.filter(pl.col("month").is_not_null())
    cutoff = None
    if monthly.height and "default_date" in loans.columns:
        dated = monthly.join(loans.select("loan_id", "default_date"), on="loan_id").filter(pl.col("default_date").is_not_null())
        if dated.height:
            cutoff = dated.select(pl.col("default_date").dt.offset_by(pl.format("{}mo", pl.col("month"))).max()).item()

    per_loan = outcomes.group_by("loan_id").agg(
        pl.col("amount").sum().alias("recovered"),
        pl.col("kind").is_in(["settlement", "voluntary"]).any().alias("_engaged"),
    )
    frame = loans.select("loan_id", "exposure_at_default", "as_of_date").join(per_loan, on="loan_id", how="left")
    development = _development(loans, cutoff, settings, cumulative_share)
    frame = frame.with_columns(
        pl.col("recovered").fill_null(0.0),
        pl.col("_engaged").fill_null(False),
        pl.Series("development_factor", development) if development is not None else pl.lit(1.0).alias("development_factor"),
    ).with_columns(
        pl.when(pl.col("exposure_at_default") > 0)
        .then((pl.col("recovered") / pl.col("exposure_at_default")).clip(0, settings.rate_cap))
        .otherwise(None)
        .alias("observed_rate"),
    ).with_columns(
        (pl.col("observed_rate") * pl.col("development_factor")).clip(0, settings.rate_cap).alias("recovery_rate"),
    )

    if cutoff is not None:
        observed = (pl.lit(cutoff) - pl.col("as_of_date")).dt.total_days() / DAYS_PER_MONTH
        mature = observed >= settings.min_observed_months
    else:
        mature = pl.lit(True)
    frame = frame.with_columns((mature & pl.col("recovery_rate").is_not_null()).alias("mature"))
    if development is not None:
        factors = frame.filter(pl.col("mature"))["development_factor"]
        logger.info(
            "recovery targets developed to ultimate with the recovery curve: median factor %.2f, %d of %d mature loans at the cap %.1f",
            factors.median() or 1.0, int((factors >= settings.max_development_factor).sum()), factors.len(), settings.max_development_factor,
        )

    n_mature = int(frame["mature"].sum())
    if n_mature == 0:
        raise ModelError(
            f"no history loan has {settings.min_observed_months} months of outcomes after its cut-off "
            f"(latest outcome month {cutoff}); lower targets.min_observed_months or give a longer history."
        )
    median_rate = float(frame.filter(pl.col("mature"))["observed_rate"].median())

    willing = pl.col("_engaged")
    if settings.willingness == "engaged_or_above_median":
        willing = willing | (pl.col("observed_rate") > median_rate)
    frame = frame.select(
        "loan_id",
        "recovered",
        "recovery_rate",
        willing.fill_null(False).alias("willing"),
        (pl.col("observed_rate") >= settings.ability_share).fill_null(False).alias("able"),
        "mature",
        "development_factor",
    )
    return Targets(frame=frame, median_rate=median_rate, cutoff_month=None if cutoff is None else cutoff.isoformat())
