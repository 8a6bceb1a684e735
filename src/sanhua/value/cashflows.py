"""Projected monthly cash per loan: the cash-flow matrix that pricing discounts and simulates.

Container
---------
:class:`CashFlows` holds a dense ``gross`` matrix, loans x months, of expected
cash *gross of collection costs*, in each loan's currency. Column ``t``
(0-based) is month ``t + 1`` after the cut-off date, and cash in it is
discounted as received at the end of that month: ``(1 + r / 12) ** -(t + 1)``.

For a loan ``i`` with ``s`` whole months since default on curve ``c``::

    gross[i, t] = expected_recovery[i] * m_c[s + t + 1] / sum_{k > s} m_c[k]

with ``m_c`` the curve's marginals (share of lifetime recovery per month
after default) and ``expected_recovery = expected_recovery_rate * EAD`` (the
assessment's lifetime recovery still to come). A loan with nothing left on its
curve (``s`` at or past the curve's last month with recovery) receives its
expected recovery in month 1, as :meth:`RecoveryCurve.pv_factor` assumes.

Net cash of a collector with cost rate ``c`` is ``(1 - c) * gross``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.errors import ConfigError, InputDataError

__all__ = ["CashFlows", "project_cash_flows", "discount_vector", "schedule_matrix"]

logger = logging.getLogger(__name__)

_STAGE = "cash flows"


def discount_vector(rate: float, months: int) -> np.ndarray:
    """Return ``(1 + rate / 12) ** -t`` for ``t = 1 .. months``.

    Raises
    ------
    ConfigError
        ``rate`` is negative or not finite.
    """
    if not np.isfinite(rate) or rate < 0:
        raise ConfigError(f"{_STAGE}: an annual rate must be finite and >= 0, got {rate!r}.")
    return (1.0 + rate / 12.0) ** -np.arange(1, months + 1, dtype=float)


@dataclass(frozen=True)
class CashFlows:
    """Expected gross cash by loan and month after the cut-off.

    Attributes
    ----------
    loan_id : polars.Series
        Loan ids, in the row order of ``gross``.
    gross : numpy.ndarray, shape (n_loans, n_months)
        Expected cash gross of collection costs, loan currency.
    """

    loan_id: pl.Series
    gross: np.ndarray

    @property
    def n_months(self) -> int:
        """Number of monthly columns."""
        return int(self.gross.shape[1])

    def present_value(self, rate: float, cost_rate: float | np.ndarray = 0.0) -> np.ndarray:
        """Return each loan's PV of ``(1 - cost_rate) * gross`` at the annual ``rate``, shape (n_loans,)."""
        return (1.0 - np.asarray(cost_rate, dtype=float)) * (self.gross @ discount_vector(rate, self.n_months))

    def by_package(self, package: pl.Series, cost_rate: float = 0.0) -> pl.DataFrame:
        """Sum net cash by package and month.

        Parameters
        ----------
        package : polars.Series
            Package id per loan (same order as ``gross``); null rows are left out.
        cost_rate : float
            Collection cost rate applied to the gross cash.

        Returns
        -------
        polars.DataFrame
            Long table ``package_id``, ``month`` (1-based), ``cash``.
        """
        keep = package.is_not_null().to_numpy()
        codes, index = np.unique(package.filter(package.is_not_null()).to_numpy(), return_inverse=True)
        totals = np.zeros((codes.size, self.n_months))
        np.add.at(totals, index, self.gross[keep] * (1.0 - cost_rate))
        return pl.DataFrame(
            {
                "package_id": np.repeat(codes, self.n_months),
                "month": np.tile(np.arange(1, self.n_months + 1, dtype=np.int32), codes.size),
                "cash": totals.ravel(),
            }
        )


def project_cash_flows(
    loan_id: pl.Series,
    expected_recovery: np.ndarray,
    months_since_default: np.ndarray,
    marginals: np.ndarray,
    curve_index: np.ndarray | None = None,
    n_months: int | None = None,
) -> CashFlows:
    """Spread each loan's expected recovery over the months after the cut-off along its curve.

    Parameters
    ----------
    loan_id : polars.Series
        Loan ids.
    expected_recovery : numpy.ndarray, shape (n,)
        Expected lifetime recovery still to come, loan currency, >= 0.
    months_since_default : numpy.ndarray, shape (n,)
        Whole months from default to the cut-off (fractions are floored), >= 0.
    marginals : numpy.ndarray, shape (n_curves, max_month) or (max_month,)
        Marginal share of lifetime recovery per month after default.
    curve_index : numpy.ndarray of int or None, shape (n,)
        Row of ``marginals`` per loan; None uses row 0 for all.
    n_months : int or None
        Columns of the result; default ``max_month``, which covers every
        loan's remaining curve.

    Returns
    -------
    CashFlows

    Raises
    ------
    InputDataError
        Lengths differ, or a value is negative or not finite.
    """
    marginals = np.atleast_2d(np.asarray(marginals, dtype=float))
    expected = np.asarray(expected_recovery, dtype=float)
    elapsed = np.asarray(months_since_default, dtype=float)
    n = expected.size
    index = np.zeros(n, dtype=np.int64) if curve_index is None else np.asarray(curve_index, dtype=np.int64)
    if not (elapsed.size == n == index.size == loan_id.len()):
        raise InputDataError(f"{_STAGE}: loan_id, expected_recovery, months_since_default and curve_index must have the same length.")
    for name, values in (("expected_recovery", expected), ("months_since_default", elapsed)):
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            example = loan_id[int(np.flatnonzero(bad)[0])]
            raise InputDataError(
                f"{_STAGE}: {name} is negative, NaN or infinite for {int(bad.sum())} loan(s), for example loan_id {example!r}. "
                "Fill or fix these values before projecting."
            )
    if (index < 0).any() or (index >= marginals.shape[0]).any():
        raise InputDataError(f"{_STAGE}: curve_index must lie in [0, {marginals.shape[0]}).")

    max_month = marginals.shape[1]
    horizon = max_month if n_months is None else int(n_months)
    start = np.minimum(np.floor(elapsed), max_month).astype(np.int64)

    # Remaining shares per (curve, elapsed month), tabulated once and gathered per loan.
    cumulative = np.concatenate([np.zeros((marginals.shape[0], 1)), np.cumsum(marginals, axis=1)], axis=1)
    remaining_mass = cumulative[:, -1:] - cumulative
    padded = np.concatenate([marginals, np.zeros((marginals.shape[0], horizon))], axis=1)
    columns = start[:, None] + np.arange(horizon)[None, :]
    shares = padded[index[:, None], columns]
    mass = remaining_mass[index, start]
    nothing_left = mass <= 1e-12
    shares = np.where(nothing_left[:, None], 0.0, shares / np.where(nothing_left, 1.0, mass)[:, None])
    shares[nothing_left, 0] = 1.0

    gross = shares * expected[:, None]
    logger.info("%s: %d loans x %d months projected, %.2f expected in total", _STAGE, n, horizon, float(gross.sum()))
    return CashFlows(loan_id=loan_id, gross=gross)


def schedule_matrix(amount: np.ndarray, delay_months: np.ndarray, spread_months: np.ndarray, n_months: int) -> np.ndarray:
    """Spread ``amount`` in equal monthly parts over ``spread`` months from ``delay`` months after the cut-off.

    Part ``j`` (``j = 0 .. spread - 1``) falls in month ``max(1, round(delay + j))``;
    months past ``n_months`` fold into the last column. This is the monthly
    form of the scheduled actions of :mod:`sanhua.strategy` (restructure,
    settle, mediate, litigate, transfer).

    Returns
    -------
    numpy.ndarray, shape (n, n_months)
    """
    amount = np.asarray(amount, dtype=float)
    delay = np.broadcast_to(np.asarray(delay_months, dtype=float), amount.shape)
    spread = np.broadcast_to(np.maximum(np.asarray(spread_months, dtype=np.int64), 1), amount.shape)
    months = np.arange(n_months)[None, :]
    first = np.maximum(np.rint(delay), 1).astype(np.int64) - 1
    last = first + spread - 1
    inside = (months >= first[:, None]) & (months <= np.minimum(last, n_months - 1)[:, None])
    result = np.where(inside, (amount / spread)[:, None], 0.0)
    overflow = np.minimum(np.maximum(last - (n_months - 1), 0), spread)
    result[:, -1] += amount / spread * overflow
    return result
