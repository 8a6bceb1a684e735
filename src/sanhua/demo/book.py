"""One simulated book (history or tape): debtors, loans, court milestones, cash paths and dates.

:class:`BookState` is the container the table builders read. It is drawn from one
random generator in this order: debtors, loans, court milestones, recovery
paths, default and as-of dates. Debtors whose loans closed before their as-of
date are then rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np

from sanhua.demo.debtors import Debtors, draw_debtors
from sanhua.demo.loans import LoanTerms, assign_owners, draw_loan_terms
from sanhua.demo.recovery import NEVER, Litigation, RecoveryPaths, draw_litigation, simulate_recoveries
from sanhua.demo.settings import DemoSettings
from sanhua.demo.timeline import add_months, history_timing, tape_timing, to_datetime64
from sanhua.errors import ConfigError

__all__ = ["BookState", "draw_book"]

Book = Literal["history", "tape"]


@dataclass
class BookState:
    """Everything drawn for one book, as NumPy arrays.

    Attributes
    ----------
    book : {"history", "tape"}
    debtors : Debtors
    loans : LoanTerms
    litigation : Litigation
    paths : RecoveryPaths
    default_date : datetime64[D], per loan
    gap : int64, per loan
        Whole months from default to the as-of date.
    as_of : datetime64[D], per loan
    borrower_ids, loan_ids : numpy.ndarray of str
    """

    book: Book
    debtors: Debtors
    loans: LoanTerms
    litigation: Litigation
    paths: RecoveryPaths
    default_date: np.ndarray
    gap: np.ndarray
    as_of: np.ndarray
    borrower_ids: np.ndarray
    loan_ids: np.ndarray

    @property
    def before_as_of(self) -> np.ndarray:
        """Mask of the path's cash rows that fall in months completed by the as-of date."""
        return self.paths.month <= self.gap[self.paths.loan]


def _take(container: object, index: np.ndarray) -> object:
    """Return a copy of a dataclass of equal-length arrays restricted to ``index``."""
    return replace(container, **{f.name: getattr(container, f.name)[index] for f in fields(container)})


def _select(
    debtors: Debtors, loans: LoanTerms, litigation: Litigation, paths: RecoveryPaths, keep_debtor: np.ndarray, keep_loan: np.ndarray
) -> tuple[Debtors, LoanTerms, Litigation, RecoveryPaths]:
    """Restrict a draw to the kept debtors and loans and renumber both."""
    debtor_index = np.flatnonzero(keep_debtor)
    loan_index = np.flatnonzero(keep_loan)
    new_debtor = np.full(keep_debtor.size, -1, dtype=np.int64)
    new_debtor[debtor_index] = np.arange(debtor_index.size)
    new_loan = np.full(keep_loan.size, -1, dtype=np.int64)
    new_loan[loan_index] = np.arange(loan_index.size)

    kept_loans = _take(loans, loan_index)
    kept_loans.owner = new_debtor[kept_loans.owner]
    rows = keep_loan[paths.loan]
    kept_paths = RecoveryPaths(
        loan=new_loan[paths.loan[rows]],
        month=paths.month[rows],
        kind=paths.kind[rows],
        amount=paths.amount[rows],
        close_month=paths.close_month[loan_index],
    )
    return _take(debtors, debtor_index), kept_loans, _take(litigation, loan_index), kept_paths


def draw_book(rng: np.random.Generator, settings: DemoSettings, book: Book) -> BookState:
    """Draw one book of exactly ``settings.n_history_loans`` or ``settings.n_tape_loans`` loans.

    A loan that closed (paid off or settled) before its as-of date would not be
    in a book of non-performing loans, so debtors are drawn in excess and
    those with a loan closed by their as-of date are rejected. This keeps the
    recovery paths of the kept loans conditional on being open at the as-of
    date, as in a real book.
    """
    n_loans = settings.n_history_loans if book == "history" else settings.n_tape_loans
    oversampling = 1.5
    for _attempt in range(6):
        n_draw = int(np.ceil(n_loans * oversampling)) + 10
        n_debtors, owner = assign_owners(rng, n_draw, settings.second_loan_share)
        debtors = draw_debtors(rng, n_debtors, settings)
        loans = draw_loan_terms(rng, owner, debtors, settings)
        litigation = draw_litigation(rng, loans, debtors)
        paths = simulate_recoveries(rng, loans, debtors, litigation, settings)

        # A debtor's loans default together (cross-default) and share the as-of date.
        if book == "history":
            default_b, gap_b = history_timing(
                rng,
                n_debtors,
                settings.history_cutoff,
                settings.history_default_months,
                settings.as_of_at_default_share,
                settings.max_months_after_default,
            )
        else:
            default_b, gap_b = tape_timing(rng, n_debtors, settings.tape_cutoff)
        close = np.full(n_debtors, NEVER, dtype=np.int64)
        np.minimum.at(close, owner, paths.close_month)
        open_at_as_of = gap_b < close

        # Keep open debtors in draw order until the loan count is reached. The
        # last debtor may keep only its first loan.
        loans_per_debtor = np.bincount(owner, minlength=n_debtors) * open_at_as_of
        cumulative = np.cumsum(loans_per_debtor)
        if cumulative[-1] >= n_loans:
            break
        oversampling *= 1.5
    else:
        raise ConfigError(
            f"only {cumulative[-1]} of {n_loans} loans stay open at their as-of date; lower the recovery intensities "
            "in settings.recovery or the gap between default and as-of date."
        )

    keep_debtor = open_at_as_of & (cumulative - loans_per_debtor < n_loans)
    first_of_debtor = np.r_[True, owner[1:] != owner[:-1]]
    position = np.cumsum(loans_per_debtor)[owner] - loans_per_debtor[owner] + (~first_of_debtor).astype(np.int64)
    keep_loan = keep_debtor[owner] & (position < n_loans)
    debtors, loans, litigation, paths = _select(debtors, loans, litigation, paths, keep_debtor, keep_loan)
    default_b, gap_b = default_b[keep_debtor], gap_b[keep_debtor]
    n_debtors = debtors.size
    if book == "history":
        as_of_b = add_months(default_b, gap_b)
    else:
        as_of_b = np.full(n_debtors, to_datetime64(settings.tape_cutoff))

    # Customer and loan numbers: disjoint ranges per book, shuffled so order carries no signal.
    offset = 1_000_000_000 if book == "history" else 5_000_000_000
    customer = offset + rng.choice(900_000_000, size=n_debtors, replace=False)
    contract = offset * 100 + rng.choice(90_000_000_000, size=n_loans, replace=False)
    prefix = "H" if book == "history" else "T"
    borrower_ids = np.char.add("KH" + prefix, customer.astype(str))
    loan_ids = np.char.add("DK" + prefix, contract.astype(str))

    return BookState(
        book=book,
        debtors=debtors,
        loans=loans,
        litigation=litigation,
        paths=paths,
        default_date=default_b[loans.owner],
        gap=gap_b[loans.owner],
        as_of=as_of_b[loans.owner],
        borrower_ids=borrower_ids,
        loan_ids=loan_ids,
    )
