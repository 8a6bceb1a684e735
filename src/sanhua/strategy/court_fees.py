"""Court acceptance fees for money claims (诉讼费用交纳办法, State Council Decree No. 481, 2007).

Article 13(1) sets the acceptance fee (案件受理费) of a property case by the
amount claimed, in CNY, cumulatively by band:

==========================  ============
part of the claim (CNY)     rate
==========================  ============
up to 10,000                50 per case
10,000 - 100,000            2.5 %
100,000 - 200,000           2 %
200,000 - 500,000           1.5 %
500,000 - 1,000,000         1 %
1,000,000 - 2,000,000       0.9 %
2,000,000 - 5,000,000       0.8 %
5,000,000 - 10,000,000      0.7 %
10,000,000 - 20,000,000     0.6 %
above 20,000,000            0.5 %
==========================  ============

The fee is halved when the case is heard under the summary procedure
(article 16) and when it ends by mediation or withdrawal (article 15).
Whether the two reductions stack is not stated in the decree: by default
:func:`court_fee` halves once (ASSUMPTION; ``stack_reductions=True`` halves
twice).

Fees are in CNY. A claim in another currency is converted to CNY first (the
caller's FX setting); the fee is then converted back.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sanhua.value.checks import InputDataError

__all__ = ["COURT_FEE_BANDS", "COURT_FEE_MINIMUM_CNY", "court_fee"]

COURT_FEE_MINIMUM_CNY = 50.0
"""Fee per case for claims up to 10,000 CNY (art. 13(1))."""

COURT_FEE_BANDS: tuple[tuple[float, float, float], ...] = (
    (10_000.0, 100_000.0, 0.025),
    (100_000.0, 200_000.0, 0.02),
    (200_000.0, 500_000.0, 0.015),
    (500_000.0, 1_000_000.0, 0.01),
    (1_000_000.0, 2_000_000.0, 0.009),
    (2_000_000.0, 5_000_000.0, 0.008),
    (5_000_000.0, 10_000_000.0, 0.007),
    (10_000_000.0, 20_000_000.0, 0.006),
    (20_000_000.0, np.inf, 0.005),
)
"""Bands of art. 13(1) above 10,000 CNY: (lower, upper, marginal rate)."""


def court_fee(
    claim_cny: np.ndarray | pl.Series | float,
    *,
    summary_procedure: np.ndarray | bool = False,
    mediated_or_withdrawn: np.ndarray | bool = False,
    stack_reductions: bool = False,
) -> np.ndarray:
    """Compute the acceptance fee of a money claim, in CNY.

    Parameters
    ----------
    claim_cny : array-like of float
        Amount claimed per case, CNY, >= 0.
    summary_procedure : bool or array of bool
        Heard under the summary procedure: fee halved (art. 16).
    mediated_or_withdrawn : bool or array of bool
        Ended by mediation or withdrawal: fee halved (art. 15).
    stack_reductions : bool, default False
        Halve twice when both apply. The default halves once.

    Returns
    -------
    numpy.ndarray
        Fee per case, CNY.

    Raises
    ------
    InputDataError
        A claim is negative or NaN.

    Examples
    --------
    >>> court_fee([5_000, 150_000, 1_000_000]).tolist()
    [50.0, 3300.0, 13800.0]
    >>> court_fee([150_000], summary_procedure=True).tolist()
    [1650.0]
    """
    if isinstance(claim_cny, pl.Series):
        claim_cny = claim_cny.cast(pl.Float64).fill_null(np.nan).to_numpy()
    claim = np.atleast_1d(np.asarray(claim_cny, dtype=float))

    bad = np.isnan(claim) | (claim < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"court_fee: {int(bad.sum())} claim(s) are negative, NaN or missing, for example position {first} "
            f"({claim[first]}). Claims are amounts in CNY, >= 0."
        )

    fee = np.full(claim.shape, COURT_FEE_MINIMUM_CNY)
    for lower, upper, rate in COURT_FEE_BANDS:
        fee += rate * np.clip(claim - lower, 0.0, upper - lower)

    summary = np.broadcast_to(np.asarray(summary_procedure, dtype=bool), claim.shape)
    mediated = np.broadcast_to(np.asarray(mediated_or_withdrawn, dtype=bool), claim.shape)
    if stack_reductions:
        factor = np.where(summary, 0.5, 1.0) * np.where(mediated, 0.5, 1.0)
    else:
        factor = np.where(summary | mediated, 0.5, 1.0)

    return fee * factor
