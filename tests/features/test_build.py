"""Tests of the point-in-time feature builder."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from sanhua.features import build_features
from sanhua.features.events import collection_features

from ..assess.synthetic import SyntheticTape, make_tape


def _with_events(tape: SyntheticTape, shift_days: int = 0) -> SyntheticTape:
    loans = tape.loans.head(200)
    rows = []
    for loan_id, as_of in loans.select("loan_id", "as_of_date").iter_rows():
        base = datetime.combine(as_of, datetime.min.time())
        rows += [
            (loan_id, base - timedelta(days=40), "phone", "promise", 100.0, as_of - timedelta(days=30)),
            (loan_id, base - timedelta(days=20), "phone", "paid", None, None),
            (loan_id, base - timedelta(days=10), "sms", "no_answer", None, None),
        ]
        # Records after the cut-off must not change any feature.
        rows += [
            (loan_id, base + timedelta(days=5 + shift_days), "phone", "complaint", None, None),
            (loan_id, base + timedelta(days=9 + shift_days), "visit", "right_party", None, None),
        ]
    events = pl.DataFrame(
        rows,
        schema={"loan_id": pl.Utf8, "timestamp": pl.Datetime("us"), "channel": pl.Utf8, "outcome": pl.Utf8, "promise_amount": pl.Float64, "promise_date": pl.Date},
        orient="row",
    )
    repayments = loans.select(
        "loan_id",
        (pl.col("as_of_date") - pl.duration(days=20)).alias("date"),
        pl.lit(50.0).alias("amount"),
        pl.lit("partial").alias("kind"),
    )
    late = loans.select("loan_id", (pl.col("as_of_date") + pl.duration(days=3 + shift_days)).alias("date"), pl.lit(999.0).alias("amount"), pl.lit("recovery").alias("kind"))
    tables = {**tape.tables, "loans": loans, "collection_events": events, "repayments": pl.concat([repayments, late])}
    return SyntheticTape(tables)


def test_records_after_cutoff_do_not_change_features():
    tape, _ = make_tape(n=300)
    first = build_features(_with_events(tape, shift_days=0))
    second = build_features(_with_events(tape, shift_days=400))
    assert first.frame.equals(second.frame)


def test_collection_features_count_before_cutoff_only():
    tape, _ = make_tape(n=300)
    shifted = _with_events(tape)
    features = collection_features(shifted.loans, shifted.table("collection_events"))
    row = features.row(0, named=True)
    assert row["n_contacts"] == 3
    assert row["promises_made"] == 1
    assert row["promise_kept_rate"] == pytest.approx(1.0)
    assert row["complaints"] == 0
    assert row["contact_rate"] == pytest.approx(2 / 3)
    assert row["days_since_last_contact"] == pytest.approx(20)


def test_row_order_does_not_change_features():
    tape, _ = make_tape(n=300)
    shifted = _with_events(tape)
    reversed_tables = {name: frame.reverse() for name, frame in shifted.tables.items()}
    first = build_features(shifted).frame.sort("loan_id")
    second = build_features(SyntheticTape(reversed_tables)).frame.sort("loan_id")
    assert first.equals(second)


def test_phone_column_empty_everywhere_flags_no_lost_contact():
    # A tape whose borrowers carry a phone_valid column with no value on any row (no phones in the
    # source) has no contact evidence: no loan is flagged lost.
    tape, _ = make_tape(n=200)
    borrowers = tape.tables["borrowers"].with_columns(pl.lit(None, dtype=pl.Boolean).alias("phone_valid"))
    flags = build_features(SyntheticTape({**tape.tables, "borrowers": borrowers})).flags

    assert not flags["lost_contact"].any()


def test_invalid_phone_without_reachable_contact_is_lost():
    tape, _ = make_tape(n=200)
    borrowers = tape.tables["borrowers"].with_columns(
        pl.Series("phone_valid", [False] * 100 + [True] * 100, dtype=pl.Boolean)
    )
    flags = build_features(SyntheticTape({**tape.tables, "borrowers": borrowers})).flags

    assert flags["lost_contact"].sum() == 100
