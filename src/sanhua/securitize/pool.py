"""The restructured pool's expected monthly collections, from the new schedules of its loans.

:func:`schedule_collections` adds up, month by month after the cut-off, the
instalments of every restructured loan weighted by the probability that the
debtor keeps to the new schedule. The result is the pool table that
:func:`sanhua.securitize.proposal.build_abs_proposal` takes.

A loan's schedule (:class:`sanhua.strategy.restructure.RestructureTerms`)
starts in month ``floor(delay_months) + 1`` after the cut-off. Its
``trial_months`` trial instalments come first, then ``term_months`` level
instalments, the last one with the ``balloon``. Month sums are built
with difference arrays, so the cost is linear in loans plus months.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from sanhua.errors import InputDataError

__all__ = ["SCHEDULE_COLUMNS", "schedule_collections"]

logger = logging.getLogger(__name__)

SCHEDULE_COLUMNS = ("delay_months", "trial_months", "trial_instalment", "term_months", "instalment", "balloon")
"""Columns of the schedule table (loan currency, months), as in ``RestructureTerms.to_frame``."""


def schedule_collections(terms: pl.DataFrame, weight: np.ndarray | pl.Series) -> pl.DataFrame:
    """Return the pool's expected collections per month after the cut-off.

    Parameters
    ----------
    terms : polars.DataFrame
        One row per loan with :data:`SCHEDULE_COLUMNS`.
    weight : numpy.ndarray or polars.Series, shape (n,)
        Probability that each loan pays its schedule (0 to 1). The expected
        cash of a month is the weighted sum of the instalments due in it.

    Returns
    -------
    polars.DataFrame
        ``period`` (1, 2, ... months after the cut-off) and
        ``expected_collections`` (loan currency), one row per month up to the
        last instalment.

    Raises
    ------
    InputDataError
        A column is missing, a value is null, negative or not finite, or a
        weight is outside [0, 1].
    """
    missing = [c for c in SCHEDULE_COLUMNS if c not in terms.columns]
    if missing:
        raise InputDataError(f"restructured pool: the schedule table lacks column(s) {missing}; give the columns of RestructureTerms.to_frame().")
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != (terms.height,):
        raise InputDataError(f"restructured pool: {weight.shape[0] if weight.ndim else 0} weights for {terms.height} loans; give one per loan.")
    if not np.all((weight >= 0) & (weight <= 1)):
        raise InputDataError("restructured pool: a weight is outside [0, 1] or not a number, which is invalid; give probabilities.")
    values = {}
    for name in SCHEDULE_COLUMNS:
        column = terms[name].cast(pl.Float64).to_numpy()
        bad = ~np.isfinite(column) | (column < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputDataError(f"restructured pool: column {name!r} row {row} is {column[row]!r}; schedule values are finite and >= 0.")
        values[name] = column
    if terms.height == 0:
        return pl.DataFrame(schema={"period": pl.Int64, "expected_collections": pl.Float64})

    # 1. Month index (0 = first month after the cut-off) of each part of each schedule.
    first = np.floor(values["delay_months"]).astype(np.int64)
    trial = values["trial_months"].astype(np.int64)
    term = values["term_months"].astype(np.int64)
    level_start = first + trial
    end = level_start + term
    months = int(end.max()) + 1

    # 2. Level runs as difference arrays; the balloon falls in the last level month.
    diff = np.zeros(months + 1)
    trial_cash = weight * values["trial_instalment"]
    level_cash = weight * values["instalment"]
    np.add.at(diff, first, trial_cash)
    np.add.at(diff, level_start, level_cash - trial_cash)
    np.add.at(diff, end, -level_cash)
    cash = np.cumsum(diff)[:months]
    has_term = term > 0
    np.add.at(cash, (end - 1)[has_term], (weight * values["balloon"])[has_term])
    cash = np.clip(cash, 0.0, None)

    last = int(np.flatnonzero(cash > 0).max()) + 1 if np.any(cash > 0) else 0
    logger.info("restructured pool: %d loans, %d months of collections, %.2f in all", terms.height, last, float(cash.sum()))
    return pl.DataFrame({"period": np.arange(1, last + 1, dtype=np.int64), "expected_collections": cash[:last]})
