"""Targets of the assessment models, read from observed outcomes.

Definitions (the same on every profile; the data behind them differs):

- ``recovery_rate``: cash recovered after the loan's cut-off (sum of the
  outcomes table) / exposure at default, capped at ``rate_cap`` (1.5 by
  default), fraction.
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

from dataclasses import dataclass

import polars as pl

from sanhua.assess.settings import TargetSettings
from sanhua.errors import ModelError
from sanhua.features.loan import DAYS_PER_MONTH


@dataclass
class Targets:
    """Observed targets of a history.

    Attributes
    ----------
    frame : pl.DataFrame
        ``loan_id``, ``recovered`` (amount), ``recovery_rate`` (fraction),
        ``willing``, ``able`` (bool) and ``mature`` (bool: enough months
        observed to be a training example).
    median_rate : float
        Median recovery rate of the mature loans, fraction.
    cutoff_month : str or None
        Latest month observed in monthly outcomes (ISO date), None for lifetime outcomes.
    """

    frame: pl.DataFrame
    median_rate: float
    cutoff_month: str | None


def build_targets(loans: pl.DataFrame, outcomes: pl.DataFrame | None, settings: TargetSettings) -> Targets:
    """Compute the targets of every loan from its outcomes.

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
    frame = frame.with_columns(
        pl.col("recovered").fill_null(0.0),
        pl.col("_engaged").fill_null(False),
    ).with_columns(
        pl.when(pl.col("exposure_at_default") > 0)
        .then((pl.col("recovered") / pl.col("exposure_at_default")).clip(0, settings.rate_cap))
        .otherwise(None)
        .alias("recovery_rate"),
    )

    if cutoff is not None:
        observed = (pl.lit(cutoff) - pl.col("as_of_date")).dt.total_days() / DAYS_PER_MONTH
        mature = observed >= settings.min_observed_months
    else:
        mature = pl.lit(True)
    frame = frame.with_columns((mature & pl.col("recovery_rate").is_not_null()).alias("mature"))

    n_mature = int(frame["mature"].sum())
    if n_mature == 0:
        raise ModelError(
            f"no history loan has {settings.min_observed_months} months of outcomes after its cut-off "
            f"(latest outcome month {cutoff}); lower targets.min_observed_months or give a longer history."
        )
    median_rate = float(frame.filter(pl.col("mature"))["recovery_rate"].median())

    willing = pl.col("_engaged")
    if settings.willingness == "engaged_or_above_median":
        willing = willing | (pl.col("recovery_rate") > median_rate)
    frame = frame.select(
        "loan_id",
        "recovered",
        "recovery_rate",
        willing.fill_null(False).alias("willing"),
        (pl.col("recovery_rate") >= settings.ability_share).fill_null(False).alias("able"),
        "mature",
    )
    return Targets(frame=frame, median_rate=median_rate, cutoff_month=None if cutoff is None else cutoff.isoformat())
