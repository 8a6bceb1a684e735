"""Repayments and collection events of a demo book, all before each loan's as-of date.

Repayments contain the last (up to 24) instalments before the first missed
one, which willing debtors pay on time more often. After them come the cash
rows of the recovery path in the months completed by the as-of date, with
kinds ``partial`` (voluntary), ``recovery`` and ``settlement``.

Collection events run from 75 days before default (about 15 days past due)
to the as-of date. Right-party contact, promises, refusals, disputes and
complaints follow willingness; a lost-contact debtor is rarely reached. Every
post-default voluntary payment or settlement before the as-of date is preceded
by a promise of its amount and followed by a ``paid`` event; a pre-default
promise due before default is kept (a partial repayment and a ``paid`` event)
with a probability that rises with willingness. Court milestones appear as ``legal`` events.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sanhua.demo.book import BookState
from sanhua.demo.timeline import add_months

__all__ = ["build_repayments", "build_collection_events", "CHANNELS", "EVENT_OUTCOMES"]

CHANNELS: tuple[str, ...] = ("phone", "sms", "letter", "visit", "ai_voice", "mediation", "legal")
EVENT_OUTCOMES: tuple[str, ...] = (
    "no_answer", "right_party", "third_party", "promise", "refuse", "dispute", "complaint", "paid",
)
_HARDSHIP_ZH = ("", "生病住院", "失业", "遭遇意外受伤", "生意失败")
_PRE_DEFAULT_DAYS = 75
_DAY = np.timedelta64(1, "D")


def _days(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64).astype("timedelta64[D]")


def build_repayments(rng: np.random.Generator, state: BookState) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the repayments before as-of and the pre-default promise events that were kept.

    Returns
    -------
    repayments : pl.DataFrame
        Canonical repayments (``loan_id``, ``date``, ``amount``, ``kind``) plus
        ``_loan`` (loan index).
    origination : pl.DataFrame
        ``_loan``, ``origination_date`` and ``maturity_date`` per loan.
    """
    loans = state.loans
    n = loans.size
    willingness = state.debtors.willingness[loans.owner]
    ability = state.debtors.ability[loans.owner]

    # The first missed due date is 90 days before default, moved back to day 28 at the latest.
    first_missed = state.default_date - 90 * _DAY
    day = (first_missed - first_missed.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    first_missed = first_missed - np.maximum(day - 27, 0) * _DAY
    origination = add_months(first_missed, -(loans.paid_months + 1))
    maturity = np.where(loans.term_months > 0, add_months(origination, loans.term_months), np.datetime64("NaT"))

    count = np.minimum(loans.paid_months, 24)
    loan = np.repeat(np.arange(n), count)
    # Instalment j (1-based, counted back from the last paid one).
    starts = np.repeat(np.cumsum(count) - count, count)
    back = count[loan] - (np.arange(loan.size) - starts)
    due = add_months(first_missed[loan], -back)
    on_time = rng.random(loan.size) < 0.45 + 0.5 * willingness[loan]
    late_days = np.where(on_time, rng.integers(-3, 1, loan.size), rng.integers(3, 26, loan.size))
    card = loans.product[loan] == 0
    paid_multiple = np.where(card, 1.0 + 2.0 * ability[loan] * rng.random(loan.size), 1.0)
    instalments = pl.DataFrame(
        {
            "_loan": loan,
            "date": due + _days(late_days),
            "amount": np.round(loans.installment[loan] * paid_multiple, 2),
            "kind": np.full(loan.size, "instalment"),
        }
    )

    paths = state.paths
    before = state.before_as_of
    path_loan = paths.loan[before]
    month_start = add_months(state.default_date[path_loan], paths.month[before] - 1)
    post_default = pl.DataFrame(
        {
            "_loan": path_loan,
            "date": month_start + _days(rng.integers(0, 28, path_loan.size)),
            "amount": paths.amount[before],
            "kind": np.array(["recovery", "settlement", "partial"])[paths.kind[before]],
        }
    )

    repayments = pl.concat([instalments, post_default]).with_columns(pl.col("date").cast(pl.Date))
    origination_frame = pl.DataFrame(
        {"_loan": np.arange(n), "origination_date": origination, "maturity_date": maturity}
    ).with_columns(pl.col("origination_date", "maturity_date").cast(pl.Date))
    return repayments, origination_frame


def _pick(rng: np.random.Generator, options: int, probabilities: np.ndarray) -> np.ndarray:
    """Draw one option per row from row-wise probabilities (n, options)."""
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative /= cumulative[:, -1:]
    return (rng.random(probabilities.shape[0])[:, None] > cumulative).sum(axis=1).clip(0, options - 1)


def _timestamps(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Turn dates into local times between 08:00 and 21:59 (no contact at night)."""
    seconds = rng.integers(8 * 3600, 22 * 3600, days.size)
    return days.astype("datetime64[us]") + (seconds * 1_000_000).astype("timedelta64[us]")


def build_collection_events(
    rng: np.random.Generator, state: BookState, repayments: pl.DataFrame, contact_names: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build collection events before each loan's as-of date.

    Parameters
    ----------
    rng : numpy.random.Generator
    state : BookState
    repayments : pl.DataFrame
        Output of :func:`build_repayments` (``_loan``, ``date``, ``amount``, ``kind``).
    contact_names : pl.DataFrame
        ``_loan``, ``contact_name``, ``contact_phone``: a contact a collector may
        name in a note.

    Returns
    -------
    events : pl.DataFrame
        Canonical collection events plus ``_loan``.
    kept_payments : pl.DataFrame
        Partial repayments of kept pre-default promises (``_loan``, ``date``,
        ``amount``, ``kind``).
    """
    loans = state.loans
    debtors = state.debtors
    n = loans.size
    willingness = debtors.willingness[loans.owner]
    lost = debtors.lost_contact[loans.owner]

    # Routine contact attempts: a dense pre-default phase, then a decaying rate.
    post_mass = 12.0 * (1.0 - np.exp(-state.gap / 12.0))
    n_pre = rng.poisson(5.0 + 5.0 * (1.0 - willingness))
    n_post = np.minimum(rng.poisson(2.2 * post_mass), 50)
    loan = np.concatenate([np.repeat(np.arange(n), n_pre), np.repeat(np.arange(n), n_post)])
    pre = np.concatenate([np.ones(n_pre.sum(), dtype=bool), np.zeros(n_post.sum(), dtype=bool)])
    u = rng.random(loan.size)
    post_days = -365.25 * np.log(1.0 - u * (1.0 - np.exp(-state.gap[loan] / 12.0)))
    span = (state.as_of[loan] - state.default_date[loan]).astype(np.int64)
    offset = np.where(pre, -np.floor(u * _PRE_DEFAULT_DAYS) - 1, np.minimum(np.floor(post_days), span - 1))
    days = state.default_date[loan] + _days(offset)

    channel_pre = np.array([0.5, 0.25, 0.05, 0.0, 0.2, 0.0, 0.0])
    channel_post = np.array([0.42, 0.15, 0.1, 0.1, 0.23, 0.0, 0.0])
    channel = np.where(pre, rng.choice(7, loan.size, p=channel_pre), rng.choice(7, loan.size, p=channel_post))

    will = willingness[loan]
    reach = (0.15 + 0.6 * will) * np.where(lost[loan], 0.2, 1.0) + np.where(channel == 3, 0.15, 0.0)
    voice = np.isin(channel, (0, 3, 4))
    reached = voice & (rng.random(loan.size) < reach)
    third = voice & ~reached & (rng.random(loan.size) < 0.3)
    # Given right-party contact: right_party, promise, refuse, dispute, complaint.
    answer = _pick(
        rng,
        5,
        np.column_stack(
            [
                0.35 * np.ones(loan.size),
                0.08 + 0.45 * will,
                0.05 + 0.35 * (1.0 - will),
                0.01 + 0.06 * (1.0 - will),
                0.005 + 0.035 * (1.0 - will),
            ]
        ),
    )
    outcome = np.where(reached, np.array([1, 3, 4, 5, 6])[answer], np.where(third, 2, 0))

    promise = outcome == 3
    promise_amount = np.where(
        promise, np.maximum(np.round(loans.ead[loan] * rng.uniform(0.02, 0.1, loan.size), -2), 200.0), np.nan
    )
    promise_date = np.where(promise, days + _days(rng.integers(3, 16, loan.size)), np.datetime64("NaT"))

    routine = pl.DataFrame(
        {
            "_loan": loan,
            "timestamp": _timestamps(rng, days),
            "channel": np.array(CHANNELS)[channel],
            "outcome": np.array(EVENT_OUTCOMES)[outcome],
            "promise_amount": promise_amount,
            "promise_date": promise_date,
        }
    )

    # A pre-default promise is kept with a probability that rises with willingness.
    # A promise due after default stays unkept, so cash after default is exactly the recovery path.
    kept = pre & promise & (rng.random(loan.size) < 0.15 + 0.55 * will) & (promise_date < state.default_date[loan])
    # NOTE: these partial payments are not deducted from the balance at default,
    # so the pre-default repayments do not reconcile with the EAD to the fen.
    kept_payments = pl.DataFrame(
        {
            "_loan": loan[kept],
            "date": promise_date[kept],
            "amount": promise_amount[kept],
            "kind": np.full(int(kept.sum()), "partial"),
        }
    ).with_columns(pl.col("date").cast(pl.Date))

    post_cash = repayments.filter(pl.col("kind") != "instalment")
    followed = pl.concat([post_cash, kept_payments])
    events = pl.concat(
        [
            routine,
            _payment_events(rng, followed, promised=post_cash.filter(pl.col("kind") != "recovery")),
            _legal_events(rng, state),
        ],
        how="diagonal_relaxed",
    ).with_columns(pl.col("promise_date").cast(pl.Date))
    events = events.with_columns(note=_notes(rng, events, state, contact_names))
    return events, kept_payments


def _payment_events(rng: np.random.Generator, paid: pl.DataFrame, promised: pl.DataFrame) -> pl.DataFrame:
    """Return a ``paid`` event on each payment date and a promise a few days before each promised payment."""
    n_paid = paid.height
    paid_events = pl.DataFrame(
        {
            "_loan": paid["_loan"].to_numpy(),
            "timestamp": _timestamps(rng, paid["date"].to_numpy().astype("datetime64[D]")),
            "channel": np.full(n_paid, "phone"),
            "outcome": np.full(n_paid, "paid"),
            "promise_amount": paid["amount"].to_numpy(),
            "promise_date": np.full(n_paid, np.datetime64("NaT"), dtype="datetime64[D]"),
        }
    )
    pay_date = promised["date"].to_numpy().astype("datetime64[D]")
    lead = rng.integers(3, 11, promised.height)
    promise_events = pl.DataFrame(
        {
            "_loan": promised["_loan"].to_numpy(),
            "timestamp": _timestamps(rng, pay_date - _days(lead)),
            "channel": np.full(promised.height, "phone"),
            "outcome": np.full(promised.height, "promise"),
            "promise_amount": np.ceil(promised["amount"].to_numpy() / 100.0) * 100.0,
            "promise_date": pay_date,
        }
    )
    return pl.concat([paid_events, promise_events])


def _legal_events(rng: np.random.Generator, state: BookState) -> pl.DataFrame:
    """Return the court milestones (filing, judgment or mediation, enforcement) reached by the as-of date."""
    lit = state.litigation
    frames = []
    for milestone, months in (("sued", lit.sued), ("judged", lit.judged), ("execution", lit.execution)):
        reached = np.flatnonzero(months <= state.gap)
        if reached.size == 0:
            continue
        day = add_months(state.default_date[reached], np.maximum(months[reached] - 1, 0)) + _days(
            rng.integers(0, 25, reached.size)
        )
        day = np.minimum(day, state.as_of[reached] - _DAY)
        mediated = lit.mediated[reached] & (milestone == "judged")
        frames.append(
            pl.DataFrame(
                {
                    "_loan": reached,
                    "timestamp": _timestamps(rng, day),
                    "channel": np.where(mediated, "mediation", "legal"),
                    "outcome": np.where(mediated, "right_party", "no_answer"),
                    "promise_amount": np.full(reached.size, np.nan),
                    "promise_date": np.full(reached.size, np.datetime64("NaT"), dtype="datetime64[D]"),
                    "_milestone": np.full(reached.size, milestone),
                }
            )
        )
    if not frames:
        return pl.DataFrame(schema={"_loan": pl.Int64, "_milestone": pl.Utf8})
    return pl.concat(frames)


def _notes(rng: np.random.Generator, events: pl.DataFrame, state: BookState, contacts: pl.DataFrame) -> pl.Series:
    """Write a collector's note per event; some name a contact or a phone number, as real notes do."""
    n = events.height
    debtors = state.debtors
    owner = state.loans.owner[events["_loan"].to_numpy()]
    # A debtor mentions the hardship only while it lasts (pre-default events included).
    loan = events["_loan"].to_numpy()
    event_day = events["timestamp"].to_numpy().astype("datetime64[D]")
    months_after = (event_day - state.default_date[loan]).astype(np.int64) / 30.44
    active = months_after <= debtors.hardship_end[owner]
    kind = np.where(active, debtors.hardship_kind[owner], 0)
    hardship_text = pl.Series(_HARDSHIP_ZH).gather(kind)
    lost = pl.Series(debtors.lost_contact[owner])
    variant = pl.Series(rng.integers(0, 3, n))
    who = events.select("_loan").join(contacts, on="_loan", how="left", maintain_order="left")
    name = who["contact_name"].fill_null("家属")
    phone = who["contact_phone"].fill_null("")
    amount = events["promise_amount"].fill_nan(None).round(0).cast(pl.Int64, strict=False).cast(pl.Utf8).fill_null("")
    promise_day = events["promise_date"].dt.strftime("%-m月%-d日").fill_null("")
    milestone = events["_milestone"] if "_milestone" in events.columns else pl.Series([None] * n, dtype=pl.Utf8)

    frame = pl.DataFrame(
        {
            "channel": events["channel"],
            "outcome": events["outcome"],
            "hardship": hardship_text,
            "lost": lost,
            "variant": variant,
            "name": name,
            "phone": phone,
            "amount": amount,
            "day": promise_day,
            "milestone": milestone,
        }
    )
    c, o, v = pl.col("channel"), pl.col("outcome"), pl.col("variant")
    note = (
        pl.when(pl.col("milestone") == "sued").then(pl.lit("已向法院提起诉讼"))
        .when(pl.col("milestone") == "execution").then(pl.lit("已向法院申请强制执行"))
        .when((pl.col("milestone") == "judged") & (c == "mediation")).then(pl.lit("调解中心介入，双方达成调解协议并申请司法确认"))
        .when(pl.col("milestone") == "judged").then(pl.lit("法院已作出判决"))
        .when(o == "paid").then(pl.concat_str(pl.lit("客户已还款"), pl.col("amount"), pl.lit("元")))
        .when(o == "promise").then(pl.concat_str(pl.lit("本人承诺于"), pl.col("day"), pl.lit("前还款"), pl.col("amount"), pl.lit("元")))
        .when((o == "right_party") & (pl.col("hardship") != "")).then(
            pl.concat_str(pl.lit("本人接听，称"), pl.col("hardship"), pl.lit("，暂时无力还款"))
        )
        .when(o == "right_party").then(pl.lit("本人接听，已告知欠款金额，未明确还款时间"))
        .when((o == "third_party") & (v == 0)).then(
            pl.concat_str(pl.lit("联系人"), pl.col("name"), pl.lit("（"), pl.col("phone"), pl.lit("）表示会转告本人"))
        )
        .when(o == "third_party").then(pl.concat_str(pl.col("name"), pl.lit("接听，称本人不在，已请其转告")))
        .when((o == "refuse") & (v == 0)).then(pl.lit("态度强硬，拒绝沟通"))
        .when(o == "refuse").then(pl.lit("本人明确表示拒绝还款"))
        .when((o == "dispute") & (v == 0)).then(pl.lit("客户称该笔贷款非本人办理"))
        .when(o == "dispute").then(pl.lit("客户对欠款金额有异议，要求提供明细"))
        .when(o == "complaint").then(pl.lit("客户表示将向监管部门投诉催收行为"))
        .when(c == "sms").then(pl.lit("已发送催收短信"))
        .when(c == "letter").then(pl.lit("已寄送催收函至家庭住址"))
        .when((c == "visit") & pl.col("lost")).then(pl.lit("外访未见本人，邻居称已搬离"))
        .when(c == "visit").then(pl.lit("外访未见本人，已留催收通知书"))
        .when(pl.col("lost")).then(pl.lit("号码已停机"))
        .when(v == 0).then(pl.lit("电话关机"))
        .otherwise(pl.lit("无人接听"))
    )
    return frame.select(note.alias("note")).to_series()
