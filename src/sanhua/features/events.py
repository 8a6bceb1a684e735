"""Point-in-time features from repayments, collection events and contacts.

Only records dated on or before the loan's ``as_of_date`` are used, so a
record that arrives after the cut-off cannot change a feature. Recency
features are in days, shares are fractions in [0, 1].
"""

from __future__ import annotations

import polars as pl

from sanhua.features.loan import DAYS_PER_MONTH


def _as_of(loans: pl.DataFrame) -> pl.DataFrame:
    return loans.select("loan_id", "as_of_date")


def repayment_features(loans: pl.DataFrame, repayments: pl.DataFrame) -> pl.DataFrame:
    """Summarise the repayment flow before the cut-off, one row per loan.

    Returns ``loan_id`` with ``n_payments``, ``months_with_payment``,
    ``share_months_paid`` (months with a payment / months on book, [0, 1]),
    ``payment_gap_cv`` (coefficient of variation of the days between
    payments: regularity), ``days_since_last_repayment`` and
    ``paid_total_to_ead`` (amount repaid / EAD).
    """
    events = repayments.join(_as_of(loans), on="loan_id", how="inner").filter(
        pl.col("date") <= pl.col("as_of_date")
    )
    events = events.sort("loan_id", "date").with_columns(
        pl.col("date").diff().over("loan_id").dt.total_days().alias("_gap")
    )

    summary = events.group_by("loan_id").agg(
        pl.len().alias("n_payments"),
        pl.col("date").dt.truncate("1mo").n_unique().alias("months_with_payment"),
        (pl.col("_gap").std() / pl.col("_gap").mean()).alias("payment_gap_cv"),
        (pl.col("as_of_date").first() - pl.col("date").max()).dt.total_days().alias("days_since_last_repayment"),
        pl.col("amount").sum().alias("_paid"),
    )

    frame = loans.select("loan_id", "exposure_at_default", "origination_date", "as_of_date").join(
        summary, on="loan_id", how="left"
    )
    months_on_book = ((pl.col("as_of_date") - pl.col("origination_date")).dt.total_days() / DAYS_PER_MONTH).clip(
        lower_bound=1
    )
    return frame.select(
        "loan_id",
        pl.col("n_payments").fill_null(0).cast(pl.Float64),
        pl.col("months_with_payment").fill_null(0).cast(pl.Float64),
        (pl.col("months_with_payment").fill_null(0) / months_on_book).clip(0, 1).alias("share_months_paid"),
        pl.col("payment_gap_cv").cast(pl.Float64),
        pl.col("days_since_last_repayment").cast(pl.Float64),
        pl.when(pl.col("exposure_at_default") > 0)
        .then(pl.col("_paid").fill_null(0) / pl.col("exposure_at_default"))
        .otherwise(None)
        .alias("paid_total_to_ead"),
    )


def collection_features(loans: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Summarise collection events before the cut-off, one row per loan.

    Returns ``loan_id`` with ``n_contacts`` (attempts), ``contact_rate``
    (right-party contacts / attempts), ``right_party_contacts``,
    ``promises_made``, ``promise_kept_rate`` (promises followed by a
    ``paid`` outcome within 30 days / promises made), ``broken_promise_streak``
    (promises since the last ``paid`` outcome), ``refusals``, ``disputes``,
    ``complaints``, ``promise_share`` and ``refusal_share`` (promises, and
    refusals, disputes and complaints, per right-party contact) and
    ``days_since_last_contact`` (days since the last right-party contact).
    """
    ev = (
        events.join(_as_of(loans), on="loan_id", how="inner")
        .with_columns(pl.col("timestamp").dt.date().alias("_date"))
        .filter(pl.col("_date") <= pl.col("as_of_date"))
        .sort("loan_id", "timestamp")
    )
    outcome = pl.col("outcome")
    right_party = outcome.is_in(["right_party", "promise", "refuse", "dispute", "complaint", "paid"])

    # A promise is kept when a `paid` outcome for the same loan follows within 30 days.
    ev = ev.with_columns(
        pl.when(outcome == "paid").then(pl.col("_date")).otherwise(None).alias("_paid_date"),
    ).with_columns(
        pl.col("_paid_date").backward_fill().over("loan_id").alias("_next_paid"),
        (outcome == "paid").cast(pl.Int32).cum_sum().over("loan_id").alias("_paid_seen"),
    )
    kept = (outcome == "promise") & ((pl.col("_next_paid") - pl.col("_date")).dt.total_days() <= 30)
    last_paid_seen = pl.col("_paid_seen").max()

    summary = ev.group_by("loan_id").agg(
        pl.len().alias("n_contacts"),
        right_party.sum().alias("right_party_contacts"),
        (outcome == "promise").sum().alias("promises_made"),
        kept.sum().alias("_kept"),
        ((outcome == "promise") & (pl.col("_paid_seen") == last_paid_seen)).sum().alias("broken_promise_streak"),
        (outcome == "refuse").sum().alias("refusals"),
        (outcome == "dispute").sum().alias("disputes"),
        (outcome == "complaint").sum().alias("complaints"),
        (pl.col("as_of_date").first() - pl.col("_date").filter(right_party).max())
        .dt.total_days()
        .alias("days_since_last_contact"),
    )
    frame = loans.select("loan_id").join(summary, on="loan_id", how="left")
    counts = ["n_contacts", "right_party_contacts", "promises_made", "broken_promise_streak", "refusals", "disputes", "complaints"]
    return frame.select(
        "loan_id",
        *[pl.col(c).fill_null(0).cast(pl.Float64) for c in counts],
        pl.when(pl.col("n_contacts") > 0)
        .then(pl.col("right_party_contacts") / pl.col("n_contacts"))
        .otherwise(None)
        .alias("contact_rate"),
        pl.when(pl.col("promises_made") > 0)
        .then(pl.col("_kept") / pl.col("promises_made"))
        .otherwise(None)
        .alias("promise_kept_rate"),
        pl.when(pl.col("right_party_contacts") > 0)
        .then(pl.col("promises_made") / pl.col("right_party_contacts"))
        .otherwise(None)
        .alias("promise_share"),
        pl.when(pl.col("right_party_contacts") > 0)
        .then((pl.col("refusals") + pl.col("disputes") + pl.col("complaints")) / pl.col("right_party_contacts"))
        .otherwise(None)
        .alias("refusal_share"),
        pl.col("days_since_last_contact").cast(pl.Float64),
    )


def contact_features(loans: pl.DataFrame, contacts: pl.DataFrame, borrower_key: str) -> pl.DataFrame:
    """Count a debtor's contacts in the relationship graph, one row per loan.

    Returns ``loan_id`` with ``n_contacts_graph`` and ``n_reachable_contacts``.
    """
    per_debtor = contacts.group_by(borrower_key).agg(
        pl.len().alias("n_contacts_graph"),
        pl.col("reachable").fill_null(False).sum().alias("n_reachable_contacts"),
    )
    return loans.select("loan_id", borrower_key).join(per_debtor, on=borrower_key, how="left").select(
        "loan_id",
        pl.col("n_contacts_graph").fill_null(0).cast(pl.Float64),
        pl.col("n_reachable_contacts").fill_null(0).cast(pl.Float64),
    )
