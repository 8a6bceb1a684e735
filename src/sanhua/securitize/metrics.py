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


def tranche_yield(cash: np.ndarray, accrual: np.ndarray, price: np.ndarray, *, tolerance: float = 1e-11, max_iter: int = 100) -> np.ndarray:
    """Solve the period-compounded yield of each scenario's cash flows.

    Parameters
    ----------
    cash : np.ndarray, shape (scenarios, periods)
        Cash received by the holder on each payment date (>= 0).
    accrual : np.ndarray, shape (periods,)
        Accrual fraction of each period, years.
    price : np.ndarray, shape (scenarios,)
        Amount paid at closing (> 0).

    Returns
    -------
    np.ndarray, shape (scenarios,)
        Annual yield; -1.0 when nothing is received or the yield is below -100 %.
    """
    count = cash.shape[0]
    result = np.full(count, -1.0)
    alive = cash.sum(axis=1) > 0
    if not alive.any():
        return result

    cash = cash[alive]
    price = price[alive]
    low = np.full(cash.shape[0], -1.0)
    high = np.full(cash.shape[0], 1.0)
    value_low, _ = _price_gap(cash, accrual, low, price)
    below_floor = value_low <= 0

    # Widen the upper bound until the value falls below the price.
    value_high, _ = _price_gap(cash, accrual, high, price)
    for _ in range(60):
        grow = value_high > 0
        if not grow.any():
            break
        high = np.where(grow, high * 2.0, high)
        value_high, _ = _price_gap(cash, accrual, high, price)

    rate = np.clip(np.full(cash.shape[0], 0.05), low, high)
    todo = np.flatnonzero(~below_floor)
    for _ in range(max_iter):
        if todo.size == 0:
            break
        value, slope = _price_gap(cash[todo], accrual, rate[todo], price[todo])
        done = np.abs(value) <= tolerance * price[todo]
        high[todo] = np.where(value < 0, rate[todo], high[todo])
        low[todo] = np.where(value > 0, rate[todo], low[todo])
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = rate[todo] - value / slope
        inside = (newton > low[todo]) & (newton < high[todo]) & np.isfinite(newton)
        bisect = 0.5 * (low[todo] + high[todo])
        rate[todo] = np.where(done, rate[todo], np.where(inside, newton, bisect))
        # A row is also finished when its bracket has shrunk below the tolerance.
        narrow = (high[todo] - low[todo]) <= 1e-13
        todo = todo[~(done | narrow)]

    rate = np.where(below_floor, -1.0, rate)
    result[alive] = rate
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
