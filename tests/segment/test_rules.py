"""Tests of the category rules (sanhua.segment.rules)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from sanhua.segment import SEGMENT_RULES, Segmenter, SegmentSettings
from sanhua.value.checks import InputDataError


def _frame(rows: list[tuple[str, float, float, bool | None, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "loan_id": pl.Utf8,
            "willingness": pl.Float64,
            "ability": pl.Float64,
            "hardship": pl.Boolean,
            "lost_contact": pl.Boolean,
        },
        orient="row",
    )


def _random_frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(n)],
            "willingness": rng.random(n),
            "ability": rng.random(n),
            "hardship": pl.Series(rng.choice([True, False, None], n, p=[0.05, 0.9, 0.05]).tolist(), dtype=pl.Boolean),
            "lost_contact": pl.Series(rng.choice([True, False, None], n, p=[0.1, 0.85, 0.05]).tolist(), dtype=pl.Boolean),
        }
    )


QUADRANT_CASES = [
    # loan, willingness, ability, hardship, lost_contact, expected rule, expected category
    ("willing_unable", 0.9, 0.2, False, False, "willing_unable", "A"),
    ("willing_able", 0.9, 0.8, False, False, "willing_able", "A"),
    ("wavering_able", 0.5, 0.8, False, False, "wavering", "B"),
    ("wavering_unable", 0.5, 0.1, False, False, "wavering", "B"),
    ("able_unwilling", 0.1, 0.8, False, False, "able_unwilling", "B"),
    ("unwilling_unable", 0.1, 0.1, False, False, "unwilling_unable", "C"),
    ("hardship", 0.1, 0.1, True, False, "hardship", "A"),
    ("lost_contact", 0.9, 0.9, False, True, "lost_contact", "C"),
    ("lost_and_hardship", 0.9, 0.1, True, True, "lost_contact", "C"),
]


@pytest.mark.parametrize(("loan_id", "willingness", "ability", "hardship", "lost", "rule", "category"), QUADRANT_CASES)
def test_rules_assign_each_quadrant(loan_id, willingness, ability, hardship, lost, rule, category):
    out = Segmenter().run(_frame([(loan_id, willingness, ability, hardship, lost)]))

    assert out["segment_rule"].item() == rule
    assert out["category"].item() == category


def test_short_plan_only_for_willing_able():
    rows = [case[:5] for case in QUADRANT_CASES]
    out = Segmenter().run(_frame(rows))

    flagged = out.filter(pl.col("short_plan"))["loan_id"].to_list()
    assert flagged == ["willing_able"]


def test_thresholds_are_inclusive_at_lower_edges():
    settings = SegmentSettings(willing_high=0.6, willing_low=0.4, able_min=0.5)
    rows = [
        ("at_high", 0.6, 0.5, False, False),
        ("at_low", 0.4, 0.1, False, False),
        ("below_low", 0.3999, 0.5, False, False),
    ]
    out = Segmenter(settings).run(_frame(rows))

    assert out["segment_rule"].to_list() == ["willing_able", "wavering", "able_unwilling"]


def test_null_flags_read_as_false():
    out = Segmenter().run(_frame([("a", 0.1, 0.1, None, None)]))

    assert out["segment_rule"].item() == "unwilling_unable"
    assert out["hardship"].item() is False
    assert out["lost_contact"].item() is False


def test_able_unwilling_can_go_to_c():
    settings = SegmentSettings(able_unwilling_category="C")
    out = Segmenter(settings).run(_frame([("a", 0.1, 0.9, False, False)]))

    assert out["segment_rule"].item() == "able_unwilling"
    assert out["category"].item() == "C"


def test_hardship_override_can_be_switched_off():
    settings = SegmentSettings(hardship_overrides=False)
    out = Segmenter(settings).run(_frame([("a", 0.1, 0.1, True, False)]))

    assert out["segment_rule"].item() == "unwilling_unable"


def test_every_rule_reached_and_categories_valid():
    out = Segmenter().run(_random_frame(5_000, seed=11))

    assert set(out["segment_rule"].unique()) == set(SEGMENT_RULES)
    assert set(out["category"].unique()) <= {"A", "B", "C"}
    assert out.select(pl.col("category").is_null().sum()).item() == 0


def test_row_order_invariance():
    frame = _random_frame(2_000, seed=3)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=5)

    first = Segmenter().run(frame).sort("loan_id")
    second = Segmenter().run(shuffled).sort("loan_id")

    assert first.equals(second)


def test_input_order_and_columns_kept():
    frame = _random_frame(100, seed=1).with_columns(pl.lit("x").alias("extra"))
    out = Segmenter().run(frame)

    assert out["loan_id"].to_list() == frame["loan_id"].to_list()
    assert out.columns[: len(frame.columns)] == frame.columns


def test_missing_column_raises():
    frame = _random_frame(10, seed=1).drop("ability")

    with pytest.raises(InputDataError, match="missing column.*ability"):
        Segmenter().run(frame)


def test_out_of_range_names_count_and_loan():
    frame = _random_frame(10, seed=1).with_columns(
        pl.when(pl.col("loan_id").is_in(["L00003", "L00007"])).then(1.5).otherwise(pl.col("willingness")).alias("willingness")
    )

    with pytest.raises(InputDataError, match=r"'willingness' lies outside \[0, 1\] in 2 of 10 row\(s\), for example loan_id 'L00003'"):
        Segmenter().run(frame)


def test_nan_score_raises():
    frame = _random_frame(10, seed=1).with_columns(
        pl.when(pl.col("loan_id") == "L00004").then(float("nan")).otherwise(pl.col("ability")).alias("ability")
    )

    with pytest.raises(InputDataError, match=r"'ability' is null or NaN in 1 of 10 row\(s\), for example loan_id 'L00004'"):
        Segmenter().run(frame)


def test_non_boolean_flag_raises():
    frame = _random_frame(10, seed=1).with_columns(pl.lit(1).alias("hardship"))

    with pytest.raises(InputDataError, match="'hardship' must be Boolean"):
        Segmenter().run(frame)


def test_settings_reject_inverted_band():
    with pytest.raises(ValidationError, match="willing_low"):
        SegmentSettings(willing_low=0.7, willing_high=0.6)


def test_assumptions_list_every_threshold():
    rows = {row["name"]: row for row in SegmentSettings(willing_high=0.7).assumptions()}

    assert rows["segment.willing_high"]["value"] == 0.7
    assert rows["segment.willing_high"]["tag"] == "CONFIGURED"
    assert rows["segment.willing_low"]["tag"] == "ASSUMPTION"
    assert rows["segment.hardship_overrides"]["tag"] == "POLICY"
    assert all(row["unit"] for row in rows.values())
