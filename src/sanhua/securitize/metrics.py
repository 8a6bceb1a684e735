"""Tranche metrics vectorised over scenarios: yield (IRR) and weighted-average life.

Yield convention
----------------
The yield ``y`` of a tranche is the annual rate that, compounded once per payment period with
that period's accrual fraction ``a_t`` (ACT/365F by default), discounts the tranche's cash flows
to its price at closing (par): ``sum_t CF_t * prod_{u<=t} 1 / (1 + y * a_u) = price``. Under this
convention a class that receives its coupon on time and its principal in full yields exactly its
coupon, whatever its amortisation speed. Yields below -100 % are reported as -100 %.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tranche_yield", "weighted_average_life"]


def _price_gap(cash: np.ndarray, accrual: np.ndarray, rate: np.ndarray, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factor = 1.0 + rate[:, None] * accrual[None, :]
    discount = np.cumprod(1.0 / factor, axis=1)
    value = (cash * discount).sum(axis=1) - price
    duration = np.cumsum(accrual[None, :] / factor, axis=1)
    slope = -(cash * discount * duration).sum(axis=1)
    return value, slope


def tranche_yield(
    cash: np.ndarray, accrual: np.ndarray, price: np.ndarray, *, guess: float = 0.05, tolerance: float = 1e-11, max_iter: int = 100
) -> np.ndarray:
    """Solve the period-compounded yield of each scenario's cash flows.

    Parameters
    ----------
    cash : np.ndarray, shape (scenarios, periods)
        Cash received by the holder on each payment date (>= 0).
    accrual : np.ndarray, shape (periods,)
        Accrual fraction of each period, years.
    price : np.ndarray, shape (scenarios,)
        Amount paid at closing (> 0).
    guess : float
        Starting rate of Newton's method; the class's coupon makes a class paid as
        scheduled converge in one step.

    Returns
    -------
    np.ndarray, shape (scenarios,)
        Annual yield; -1.0 when nothing is received or the yield is below -100 %.
    """
    count = cash.shape[0]
    result = np.full(count, -1.0)

    # Periods after the last payment of every scenario add nothing, so they are cut off.
    paying = np.flatnonzero((cash > 0).any(axis=0))
    if paying.size == 0:
        return result
    cash = cash[:, : paying[-1] + 1]
    accrual = accrual[: paying[-1] + 1]

    # At -100 % the discount factors are the same for every scenario: one matrix-vector product.
    floor_value = cash @ np.cumprod(1.0 / (1.0 - accrual)) - price
    todo = np.flatnonzero(floor_value > 0)
    if todo.size == 0:
        return result

    cash, price = cash[todo], price[todo]
    low = np.full(todo.size, -1.0)
    high = np.full(todo.size, np.inf)
    rate = np.full(todo.size, max(guess, -0.5))
    active = np.arange(todo.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        value, slope = _price_gap(cash[active], accrual, rate[active], price[active])
        done = np.abs(value) <= tolerance * price[active]
        high[active] = np.where(value < 0, rate[active], high[active])
        low[active] = np.where(value > 0, rate[active], low[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = rate[active] - value / slope
        inside = (newton > low[active]) & (newton < high[active]) & np.isfinite(newton)
        fallback = np.where(np.isfinite(high[active]), 0.5 * (low[active] + high[active]), 2.0 * np.maximum(rate[active], 0.5))
        rate[active] = np.where(done, rate[active], np.where(inside, newton, fallback))
        narrow = (high[active] - low[active]) <= 1e-13
        active = active[~(done | narrow)]

    result[todo] = rate
    return result


def weighted_average_life(principal: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Weighted-average life in years: ``sum(t * principal_t) / sum(principal_t)``; NaN when no principal is paid.

    Parameters
    ----------
    principal : np.ndarray, shape (scenarios, periods)
        Principal repaid on each payment date.
    time : np.ndarray, shape (periods,)
        Years from closing to each payment date.
    """
    total = principal.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (principal * time[None, :]).sum(axis=1) / total, np.nan)
