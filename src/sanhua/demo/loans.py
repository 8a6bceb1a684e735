"""Contract terms and balances at default of demo loans.

Products, amounts, terms and rates are drawn per loan; the balance at default
follows the annuity schedule up to the first missed instalment (cards: a
revolving balance). Interest and fees at default cover the three missed months
before 90 days past due. After default the loans are on non-accrual (停息挂账):
balances only fall with the cash received, so a loan's exposure at default
(EAD) is its balance at default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sanhua.demo.debtors import Debtors
from sanhua.demo.geography import PROVINCES
from sanhua.demo.settings import DemoSettings

__all__ = ["LoanTerms", "PRODUCTS", "draw_loan_terms", "COLLATERAL_CODES", "GRADES"]

PRODUCTS: tuple[str, ...] = ("credit_card", "consumer_loan", "business_loan", "mortgage", "auto_loan")
COLLATERAL_CODES: tuple[str, ...] = ("none", "mortgage", "pledge", "guarantee")
GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")

# Median contract amount (card: credit limit) in CNY and terms in months by product (ASSUMPTION).
_MEDIAN_AMOUNT = np.array([30_000.0, 60_000.0, 250_000.0, 700_000.0, 120_000.0])
_TERMS: tuple[tuple[int, ...], ...] = ((0,), (12, 24, 36), (12, 24, 36, 60), (240, 300, 360), (36, 60))
# Annual rate ranges by product (ASSUMPTION; cards at the common 0.05 % a day = 18.25 % a year).
_RATE_LOW = np.array([0.1825, 0.045, 0.035, 0.032, 0.03])
_RATE_HIGH = np.array([0.1825, 0.15, 0.08, 0.049, 0.08])


@dataclass
class LoanTerms:
    """Per-loan contract terms and balances at default (NumPy arrays, amounts in CNY).

    Attributes
    ----------
    owner : int64
        Index of the debtor in :class:`sanhua.demo.debtors.Debtors`.
    product : int64
        Index into :data:`PRODUCTS`.
    principal_original : float64
        Contract amount (cards: credit limit).
    term_months : int64
        Contract term; 0 for revolving cards.
    rate : float64
        Annual contract rate, fraction.
    installment : float64
        Monthly instalment (cards: the minimum payment, 10 % of the balance).
    paid_months : int64
        Instalments paid before the first missed one (cards: months on book).
    principal_at_default, interest_at_default, fees_at_default, ead : float64
        Balances at default; ``ead`` is their sum.
    collateral : int64
        Index into :data:`COLLATERAL_CODES`.
    notarised : bool
        Notarised enforceable instrument (公证赋强).
    grade : int64
        Index into :data:`GRADES` (internal grade at origination).
    """

    owner: np.ndarray
    product: np.ndarray
    principal_original: np.ndarray
    term_months: np.ndarray
    rate: np.ndarray
    installment: np.ndarray
    paid_months: np.ndarray
    principal_at_default: np.ndarray
    interest_at_default: np.ndarray
    fees_at_default: np.ndarray
    ead: np.ndarray
    collateral: np.ndarray
    notarised: np.ndarray
    grade: np.ndarray

    @property
    def size(self) -> int:
        """Number of loans."""
        return int(self.owner.size)


def assign_owners(rng: np.random.Generator, n_loans: int, second_loan_share: float) -> tuple[int, np.ndarray]:
    """Split ``n_loans`` among debtors, a share of whom hold two loans.

    Returns
    -------
    n_debtors : int
    owner : numpy.ndarray of int64
        Debtor index of each loan, sorted ascending.
    """
    n_debtors = max(int(round(n_loans / (1.0 + second_loan_share))), 1)
    extra = n_loans - n_debtors
    second = rng.choice(n_debtors, size=extra, replace=False) if extra > 0 else np.empty(0, dtype=np.int64)
    return n_debtors, np.sort(np.concatenate([np.arange(n_debtors), second])).astype(np.int64)


def draw_loan_terms(rng: np.random.Generator, owner: np.ndarray, debtors: Debtors, settings: DemoSettings) -> LoanTerms:
    """Draw products, contract terms and balances at default for loans of the given debtors."""
    n = owner.size
    mix = np.array([settings.product_mix.get(p, 0.0) for p in PRODUCTS])
    product = rng.choice(len(PRODUCTS), size=n, p=mix / mix.sum())
    ability = debtors.ability[owner]

    # Amount: product median, richer provinces and abler debtors borrow more.
    income_level = np.array([p.income_level for p in PROVINCES])[debtors.province[owner]]
    amount = _MEDIAN_AMOUNT[product] * np.sqrt(income_level) * np.exp(0.4 * (ability - 0.4) + rng.normal(0.0, 0.55, n))
    amount = np.round(amount / 1000.0) * 1000.0
    amount = np.maximum(amount, 2000.0)

    term = np.zeros(n, dtype=np.int64)
    for index, choices in enumerate(_TERMS):
        mask = product == index
        term[mask] = rng.choice(np.array(choices), size=int(mask.sum()))
    rate = np.round(rng.uniform(_RATE_LOW[product], _RATE_HIGH[product]), 4)
    card = product == 0

    # Instalments paid before the first missed one; cards: months on book.
    paid = np.where(card, rng.integers(6, 97, size=n), np.floor(rng.random(n) * np.maximum(term - 4, 1)).astype(np.int64) + 1)
    monthly = rate / 12.0
    safe_term = np.maximum(term, 1)
    growth_all = (1.0 + monthly) ** safe_term
    installment = np.where(card, 0.0, amount * monthly * growth_all / (growth_all - 1.0))
    remaining = amount * (growth_all - (1.0 + monthly) ** np.minimum(paid, safe_term)) / (growth_all - 1.0)

    card_balance = amount * rng.uniform(0.7, 1.1, size=n)
    principal = np.where(card, card_balance, remaining)
    installment = np.where(card, 0.1 * card_balance, installment)
    # Three missed months plus a month of accrual to default at 90 DPD.
    interest = principal * rate * 4.0 / 12.0
    fees = np.where(card, 0.05 * installment * 3.0 + 200.0, 0.5 * installment * 3.0 * rate)

    principal, interest, fees = (np.round(x, 2) for x in (principal, interest, fees))
    collateral = _draw_collateral(rng, product)
    notarised_share = np.where(card, settings.notarised_share / 5.0, settings.notarised_share)
    notarised = rng.random(n) < notarised_share
    score = ability + rng.normal(0.0, 0.15, size=n)
    grade = np.digitize(score, np.quantile(score, [0.15, 0.4, 0.7, 0.9]) if n > 4 else [0.2, 0.4, 0.6, 0.8])
    grade = (len(GRADES) - 1) - grade

    return LoanTerms(
        owner=owner,
        product=product.astype(np.int64),
        principal_original=amount,
        term_months=term,
        rate=rate,
        installment=np.round(installment, 2),
        paid_months=paid.astype(np.int64),
        principal_at_default=principal,
        interest_at_default=interest,
        fees_at_default=fees,
        ead=principal + interest + fees,
        collateral=collateral,
        notarised=notarised,
        grade=grade.astype(np.int64),
    )


def _draw_collateral(rng: np.random.Generator, product: np.ndarray) -> np.ndarray:
    """Draw collateral codes by product (ASSUMPTION shares)."""
    n = product.size
    draw = rng.random(n)
    collateral = np.zeros(n, dtype=np.int64)
    collateral[(product == 1) & (draw < 0.15)] = 3
    business = product == 2
    collateral[business & (draw < 0.35)] = 3
    collateral[business & (draw >= 0.35) & (draw < 0.55)] = 1
    collateral[product == 3] = 1
    collateral[product == 4] = 1
    return collateral
