"""Collateral cash flows per scenario and month, vectorised over scenarios.

Month ``j = 1 .. horizon`` is the j-th month after the cut-off. Every array of
:class:`CollateralFlows` has shape (scenarios, horizon) except ``base_collections``.

Projected pools
---------------
``collections[s, j + delay_s] = base[j] * (1 - haircut_s) * redefault_factor[s, j]``, where
``redefault_factor = ((1 - mdr * multiple_s) / (1 - mdr)) ** j`` and ``mdr`` is the monthly
rate equivalent to ``base_redefault_rate`` (1 when it is 0). The first ``known_months`` months
(cash already received when the deal was priced) are never stressed; the stresses apply to the
months after them. Cash lost to extra re-defaults is
not recovered. NOTE: the projected table does not say how much of it is performing-loan cash, so
this stress is conservative for pools whose re-defaults recover.

Loan pools
----------
Per month, with performing balance ``B`` at the start:

- re-defaults ``D = B * mdr`` with ``mdr = 1 - (1 - CDR * multiple) ** (1/12)`` (capped at 1);
- scheduled principal and interest on the survivors ``B - D`` at the contractual ratios
  ``scheduled_principal[j] / scheduled_balance[j-1]`` and ``scheduled_interest[j] / scheduled_balance[j-1]``;
- prepayment ``(B - D - scheduled principal) * smm`` with ``smm = 1 - (1 - CPR * multiple) ** (1/12)``;
- recovery of ``D * rate * (1 - haircut) * timing[k]`` in month ``j + lag + k``.

Every collection then arrives ``delay_months`` later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanhua.securitize.deal import Deal, LoanPool, ProjectedPool, RecoverySpec
from sanhua.securitize.scenarios import Scenarios

__all__ = ["CollateralFlows", "project_collateral", "recovery_schedule"]


@dataclass(frozen=True)
class CollateralFlows:
    """Monthly collateral cash per scenario, in the deal's currency.

    Attributes
    ----------
    collections : np.ndarray, shape (scenarios, horizon)
        Cash collected in each month after the cut-off (interest, principal, prepayments, recoveries).
    defaults : np.ndarray, shape (scenarios, horizon)
        Balance that re-defaulted in each month (zero for projected pools).
    performing : np.ndarray, shape (scenarios, horizon)
        Performing balance at the end of each month (zero for projected pools).
    base_collections : np.ndarray, shape (horizon,)
        Unstressed collections, the reference of the recovery-shortfall trigger.
    opening_balance : float
        Performing balance at the cut-off (projected pools: the base-case total collections).
    last_month : np.ndarray, shape (scenarios,)
        Last month (1-based) that can hold cash in each scenario: the unstressed horizon plus
        the scenario's delay. The deal ends in the period that collects it, so a scenario's
        results do not depend on the other scenarios of the run.
    """

    collections: np.ndarray
    defaults: np.ndarray
    performing: np.ndarray
    base_collections: np.ndarray
    opening_balance: float
    last_month: np.ndarray


def recovery_schedule(defaults: np.ndarray, recovery: RecoverySpec, horizon: int, haircut: np.ndarray | float = 0.0) -> np.ndarray:
    """Spread the recoveries of defaulted balances over the months after default.

    Parameters
    ----------
    defaults : np.ndarray, shape (scenarios, months) or (months,)
        Balance defaulting in month ``j = 1 ..`` (column ``j - 1``).
    recovery : RecoverySpec
        Rate, lag in months and timing vector.
    horizon : int
        Months of the output.
    haircut : float or np.ndarray of shape (scenarios,)
        Fraction cut from every recovery.

    Returns
    -------
    np.ndarray, shape (scenarios, horizon) or (horizon,)
        Recovered cash per month; a default in month ``m`` recovers
        ``rate * timing[k]`` of its balance in month ``m + lag + k``. Cash that
        would fall after ``horizon`` is dropped.

    Examples
    --------
    >>> spec = RecoverySpec(rate=0.10, lag_months=6, timing=[0.5, 0.5])
    >>> recovery_schedule(np.array([100.0]), spec, horizon=8)[5:8]
    array([0., 5., 5.])
    """
    squeeze = defaults.ndim == 1
    matrix = np.atleast_2d(defaults).astype(np.float64)
    scale = (1.0 - np.asarray(haircut, dtype=np.float64)).reshape(-1, 1) if np.ndim(haircut) else 1.0 - float(haircut)
    out = np.zeros((matrix.shape[0], horizon), dtype=np.float64)

    months = matrix.shape[1]
    for k, share in enumerate(recovery.timing):
        offset = recovery.lag_months + k
        if offset >= horizon or share == 0.0:
            continue
        width = min(months, horizon - offset)
        out[:, offset : offset + width] += matrix[:, :width] * (recovery.rate * share)

    out = out * scale
    return out[0] if squeeze else out


def _shift(values: np.ndarray, delay: np.ndarray, horizon: int) -> np.ndarray:
    """Move row ``s`` of ``values`` right by ``delay[s]`` months inside a (scenarios, horizon) array."""
    scenarios, months = values.shape
    out = np.zeros((scenarios, horizon), dtype=np.float64)
    steps = delay.astype(np.int64)
    for step in np.unique(steps):
        rows = np.flatnonzero(steps == step)
        width = max(0, min(months, horizon - int(step)))
        out[rows, step : step + width] = values[rows, :width]
    return out


def _monthly_rate(annual: np.ndarray) -> np.ndarray:
    return 1.0 - (1.0 - np.clip(annual, 0.0, 1.0)) ** (1.0 / 12.0)


def _project_projected(pool: ProjectedPool, scenarios: Scenarios, extra_months: int) -> CollateralFlows:
    base = np.asarray(pool.monthly_collections(), dtype=np.float64)
    months = base.shape[0]
    horizon = months + extra_months
    count = len(scenarios)

    known = min(pool.known_months, months)
    future = base[known:]
    stressed = future[None, :] * (1.0 - scenarios.recovery_haircut)[:, None]
    if pool.base_redefault_rate > 0.0:
        mdr_base = _monthly_rate(np.array([pool.base_redefault_rate]))[0]
        mdr = np.clip(mdr_base * scenarios.redefault_multiple, 0.0, 1.0)
        ratio = (1.0 - mdr) / (1.0 - mdr_base)
        stressed = stressed * ratio[:, None] ** np.arange(1, months - known + 1)[None, :]

    collections = np.zeros((count, horizon))
    collections[:, :known] = base[None, :known]
    collections[:, known:] = _shift(stressed, scenarios.delay_months, horizon - known)
    zeros = np.zeros((count, horizon))
    base_padded = np.concatenate([base, np.zeros(extra_months)])
    last_month = months + scenarios.delay_months.astype(np.int64)
    return CollateralFlows(collections, zeros, zeros.copy(), base_padded, float(base.sum()), last_month)


def _project_loans(pool: LoanPool, scenarios: Scenarios, extra_months: int, *, with_base: bool = True) -> CollateralFlows:
    principal = np.asarray(pool.scheduled_principal, dtype=np.float64)
    interest = np.asarray(pool.scheduled_interest, dtype=np.float64)
    months = principal.shape[0]
    tail = pool.recovery.lag_months + len(pool.recovery.timing)
    horizon = months + tail + extra_months
    count = len(scenarios)

    scheduled_balance = pool.opening_balance - np.concatenate([[0.0], np.cumsum(principal)])
    with np.errstate(divide="ignore", invalid="ignore"):
        principal_ratio = np.where(scheduled_balance[:-1] > 0, principal / scheduled_balance[:-1], 1.0)
        interest_ratio = np.where(scheduled_balance[:-1] > 0, interest / scheduled_balance[:-1], 0.0)
    principal_ratio = np.clip(principal_ratio, 0.0, 1.0)

    mdr = _monthly_rate(pool.redefault_rate * scenarios.redefault_multiple)
    smm = _monthly_rate(pool.prepayment_rate * scenarios.prepayment_multiple)

    cash = np.zeros((count, months + tail))
    defaults = np.zeros((count, months + tail))
    performing = np.zeros((count, months + tail))
    balance = np.full(count, pool.opening_balance)
    for j in range(months):
        defaulted = balance * mdr
        surviving = balance - defaulted
        scheduled = surviving * principal_ratio[j]
        prepaid = (surviving - scheduled) * smm
        cash[:, j] = scheduled + prepaid + surviving * interest_ratio[j]
        defaults[:, j] = defaulted
        balance = surviving - scheduled - prepaid
        performing[:, j] = balance
    # Whatever performing balance remains after the schedule's last month is paid then.
    cash[:, months - 1] += balance
    performing[:, months - 1] = 0.0

    cash += recovery_schedule(defaults, pool.recovery, months + tail, scenarios.recovery_haircut)
    collections = _shift(cash, scenarios.delay_months, horizon)
    defaults_out = np.zeros((count, horizon))
    defaults_out[:, : months + tail] = defaults
    performing_out = np.zeros((count, horizon))
    performing_out[:, : months + tail] = performing

    if with_base:
        base = _project_loans(pool, Scenarios.base(), horizon - months - tail, with_base=False).collections[0]
    else:
        base = collections[0].copy()
    last_month = months + tail + scenarios.delay_months.astype(np.int64)
    return CollateralFlows(collections, defaults_out, performing_out, base, pool.opening_balance, last_month)


def project_collateral(deal: Deal, scenarios: Scenarios) -> CollateralFlows:
    """Project the deal's collateral cash per scenario and month after the cut-off.

    The horizon is long enough for the last collection of the most delayed scenario.
    """
    extra = int(scenarios.delay_months.max()) if len(scenarios) else 0
    pool = deal.collateral
    if isinstance(pool, ProjectedPool):
        return _project_projected(pool, scenarios, extra)
    return _project_loans(pool, scenarios, extra)
