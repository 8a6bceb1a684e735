"""The new schedule of a restructured loan: instalments, annual rate, fees, affordability and observation.

A restructuring replaces the debt ``B0 = principal + (1 - interest_waiver) * interest``
by a schedule (all amounts in the loan's currency, months from the decision):

1. A fee ``restructure_fee_rate * B0`` is added, so the financed balance is
   ``B = B0 + fee``.
2. Interest accrues at the monthly rate ``j = annual_rate / 12`` with
   ``annual_rate = contract rate * (1 - rate_relief)`` from the decision.
3. ``trial_months`` trial instalments of ``trial_payment_share`` times the
   level instalment of ``B`` over the level term come first, the first one
   ``delay_months`` after the decision.
4. ``term_months`` level instalments ``A`` then amortise the rest, and the
   deferred principal ``principal_deferral * principal`` is paid as a balloon
   with the last one.

Affordability: where the monthly income (``income_annual / 12``) is known, the
level instalment must not exceed ``max_instalment_to_income`` of it. The term
is extended month by month up to ``max_term_months - trial_months``; a loan
that still fails is not offered a restructuring. Where the income is unknown
the check cannot run and ``affordable`` is true with ``income_known`` false.

The annual rate disclosed to the debtor (``apr``) is ``12 * IRR`` of the
debtor's cash flows: ``B0`` owed at month 0 against every instalment, the
trial, the level instalments and the balloon, so the fee and any delay count.
With no fee it equals ``annual_rate``.

The observation period (the loan stays at least substandard) covers at least
``observation_min_periods`` monthly repayment periods and
``observation_min_months`` months, both counted from the first repayment date
after the change, and restarts after a missed payment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.strategy.settings import RestructureSettings

__all__ = ["RestructureTerms", "restructure_terms"]

_IRR_ITERATIONS = 60


@dataclass(frozen=True)
class RestructureTerms:
    """The new schedule of every loan, as arrays of one value per loan (loan currency, months).

    Attributes
    ----------
    debt : numpy.ndarray
        ``B0``: principal plus the interest not waived.
    fee : numpy.ndarray
        Restructuring fee added to the debt.
    annual_rate : numpy.ndarray
        Nominal annual interest rate of the new schedule (fraction).
    delay_months : float
        Months from the decision to the first instalment.
    trial_months : int
        Number of trial instalments.
    trial_instalment : numpy.ndarray
        Amount of each trial instalment.
    term_months : numpy.ndarray
        Number of level instalments after the trial (int).
    instalment : numpy.ndarray
        Level instalment.
    balloon : numpy.ndarray
        Deferred principal paid with the last level instalment.
    apr : numpy.ndarray
        Annual rate by the IRR method (12 times the monthly IRR).
    income_known : numpy.ndarray
        The monthly income is known (bool).
    instalment_to_income : numpy.ndarray
        Level instalment / monthly income; NaN where the income is unknown.
    affordable : numpy.ndarray
        The instalment passes the affordability check, or the income is unknown (bool).
    total_paid : numpy.ndarray
        Sum of every payment of the schedule.
    discount_factor : numpy.ndarray
        PV at the discount rate of the schedule, per unit of ``total_paid``.
    mean_month : numpy.ndarray
        Cash-weighted mean month of the payments.
    observation_months : numpy.ndarray
        Months of the observation period from the first repayment date.
    """

    debt: np.ndarray
    fee: np.ndarray
    annual_rate: np.ndarray
    delay_months: float
    trial_months: int
    trial_instalment: np.ndarray
    term_months: np.ndarray
    instalment: np.ndarray
    balloon: np.ndarray
    apr: np.ndarray
    income_known: np.ndarray
    instalment_to_income: np.ndarray
    affordable: np.ndarray
    total_paid: np.ndarray
    discount_factor: np.ndarray
    mean_month: np.ndarray
    observation_months: np.ndarray

    def to_frame(self, loan_id: pl.Series) -> pl.DataFrame:
        """Return the terms as a table, one row per loan, ``loan_id`` first."""
        size = loan_id.len()
        return pl.DataFrame(
            {
                "loan_id": loan_id,
                "debt": self.debt,
                "fee": self.fee,
                "annual_rate": self.annual_rate,
                "apr": self.apr,
                "delay_months": np.full(size, self.delay_months),
                "trial_months": np.full(size, self.trial_months, dtype=np.int32),
                "trial_instalment": self.trial_instalment,
                "term_months": self.term_months.astype(np.int32),
                "instalment": self.instalment,
                "balloon": self.balloon,
                "total_paid": self.total_paid,
                "income_known": self.income_known,
                "instalment_to_income": self.instalment_to_income,
                "affordable": self.affordable,
                "observation_months": self.observation_months.astype(np.int32),
            }
        ).with_columns(pl.col("instalment_to_income").fill_nan(None))


def _sum_of_powers(v: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``sum_{t=0}^{n-1} v**t`` elementwise, exact at ``v == 1``."""
    v = np.asarray(v, dtype=float)
    n = np.asarray(n, dtype=float)
    near_one = np.abs(1.0 - v) < 1e-12
    safe = np.where(near_one, 0.5, v)
    return np.where(near_one, n, (1.0 - np.power(safe, n)) / (1.0 - safe))


def _level_instalment(balance: np.ndarray, balloon: np.ndarray, monthly_rate: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Level instalment that amortises ``balance`` over ``term`` months with ``balloon`` paid at the end."""
    v = 1.0 / (1.0 + monthly_rate)
    annuity = v * _sum_of_powers(v, term)
    return np.maximum(balance - balloon * np.power(v, term), 0.0) / annuity


def _balance_after_trial(balance: np.ndarray, trial_instalment: np.ndarray, monthly_rate: np.ndarray, trial_months: int) -> np.ndarray:
    """Balance after ``trial_months`` monthly trial instalments, the first one month after ``balance`` is owed."""
    growth = 1.0 + monthly_rate
    paid = trial_instalment * np.power(growth, max(trial_months - 1, 0)) * _sum_of_powers(1.0 / growth, np.full_like(monthly_rate, trial_months))
    return balance * np.power(growth, trial_months) - paid


def _schedule_pv(
    monthly_rate: np.ndarray | float,
    delay: float,
    trial_months: int,
    trial_instalment: np.ndarray,
    term: np.ndarray,
    instalment: np.ndarray,
    balloon: np.ndarray,
) -> np.ndarray:
    """PV at month 0 of the schedule at a monthly rate (trial, level instalments, balloon)."""
    v = 1.0 / (1.0 + np.asarray(monthly_rate, dtype=float))
    first = np.power(v, delay)
    trial = trial_instalment * first * _sum_of_powers(v, np.full_like(instalment, trial_months))
    level_start = first * np.power(v, trial_months)
    level = instalment * level_start * _sum_of_powers(v, term)
    last = balloon * level_start * np.power(v, term - 1)
    return trial + level + last


def _irr_monthly(debt: np.ndarray, pv_at: callable, guess: np.ndarray) -> np.ndarray:
    """Monthly IRR per loan by Newton's method with a numerical derivative, kept in (-0.9, 5)."""
    rate = guess.copy()
    for _ in range(_IRR_ITERATIONS):
        step = 1e-7
        value = pv_at(rate) - debt
        slope = (pv_at(rate + step) - pv_at(rate - step)) / (2 * step)
        update = np.where(np.abs(slope) > 1e-300, value / np.where(slope == 0, 1.0, slope), 0.0)
        rate = np.clip(rate - update, -0.9, 5.0)
        if np.all(np.abs(update) < 1e-12):
            break
    return rate


def restructure_terms(
    principal: np.ndarray,
    interest: np.ndarray,
    contract_rate: np.ndarray,
    monthly_income: np.ndarray,
    short_plan: np.ndarray,
    settings: RestructureSettings,
    discount_rate: float,
    *,
    interest_waiver: np.ndarray | float | None = None,
    delay_months: np.ndarray | float | None = None,
    term_months: np.ndarray | int | None = None,
) -> RestructureTerms:
    """Build the new schedule of every loan.

    Parameters
    ----------
    principal, interest : numpy.ndarray
        Outstanding principal and interest per loan, loan currency, >= 0.
    contract_rate : numpy.ndarray
        Contract annual rate per loan (fraction); NaN uses
        ``settings.default_contract_rate``.
    monthly_income : numpy.ndarray
        Monthly income per loan in the loan's currency; NaN or <= 0 when unknown.
    short_plan : numpy.ndarray
        Willing and able debtors get ``short_plan_months`` level instalments (bool).
    settings : RestructureSettings
        Terms of the programme.
    discount_rate : float
        Bank's annual discount rate (monthly compounding) for ``discount_factor``.
    interest_waiver, delay_months, term_months : optional
        Per-loan overrides (a relief offer for a hardship debtor); default the
        settings'. ``delay_months`` must be a scalar.

    Returns
    -------
    RestructureTerms
    """
    waiver = settings.interest_waiver if interest_waiver is None else interest_waiver
    delay = float(settings.delay_months if delay_months is None else delay_months)
    trial = settings.trial_months

    debt = principal + (1.0 - np.asarray(waiver, dtype=float)) * interest
    fee = settings.restructure_fee_rate * debt
    financed = debt + fee
    rate = np.where(np.isnan(contract_rate), settings.default_contract_rate, contract_rate) * (1.0 - settings.rate_relief)
    j = rate / 12.0
    balloon = settings.principal_deferral * principal

    base_term = np.where(short_plan, settings.short_plan_months, settings.spread_months) if term_months is None else term_months
    term = np.broadcast_to(np.asarray(base_term, dtype=float), debt.shape).copy()
    max_term = float(max(settings.max_term_months - trial, 1))
    term = np.minimum(term, max(max_term, 1.0))

    # Interest accrues from the decision: the balance grows until the month before the first instalment.
    grown = financed * np.power(1.0 + j, max(delay - 1.0, 0.0))
    trial_instalment = settings.trial_payment_share * _level_instalment(grown, np.zeros_like(grown), j, term) * (trial > 0)
    after_trial = _balance_after_trial(grown, trial_instalment, j, trial)
    instalment = _level_instalment(after_trial, balloon, j, term)

    income_known = np.isfinite(monthly_income) & (monthly_income > 0)
    cap = settings.max_instalment_to_income * np.where(income_known, monthly_income, np.inf)
    # Extend the term of unaffordable schedules one month at a time, up to the longest term allowed.
    too_high = income_known & (instalment > cap)
    while too_high.any():
        extendable = too_high & (term < max_term)
        if not extendable.any():
            break
        term = np.where(extendable, term + 1.0, term)
        trial_instalment = np.where(
            extendable, settings.trial_payment_share * _level_instalment(grown, np.zeros_like(grown), j, term) * (trial > 0), trial_instalment
        )
        after_trial = _balance_after_trial(grown, trial_instalment, j, trial)
        instalment = np.where(extendable, _level_instalment(after_trial, balloon, j, term), instalment)
        too_high = income_known & (instalment > cap)
    affordable = ~too_high
    with np.errstate(divide="ignore", invalid="ignore"):
        to_income = np.where(income_known, instalment / np.where(income_known, monthly_income, 1.0), np.nan)

    total_paid = trial * trial_instalment + term * instalment + balloon
    bank_monthly = discount_rate / 12.0
    pv = _schedule_pv(bank_monthly, delay, trial, trial_instalment, term, instalment, balloon)
    discount_factor = np.where(total_paid > 0, pv / np.where(total_paid > 0, total_paid, 1.0), 0.0)
    weighted_month = (
        trial_instalment * (trial * delay + trial * (trial - 1) / 2.0)
        + instalment * (term * (delay + trial) + term * (term - 1) / 2.0)
        + balloon * (delay + trial + term - 1)
    )
    mean_month = np.where(total_paid > 0, weighted_month / np.where(total_paid > 0, total_paid, 1.0), delay)

    def pv_at(monthly: np.ndarray) -> np.ndarray:
        return _schedule_pv(monthly, delay, trial, trial_instalment, term, instalment, balloon)

    has_debt = debt > 0
    irr = _irr_monthly(np.where(has_debt, debt, 1.0), pv_at, j + 1e-4)
    apr = np.where(has_debt, 12.0 * irr, rate)

    observation = np.full(debt.shape, max(settings.observation_min_periods, settings.observation_min_months), dtype=float)

    return RestructureTerms(
        debt=debt,
        fee=fee,
        annual_rate=rate,
        delay_months=delay,
        trial_months=trial,
        trial_instalment=trial_instalment,
        term_months=term.astype(np.int64),
        instalment=instalment,
        balloon=balloon,
        apr=apr,
        income_known=income_known,
        instalment_to_income=to_income,
        affordable=affordable,
        total_paid=total_paid,
        discount_factor=discount_factor,
        mean_month=mean_month,
        observation_months=observation,
    )
