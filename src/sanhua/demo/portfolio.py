"""The seeded demo portfolio: a history book with outcomes and a tape, in canonical tables.

History: loans observed at their as-of date (基准日), which is the default
date plus 0-48 whole months (40 % at default, so default cohorts are visible),
never after the history cut-off. Repayments and collection events are before
the as-of date, and ``outcomes`` contains the cash of the months after it, up to the
history cut-off, by month after default (this is what a model may learn from).

Tape: other loans, all at the tape cut-off, from 91 days to about seven years
past due; the same tables without outcomes.

DPD at the as-of date is ``90 + days since default`` (a loan defaults on its
90th day past due). Balances are on non-accrual after default: the balance at
the as-of date is the balance at default minus the cash received since
(applied to fees, then interest, then principal). The canonical
``exposure_at_default`` is principal plus interest plus fees outstanding at the
as-of date, exactly as the ``cn-bank`` profile derives it from the written
files; the balance at default is in ``latent.ead_at_default``.

``latent`` holds, per loan of both books, the latent willingness and ability,
the hardship and vulnerability draws and the whole simulated cash path after
default (the tape's future included). It carries loan ids and no personal
data; it is meant for tests and demonstrations, never for a model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.demo.activity import build_collection_events, build_repayments
from sanhua.demo.book import BookState, draw_book
from sanhua.demo.debtors import HARDSHIP_ABILITY_FACTOR, HARDSHIP_KINDS, VULNERABILITY_KINDS
from sanhua.demo.external import build_external
from sanhua.demo.geography import PROVINCES
from sanhua.demo.loans import COLLATERAL_CODES, GRADES, PRODUCTS
from sanhua.demo.people import build_borrowers, build_contacts
from sanhua.demo.recovery import NEVER, OUTCOME_KINDS
from sanhua.demo.settings import DemoSettings
from sanhua.demo.timeline import months_between, to_datetime64
from sanhua.errors import ConfigError
from sanhua.tape.schema import TABLES

__all__ = ["DemoPortfolio", "generate_portfolio", "conform"]

logger = logging.getLogger(__name__)
_DAY = np.timedelta64(1, "D")


@dataclass
class DemoPortfolio:
    """Canonical tables of the demo history and tape, and the latent values behind them.

    Attributes
    ----------
    history : dict of str to polars.DataFrame
        Every canonical table of :mod:`sanhua.tape.schema` (``outcomes``
        included), personal columns in clear synthetic values.
    tape : dict of str to polars.DataFrame
        Every canonical table except ``outcomes``.
    latent : polars.DataFrame
        One row per loan of both books: ``loan_id``, ``book``,
        ``willingness``, ``ability`` (long-run), ``ability_at_as_of``,
        ``hardship``, ``hardship_kind``, ``hardship_end_month``,
        ``vulnerable``, ``lost_contact``, ``region_factor``,
        ``months_since_default``, ``close_month`` (null when open over the
        horizon), ``ead_at_default`` (balance at default, CNY), ``recovery_12m`` (cash in months
        1-12 after default, CNY), ``future_recovery`` (cash after the as-of
        month over the horizon, CNY) and ``recovery_path`` (cash by month after
        default, 1 to ``horizon_months``, CNY).
    settings : DemoSettings
    """

    history: dict[str, pl.DataFrame]
    tape: dict[str, pl.DataFrame]
    latent: pl.DataFrame
    settings: DemoSettings


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast the columns of a canonical table, in schema order."""
    schema = TABLES[table]
    missing = [c for c in schema.names if c not in frame.columns]
    if missing:
        raise ValueError(f"demo table {table!r} lacks canonical columns {missing}")
    columns = []
    for column in schema.columns:
        expression = pl.col(column.name).cast(column.dtype)
        if column.dtype == pl.Float64:
            expression = expression.fill_nan(None)
        columns.append(expression)
    return frame.select(columns)


def _five_tier(product: np.ndarray, dpd: np.ndarray, written_off: np.ndarray) -> np.ndarray:
    """Classify by days past due: 2023 rules for loans, the 2011 card rule for cards; written off is loss."""
    card = product == 0
    loan_tier = np.select([dpd > 360, dpd > 270], ["loss", "doubtful"], default="substandard")
    card_tier = np.select([dpd > 180, dpd > 120], ["loss", "doubtful"], default="substandard")
    return np.where(written_off, "loss", np.where(card, card_tier, loan_tier))


def _litigation_status(state: BookState) -> np.ndarray:
    lit = state.litigation
    gap = state.gap
    return np.select(
        [
            gap < lit.sued,
            gap < lit.judged,
            lit.mediated,
            gap < lit.execution,
            gap < lit.ended,
        ],
        ["not_sued", "in_suit", "mediated", "judged", "in_execution"],
        default="execution_ended_no_assets",
    )


def _loans_table(rng: np.random.Generator, state: BookState, repayments: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    loans = state.loans
    n = loans.size
    dpd = 90 + (state.as_of - state.default_date).astype(np.int64)

    # Cash received before as-of, applied to fees, then interest, then principal.
    before = state.before_as_of
    received = np.bincount(state.paths.loan[before], state.paths.amount[before], minlength=n)
    fees = np.maximum(loans.fees_at_default - received, 0.0)
    rest = np.maximum(received - loans.fees_at_default, 0.0)
    interest = np.maximum(loans.interest_at_default - rest, 0.0)
    rest = np.maximum(rest - loans.interest_at_default, 0.0)
    principal = np.maximum(loans.principal_at_default - rest, 0.0)

    write_off_month = np.where(
        loans.product == 0, 6.0 + rng.exponential(6.0, n), 12.0 + rng.exponential(12.0, n)
    )
    written_off = state.gap >= write_off_month
    debtors = state.debtors
    region = np.array([p.name for p in PROVINCES])[debtors.province[loans.owner]]

    last_payment = (
        repayments.group_by("_loan").agg(pl.col("date").max().alias("last_payment_date"))
    )
    note = _loan_notes(rng, state, written_off)
    frame = pl.DataFrame(
        {
            "_loan": np.arange(n),
            "loan_id": state.loan_ids,
            "borrower_id": state.borrower_ids[loans.owner],
            "product": np.array(PRODUCTS)[loans.product],
            "currency": np.full(n, "CNY"),
            "default_date": state.default_date,
            "as_of_date": state.as_of,
            "principal_original": loans.principal_original,
            "principal_outstanding": np.round(principal, 2),
            "interest_outstanding": np.round(interest, 2),
            "fees_outstanding": np.round(fees, 2),
            "exposure_at_default": np.round(principal, 2) + np.round(interest, 2) + np.round(fees, 2),
            "interest_rate": loans.rate,
            "term_months": pl.Series(loans.term_months).replace(0, None),
            "installment": loans.installment,
            "dpd": dpd,
            "five_tier": _five_tier(loans.product, dpd, written_off),
            "written_off": written_off,
            "collateral": np.array(COLLATERAL_CODES)[loans.collateral],
            "region": region,
            "litigation_status": _litigation_status(state),
            "grade": np.array(GRADES)[loans.grade],
            "notarised": loans.notarised,
            "note": note,
        }
    )
    return frame.join(dates, on="_loan", how="left").join(last_payment, on="_loan", how="left").with_columns(
        pl.col("default_date", "as_of_date").cast(pl.Date)
    ).sort("_loan")


def _loan_notes(rng: np.random.Generator, state: BookState, written_off: np.ndarray) -> np.ndarray:
    """Write the loan's free-text remark (备注); some quote the debtor's phone, as real remarks do."""
    n = state.loans.size
    lost = state.debtors.lost_contact[state.loans.owner]
    sued = state.litigation.sued <= state.gap
    phone = (13_000_000_000 + rng.integers(0, 999_999_999, n)).astype(str)
    choice = rng.integers(0, 3, n)
    return np.select(
        [
            lost & (choice == 0),
            lost,
            written_off,
            sued,
            state.loans.notarised,
            choice == 0,
        ],
        [
            np.char.add(np.char.add("客户失联，原号码", phone), "已停机"),
            np.full(n, "客户失联，待失联修复"),
            np.full(n, "已核销，账销案存，继续追偿"),
            np.full(n, "已进入诉讼程序"),
            np.full(n, "合同已办理赋强公证"),
            np.full(n, "已委外催收"),
        ],
        default="正常催收中",
    )


def _outcomes_table(state: BookState, cutoff: np.datetime64) -> pl.DataFrame:
    """Cash of the months after each loan's as-of month that the cut-off has completed."""
    paths = state.paths
    observable = months_between(state.default_date, cutoff)
    keep = (paths.month > state.gap[paths.loan]) & (paths.month <= observable[paths.loan])
    return pl.DataFrame(
        {
            "_loan": paths.loan[keep],
            "loan_id": state.loan_ids[paths.loan[keep]],
            "month": paths.month[keep],
            "amount": paths.amount[keep],
            "kind": np.array(OUTCOME_KINDS)[paths.kind[keep]],
        }
    )


def _latent_table(state: BookState, settings: DemoSettings) -> pl.DataFrame:
    loans = state.loans
    debtors = state.debtors
    owner = loans.owner
    n = loans.size
    paths = state.paths
    horizon = settings.horizon_months

    dense = np.zeros((n, horizon))
    np.add.at(dense, (paths.loan, paths.month - 1), paths.amount)
    months = np.arange(1, horizon + 1)
    future = (dense * (months[None, :] > state.gap[:, None])).sum(axis=1)
    hardship_now = debtors.hardship[owner] & (state.gap <= debtors.hardship_end[owner])

    return pl.DataFrame(
        {
            "loan_id": state.loan_ids,
            "book": np.full(n, state.book),
            "willingness": debtors.willingness[owner],
            "ability": debtors.ability[owner],
            "ability_at_as_of": np.where(hardship_now, debtors.ability[owner] * HARDSHIP_ABILITY_FACTOR, debtors.ability[owner]),
            "hardship": debtors.hardship[owner],
            "hardship_kind": np.array(HARDSHIP_KINDS)[debtors.hardship_kind[owner]],
            "hardship_end_month": debtors.hardship_end[owner],
            "vulnerable": debtors.vulnerable[owner],
            "vulnerability_kind": np.array(VULNERABILITY_KINDS)[debtors.vulnerable_kind[owner]],
            "lost_contact": debtors.lost_contact[owner],
            "region_factor": debtors.region_factor[owner],
            "months_since_default": state.gap,
            "close_month": pl.Series(paths.close_month).replace(NEVER, None),
            "ead_at_default": np.round(loans.ead, 2),
            "recovery_12m": np.round(dense[:, :12].sum(axis=1), 2),
            "future_recovery": np.round(future, 2),
            "recovery_path": dense,
        },
        schema_overrides={"recovery_path": pl.List(pl.Float64)},
    )


def _build_tables(rng: np.random.Generator, state: BookState, settings: DemoSettings) -> dict[str, pl.DataFrame]:
    """Build every canonical table of one book from its state."""
    repayments, dates = build_repayments(rng, state)
    borrowers = build_borrowers(rng, state, settings)
    contacts = build_contacts(rng, state)

    # The first contact of each loan's debtor, for collectors' notes.
    first_contact = (
        contacts.group_by("_debtor", maintain_order=True)
        .first()
        .select("_debtor", "contact_name", "contact_phone")
    )
    loan_contact = pl.DataFrame({"_loan": np.arange(state.loans.size), "_debtor": state.loans.owner}).join(
        first_contact, on="_debtor", how="left"
    ).drop("_debtor")
    events, kept = build_collection_events(rng, state, repayments, loan_contact)
    repayments = pl.concat([repayments, kept]).with_columns(
        loan_id=pl.Series(state.loan_ids).gather(pl.concat([repayments["_loan"], kept["_loan"]]))
    )
    events = events.with_columns(loan_id=pl.Series(state.loan_ids).gather(events["_loan"]))
    external = build_external(rng, state, borrowers, settings)
    loans = _loans_table(rng, state, repayments, dates)

    tables = {
        "loans": loans,
        "borrowers": borrowers,
        "repayments": repayments.sort("_loan", "date", maintain_order=True),
        "collection_events": events.sort("_loan", "timestamp", maintain_order=True),
        "contacts": contacts,
        "external": external,
    }
    if state.book == "history":
        tables["outcomes"] = _outcomes_table(state, to_datetime64(settings.history_cutoff))
    return {name: conform(name, frame) for name, frame in tables.items()}


def generate_portfolio(settings: DemoSettings) -> DemoPortfolio:
    """Generate the seeded demo history, tape and latent values.

    Parameters
    ----------
    settings : DemoSettings
        Sizes, cut-off dates and knobs. The same settings give identical frames.

    Returns
    -------
    DemoPortfolio

    Examples
    --------
    >>> from sanhua.demo import DemoSettings, generate_portfolio
    >>> demo = generate_portfolio(DemoSettings(n_history_loans=500, n_tape_loans=200))
    >>> sorted(demo.history) == sorted(['loans', 'borrowers', 'repayments', 'collection_events',
    ...                                 'contacts', 'external', 'outcomes'])
    True
    """
    started = time.perf_counter()
    unknown = sorted(set(settings.region_bias) - {p.name for p in PROVINCES})
    if unknown:
        raise ConfigError(
            f"region_bias names unknown provinces {unknown}; use full names such as '广东省' or '北京市'."
        )
    history_seed, tape_seed = np.random.SeedSequence(settings.seed).spawn(2)

    history_rng = np.random.default_rng(history_seed)
    history_state = draw_book(history_rng, settings, "history")
    history = _build_tables(history_rng, history_state, settings)

    tape_rng = np.random.default_rng(tape_seed)
    tape_state = draw_book(tape_rng, settings, "tape")
    tape = _build_tables(tape_rng, tape_state, settings)

    latent = pl.concat([_latent_table(history_state, settings), _latent_table(tape_state, settings)])
    logger.info(
        "demo portfolio generated: %d history loans, %d tape loans, %d outcome rows in %.2f s",
        history["loans"].height,
        tape["loans"].height,
        history["outcomes"].height,
        time.perf_counter() - started,
    )
    return DemoPortfolio(history=history, tape=tape, latent=latent, settings=settings)
