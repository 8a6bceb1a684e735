"""Monthly cash after default: the simulated recovery path of every demo loan.

Each loan's path is simulated month by month from default over the horizon,
whether or not the month lies before the loan's as-of date or a cut-off: the
portfolio later splits it into repayments (before as-of), outcomes (after
as-of, up to the history cut-off) and the hidden future (tests only).

Cash in month ``m`` comes from five sources, each a probability times an
amount, all as fractions of exposure at default (EAD):

- voluntary payments: willingness^1.5 times ability, decaying with ``m``;
- collection: ability, a little more for willing debtors, decaying;
- settlement: willingness times ability; pays a share of the balance and
  closes the loan;
- court enforcement while the case is in execution: ability;
- sale of mortgage or vehicle collateral, once.

Every source of cash, and the time to judgment and collateral sale, scales
with the region factor (slow courts and a weaker local economy); a
lost-contact debtor pays less in every channel but enforcement. A loan
closes when less than 0.5 % of EAD is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanhua.demo.debtors import Debtors
from sanhua.demo.loans import PRODUCTS, LoanTerms
from sanhua.demo.settings import DemoSettings

__all__ = ["OUTCOME_KINDS", "Litigation", "RecoveryPaths", "draw_litigation", "simulate_recoveries", "NEVER"]

OUTCOME_KINDS: tuple[str, ...] = ("recovery", "settlement", "voluntary")
NEVER = 10_000
_CLOSED_BELOW = 0.005
# Largest single voluntary or collected payment, fraction of EAD (ASSUMPTION);
# settlements and collateral sales may be larger.
_LARGEST_PAYMENT = 0.25


@dataclass
class Litigation:
    """Court milestones per loan, in months after default (``NEVER`` when they do not happen).

    Attributes
    ----------
    sued : int64
        Month the suit is filed (notarised contracts: enforcement applied for).
    judged : int64
        Month of the judgment or court-confirmed mediation.
    mediated : bool
        The case ended in mediation instead of a judgment.
    execution : int64
        Month enforcement starts.
    ended : int64
        Month enforcement ends with no assets found (终结本次执行).
    """

    sued: np.ndarray
    judged: np.ndarray
    mediated: np.ndarray
    execution: np.ndarray
    ended: np.ndarray


@dataclass
class RecoveryPaths:
    """Sparse simulated cash after default.

    Attributes
    ----------
    loan : int64
        Loan index of each cash row.
    month : int64
        Month after default, 1 = first month.
    kind : int64
        Index into :data:`OUTCOME_KINDS`.
    amount : float64
        Cash in CNY, rounded to the fen.
    close_month : int64
        Month in which the loan's balance was paid off or settled; ``NEVER``
        when it stays open over the horizon.
    """

    loan: np.ndarray
    month: np.ndarray
    kind: np.ndarray
    amount: np.ndarray
    close_month: np.ndarray


def _months(values: np.ndarray) -> np.ndarray:
    return np.ceil(values).astype(np.int64)


def draw_litigation(rng: np.random.Generator, loans: LoanTerms, debtors: Debtors) -> Litigation:
    """Draw each loan's court milestones (ASSUMPTION: timings and shares below).

    About a quarter to two thirds of loans are sued, the less willing more
    often, 3-12 months after default. Trials take 3-8 months, stretched in
    slow-court regions; notarised contracts skip trial and go to enforcement.
    Mediation is more likely for willing debtors. Enforcement against a
    debtor with little ability ends without assets after 6-12 months.
    """
    n = loans.size
    willingness = debtors.willingness[loans.owner]
    ability = debtors.ability[loans.owner]
    region = debtors.region_factor[loans.owner]

    sue_probability = 0.2 + 0.45 * (1.0 - willingness) + 0.1 * loans.notarised
    is_sued = rng.random(n) < sue_probability
    sued = np.where(is_sued, _months(3.0 + rng.exponential(9.0, n)), NEVER)

    trial = _months((3.0 + rng.exponential(5.0, n)) / region)
    mediated = is_sued & ~loans.notarised & (rng.random(n) < 0.1 + 0.35 * willingness)
    judged = np.where(is_sued, np.where(loans.notarised, sued, sued + trial), NEVER)
    execution = np.where(is_sued & ~mediated, np.where(loans.notarised, sued + 1, judged + 2), NEVER)
    no_assets = ability < 0.3
    ended = np.where((execution < NEVER) & no_assets, execution + _months(6.0 + rng.exponential(6.0, n)), NEVER)
    return Litigation(sued=sued, judged=judged, mediated=mediated, execution=execution, ended=ended)


def simulate_recoveries(
    rng: np.random.Generator, loans: LoanTerms, debtors: Debtors, litigation: Litigation, settings: DemoSettings
) -> RecoveryPaths:
    """Simulate every loan's monthly cash from default over ``settings.horizon_months``."""
    cal = settings.recovery
    n = loans.size
    owner = loans.owner
    willingness = debtors.willingness[owner]
    region = debtors.region_factor[owner]
    contact = np.where(debtors.lost_contact[owner], 0.45, 1.0)
    product_factor = np.array([cal.product_factor.get(p, 1.0) for p in PRODUCTS])[loans.product]
    guaranteed = np.where(loans.collateral == 3, 1.3, 1.0)

    secured = np.isin(loans.collateral, (1, 2)) & (rng.random(n) < cal.collateral_sale_probability)
    vehicle = loans.product == 4
    sale_month = np.where(
        secured,
        np.where(vehicle, _months(2.0 + rng.exponential(4.0, n)), _months((8.0 + rng.exponential(10.0, n)) / region)),
        NEVER,
    )
    sale_share = np.where(vehicle, rng.uniform(0.3, 0.7, n), rng.uniform(0.65, 1.05, n))

    balance = np.ones(n)
    close_month = np.full(n, NEVER, dtype=np.int64)
    rows_loan, rows_month, rows_kind, rows_share = [], [], [], []

    for month in range(1, settings.horizon_months + 1):
        open_loans = np.flatnonzero(close_month == NEVER)
        if open_loans.size == 0:
            break
        ability = debtors.ability_in_month(month)[owner[open_loans]]
        will = willingness[open_loans]
        decay = (1.0 - cal.slow_share) * np.exp(-(month - 1) / cal.decay_months) + cal.slow_share * np.exp(
            -(month - 1) / cal.slow_decay_months
        )
        base = decay * product_factor[open_loans] * contact[open_loans] * region[open_loans]
        mediated_now = litigation.mediated[open_loans] & (month >= litigation.judged[open_loans]) & (
            month < litigation.judged[open_loans] + 18
        )
        ended_now = month >= litigation.ended[open_loans]
        executing = (month >= litigation.execution[open_loans]) & ~ended_now
        left = balance[open_loans]
        size = open_loans.size

        voluntary_p = cal.voluntary_probability * will**1.5 * (0.25 + 0.75 * ability) * base * np.where(mediated_now, 2.0, 1.0)
        voluntary = np.where(
            rng.random(size) < voluntary_p,
            np.minimum(cal.voluntary_share * (0.3 + ability) * rng.lognormal(-0.08, 0.4, size), _LARGEST_PAYMENT),
            0.0,
        )

        collection_p = (
            cal.collection_probability * (0.2 + 0.8 * ability) * (0.6 + 0.4 * will) * base
            * guaranteed[open_loans] * np.where(ended_now, 0.5, 1.0)
        )
        collected = np.where(
            rng.random(size) < collection_p,
            np.minimum(cal.collection_share * (0.3 + ability) * rng.lognormal(-0.08, 0.4, size), _LARGEST_PAYMENT),
            0.0,
        )
        since_execution = np.maximum(month - litigation.execution[open_loans], 0)
        enforcement_p = (
            cal.enforcement_probability * ability * region[open_loans] * np.exp(-since_execution / cal.enforcement_decay_months)
        )
        enforced = np.where(
            executing & (rng.random(size) < enforcement_p),
            cal.enforcement_share * (0.5 + ability) * rng.lognormal(-0.08, 0.4, size),
            0.0,
        )
        collateral_cash = np.where(sale_month[open_loans] == month, sale_share[open_loans] * left, 0.0)

        # Recovery first, then voluntary, each capped by what is left.
        recovered = np.minimum(collected + enforced + collateral_cash, left)
        voluntary = np.minimum(voluntary, left - recovered)
        left_after = left - recovered - voluntary

        settle_p = (
            cal.settlement_probability * will * ability * decay * contact[open_loans] * region[open_loans]
            * np.where(mediated_now, 2.0, 1.0)
        )
        settles = (rng.random(size) < settle_p) & (left_after > _CLOSED_BELOW)
        settlement = np.where(settles, left_after * rng.uniform(cal.settlement_low, cal.settlement_high, size), 0.0)
        left_after = np.where(settles, 0.0, left_after)

        for kind, share in enumerate((recovered, settlement, voluntary)):
            paying = share > 0
            rows_loan.append(open_loans[paying])
            rows_month.append(np.full(int(paying.sum()), month, dtype=np.int64))
            rows_kind.append(np.full(int(paying.sum()), kind, dtype=np.int64))
            rows_share.append(share[paying])

        balance[open_loans] = left_after
        closed = left_after < _CLOSED_BELOW
        close_month[open_loans[closed]] = month

    loan = np.concatenate(rows_loan)
    amount = np.round(np.concatenate(rows_share) * loans.ead[loan], 2)
    keep = amount > 0
    order = np.lexsort((np.concatenate(rows_kind)[keep], np.concatenate(rows_month)[keep], loan[keep]))
    return RecoveryPaths(
        loan=loan[keep][order],
        month=np.concatenate(rows_month)[keep][order],
        kind=np.concatenate(rows_kind)[keep][order],
        amount=amount[keep][order],
        close_month=close_month,
    )
