"""Tests of the report's summary tables: conservation, bins, reasons, checks."""

from __future__ import annotations

import polars as pl
import pytest
from report_data import make_curve, make_loans, make_record

from sanhua.report import tables
from sanhua.report.tables import ReportDataError


def test_category_mix_conserves_loans_and_ead() -> None:
    loans = make_loans(5_000, currencies=("CNY", "USD"))

    mix = tables.category_mix(loans)

    assert mix["loans"].sum() == loans.height
    for currency in ("CNY", "USD"):
        part = mix.filter(pl.col("currency") == currency)
        source = loans.filter(pl.col("currency") == currency)
        assert part["loans"].sum() == source.height
        assert part["exposure_at_default"].sum() == pytest.approx(source["exposure_at_default"].sum(), rel=1e-12)
        assert part["expected_recovery_pv"].sum() == pytest.approx(source["expected_recovery_pv"].sum(), rel=1e-12)
        assert part["loan_share"].sum() == pytest.approx(1.0)


def test_category_mix_lists_empty_categories() -> None:
    loans = make_loans(200).filter(pl.col("category") != "B")

    mix = tables.category_mix(loans)

    assert mix["category"].to_list() == ["A", "B", "C"]
    assert mix.filter(pl.col("category") == "B")["loans"].item() == 0
    assert mix.filter(pl.col("category") == "B")["recovery_rate"].item() is None


def test_category_mix_independent_of_row_order() -> None:
    loans = make_loans(1_000)

    shuffled = loans.sample(fraction=1.0, shuffle=True, seed=3)

    left = tables.category_mix(loans)
    right = tables.category_mix(shuffled)
    assert left["loans"].to_list() == right["loans"].to_list()
    assert left["exposure_at_default"].to_list() == pytest.approx(right["exposure_at_default"].to_list(), rel=1e-12)


def test_value_by_action_conserves_totals() -> None:
    loans = make_loans(3_000)

    values = tables.value_by_category_action(loans)

    assert values["loans"].sum() == loans.height
    assert values["action_value"].sum() == pytest.approx(loans["action_value"].sum(), rel=1e-12)
    assert values["exposure_at_default"].sum() == pytest.approx(loans["exposure_at_default"].sum(), rel=1e-12)


def test_score_grid_has_all_cells() -> None:
    loans = make_loans(2_000)

    grid = tables.score_grid(loans, bins=10)

    assert grid.height == 100
    assert grid["loans"].sum() == loans.height


def test_score_grid_bin_edges() -> None:
    loans = make_loans(4).with_columns(
        pl.Series("willingness", [0.0, 0.0999, 0.1, 1.0]),
        pl.Series("ability", [0.0, 0.55, 0.95, 1.0]),
    )

    grid = tables.score_grid(loans, bins=10).filter(pl.col("loans") > 0)

    cells = sorted(zip(grid["willingness_bin"].to_list(), grid["ability_bin"].to_list(), grid["loans"].to_list()))
    assert cells == [(0, 0, 1), (0, 5, 1), (1, 9, 1), (9, 9, 1)]


def test_score_grid_skips_null_scores() -> None:
    loans = make_loans(50).with_columns(
        pl.when(pl.int_range(pl.len()) < 5).then(None).otherwise(pl.col("ability")).alias("ability")
    )

    grid = tables.score_grid(loans)

    assert grid["loans"].sum() == 45


def test_top_reasons_drop_debtor_values() -> None:
    loans = make_loans(1_000)

    reasons = tables.top_reasons(loans, top=10, min_loans=10)

    assert reasons.height == 10
    assert not reasons["reason_zh"].str.contains("=").any()
    assert not reasons["reason_en"].str.contains("DEBTOR-VALUE").any()
    assert reasons["loans"].is_sorted(descending=True)
    categories = reasons.select(pl.sum_horizontal("A", "B", "C"))
    assert categories.to_series().to_list() == reasons["loans"].to_list()


def test_top_reasons_pair_languages() -> None:
    loans = make_loans(2).with_columns(
        pl.Series("reasons_zh", ["还款意愿↓ 月供=1; 还款能力↑ 逾期天数=2", "还款意愿↓ 月供=3"]),
        pl.Series("reasons_en", ["willingness↓ instalment=1; ability↑ days past due=2", "willingness↓ instalment=3"]),
    )

    reasons = tables.top_reasons(loans, min_loans=1)

    assert reasons.select("reason_zh", "reason_en", "loans").rows() == [
        ("还款意愿↓ 月供", "willingness↓ instalment", 2),
        ("还款能力↑ 逾期天数", "ability↑ days past due", 1),
    ]
    assert reasons["rank"].to_list() == [1, 2]
    assert reasons["loans"].to_list() == [2, 1]


def test_top_reasons_accept_list_columns() -> None:
    loans = make_loans(3).with_columns(
        pl.Series("reasons_zh", [["月供=1"], ["月供=2"], []]),
        pl.Series("reasons_en", [["instalment=1"], ["instalment=2"], []]),
    )

    reasons = tables.top_reasons(loans, min_loans=2)

    assert reasons.select("reason_en", "loans").rows() == [("instalment", 2)]


def test_top_reasons_small_cells_hidden() -> None:
    loans = make_loans(100)

    reasons = tables.top_reasons(loans, min_loans=1_000)

    assert reasons.height == 0


def test_check_loans_names_missing_column() -> None:
    loans = make_loans(10).drop("action_value", "hardship")

    with pytest.raises(ReportDataError, match="action_value.*hardship"):
        tables.check_loans(loans)


def test_check_loans_rejects_bad_category() -> None:
    loans = make_loans(10).with_columns(pl.lit("D").alias("category"))

    with pytest.raises(ReportDataError, match="'D' \\(10 loans\\)"):
        tables.check_loans(loans)


def test_check_loans_rejects_score_outside_range() -> None:
    loans = make_loans(10).with_columns(pl.lit(1.5).alias("ability"))

    with pytest.raises(ReportDataError, match="'ability'.*outside \\[0, 1\\]"):
        tables.check_loans(loans)


def test_segment_thresholds_found_in_config() -> None:
    record = make_record(make_loans(5))
    record["config"]["segment"] = {
        "willing_high": 0.6,
        "willing_low": 0.4,
        "able_min": 0.5,
        "able_unwilling_category": "B",
        "hardship_overrides": True,
        "nested": {"ability_floor": 0.2, "days": 90, "rate": 0.1},
    }

    thresholds = tables.segment_thresholds(record)

    assert dict(zip(thresholds["name"], thresholds["score"])) == {
        "willing_high": "willingness",
        "willing_low": "willingness",
        "able_min": "ability",
        "nested.ability_floor": "ability",
    }
    assert thresholds.filter(pl.col("name") == "able_min")["value"].item() == 0.5


def test_segment_thresholds_absent() -> None:
    assert tables.segment_thresholds({}).height == 0
    assert tables.segment_thresholds({"config": {"segment": None}}).height == 0


def test_row_counts_shares() -> None:
    record = make_record(make_loans(88))

    counts = tables.row_counts(record)

    assert counts["rows"].to_list() == [100, 88, 7, 5]
    assert counts["share"].to_list() == pytest.approx([1.0, 0.88, 0.07, 0.05])


def test_reason_counts_sorted() -> None:
    record = make_record(make_loans(5))

    quarantined = tables.reason_counts(record, "quarantined")

    assert quarantined.rows() == [("missing_required", 4), ("out_of_range", 3)]
    assert tables.reason_counts({}, "excluded").height == 0


def test_check_curve_validates_and_sorts() -> None:
    curve = make_curve().reverse()

    checked = tables.check_curve(curve)

    assert checked["source"][0] == "empirical"
    assert checked.filter(pl.col("source") == "empirical")["month"].is_sorted()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (pl.lit(1.2).alias("cumulative"), "outside \\[0, 1\\]"),
        (pl.lit(-1).alias("month"), "negative"),
        (pl.lit("guess").alias("source"), "guess"),
    ],
)
def test_check_curve_rejects_bad_values(change: pl.Expr, message: str) -> None:
    with pytest.raises(ReportDataError, match=message):
        tables.check_curve(make_curve().with_columns(change))


def test_check_curve_names_missing_column() -> None:
    with pytest.raises(ReportDataError, match="source"):
        tables.check_curve(make_curve().drop("source"))
