"""Tests of the recovery timing curve (sanhua.value.curves)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from sanhua.errors import ConfigError, ModelError, NotFittedError
from sanhua.value.checks import InputDataError
from sanhua.value.curves import CurveSettings, RecoveryCurve

# ---------------------------------------------------------------- helpers


def _hand_triangle() -> tuple[pl.DataFrame, pl.DataFrame, date]:
    """Three monthly cohorts of one loan each, EAD 1,000, observed 3, 2 and 1 months.

    Incremental recoveries by development month:

    =========  ====  ====  ====
    cohort       m1    m2    m3
    =========  ====  ====  ====
    2020-01     100    50    25
    2020-02     120    60     .
    2020-03      80     .     .
    =========  ====  ====  ====
    """
    loans = pl.DataFrame(
        {
            "loan_id": ["jan", "feb", "mar"],
            "exposure_at_default": [1000.0, 1000.0, 1000.0],
            "default_date": [date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1)],
            "as_of_date": [date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1)],
        }
    )
    outcomes = pl.DataFrame(
        {
            "loan_id": ["jan", "jan", "jan", "feb", "feb", "mar"],
            "month": [1, 2, 3, 1, 2, 1],
            "amount": [100.0, 50.0, 25.0, 120.0, 60.0, 80.0],
        },
        schema_overrides={"month": pl.Int32},
    )
    return outcomes, loans, date(2020, 4, 1)


def _synthetic_book(n_loans: int, seed: int, pattern: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Loans defaulting over 24 months; each recovers rate * EAD * pattern[k] in month k (no noise in timing)."""
    rng = np.random.default_rng(seed)
    start = date(2018, 1, 1)
    offsets = rng.integers(0, 24, n_loans)
    default_dates = [date(start.year + (start.month - 1 + int(o)) // 12, (start.month - 1 + int(o)) % 12 + 1, 1) for o in offsets]
    ead = rng.uniform(1_000, 50_000, n_loans)
    rate = rng.beta(2, 5, n_loans)

    loans = pl.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(n_loans)],
            "exposure_at_default": ead,
            "default_date": default_dates,
            "as_of_date": default_dates,
        }
    )
    months = np.arange(1, pattern.size + 1)
    outcomes = pl.DataFrame(
        {
            "loan_id": np.repeat(loans["loan_id"].to_numpy(), pattern.size),
            "month": np.tile(months, n_loans).astype(np.int32),
            "amount": (ead * rate)[:, None].repeat(pattern.size, axis=1).ravel() * np.tile(pattern, n_loans),
        }
    )
    return outcomes, loans


def _truncate(outcomes: pl.DataFrame, loans: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """Keep only outcomes whose month ended by ``cutoff``."""
    return (
        outcomes.join(loans.select("loan_id", "default_date"), on="loan_id")
        .filter(pl.col("default_date").dt.offset_by(pl.format("{}mo", pl.col("month"))) <= cutoff)
        .drop("default_date")
    )


# ------------------------------------------------------- chain ladder


def test_chain_ladder_golden_hand_triangle():
    outcomes, loans, cutoff = _hand_triangle()
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans, cutoff_date=cutoff)

    # Cumulative triangle: jan 100, 150, 175; feb 120, 180; mar 80.
    # f1 = (150 + 180) / (100 + 120) = 330 / 220 = 1.5      (cohorts observed at month 2)
    # f2 = 175 / 150 = 7/6                                  (only jan is observed at month 3)
    # CDF to month 3: month 1 = 1.5 * 7/6 = 1.75, month 2 = 7/6, month 3 = 1.
    # Cumulative share F = 1 / CDF = 4/7, 6/7, 1; marginals 4/7, 2/7, 1/7.
    ldf = curve.ldf_["ldf"].to_list()
    assert ldf[0] == pytest.approx(1.5, abs=1e-12)
    assert ldf[1] == pytest.approx(7 / 6, abs=1e-12)
    assert curve.curve_["cumulative"].to_list() == pytest.approx([4 / 7, 6 / 7, 1.0], abs=1e-12)
    assert curve.curve_["marginal"].to_list() == pytest.approx([4 / 7, 2 / 7, 1 / 7], abs=1e-12)


def test_recovery_rate_by_month_golden_hand_triangle():
    outcomes, loans, cutoff = _hand_triangle()
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans, cutoff_date=cutoff)

    # Completed cohorts: feb month 3 = 180 * 1 / (6/7) = 210;
    # mar month 2 = 80 * (6/7) / (4/7) = 120, month 3 = 80 / (4/7) = 140.
    # Pooled over EAD 3,000: month 1 = 300 / 3000 = 0.10, month 2 = (150 + 180 + 120) / 3000 = 0.15,
    # month 3 = (175 + 210 + 140) / 3000 = 0.175.
    rates = curve.recovery_rate_by_month_["recovery_rate"].to_list()
    assert rates == pytest.approx([0.10, 0.15, 0.175], abs=1e-12)
    assert curve.recovery_rate_by_month_["observed_ead_share"].to_list() == pytest.approx([1.0, 2 / 3, 1 / 3])


def test_triangle_holds_only_observed_cells():
    outcomes, loans, cutoff = _hand_triangle()
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans, cutoff_date=cutoff)

    assert curve.triangle_.height == 6
    jan = curve.triangle_.filter(pl.col("cohort") == date(2020, 1, 1))
    assert jan["cumulative_rate"].to_list() == pytest.approx([0.10, 0.15, 0.175])


def test_immature_cohorts_do_not_pull_curve_down():
    pattern = np.array([0.30, 0.20, 0.15, 0.10, 0.08, 0.06, 0.05, 0.03, 0.02, 0.01])
    outcomes, loans = _synthetic_book(600, seed=7, pattern=pattern)

    full = RecoveryCurve(max_month=10, cohort="month").fit(outcomes, loans, cutoff_date=date(2025, 1, 1))
    cutoff = date(2019, 12, 1)
    truncated = _truncate(outcomes, loans, cutoff)
    partial = RecoveryCurve(max_month=10, cohort="month").fit(truncated, loans, cutoff_date=cutoff)

    expected = np.cumsum(pattern) / pattern.sum()
    assert full.curve_["cumulative"].to_numpy() == pytest.approx(expected, abs=1e-9)
    assert partial.curve_["cumulative"].to_numpy() == pytest.approx(expected, abs=1e-9)

    # The naive pooled share (observed cash by month over all EAD) is biased by the
    # immature cohorts: it shows that the check above can fail.
    naive = truncated.group_by("month").agg(pl.col("amount").sum()).sort("month")["amount"].to_numpy()
    naive_share = np.cumsum(naive) / naive.sum()
    assert np.abs(naive_share - expected).max() > 0.02


def test_immature_cohorts_keep_recovery_rate():
    pattern = np.array([0.4, 0.3, 0.2, 0.1])
    outcomes, loans = _synthetic_book(400, seed=9, pattern=pattern)

    full = RecoveryCurve(max_month=4, cohort="month").fit(outcomes, loans, cutoff_date=date(2025, 1, 1))
    cutoff = date(2020, 1, 15)
    partial = RecoveryCurve(max_month=4, cohort="month").fit(_truncate(outcomes, loans, cutoff), loans, cutoff_date=cutoff)

    full_rate = full.recovery_rate_by_month_["recovery_rate"].to_numpy()
    partial_rate = partial.recovery_rate_by_month_["recovery_rate"].to_numpy()
    assert partial_rate == pytest.approx(full_rate, rel=1e-9)


@pytest.mark.parametrize("cohort", ["month", "quarter", "year"])
def test_fitted_curve_is_monotone_and_conserved(cohort):
    pattern = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    outcomes, loans = _synthetic_book(300, seed=1, pattern=pattern)
    rng = np.random.default_rng(2)
    noisy = outcomes.with_columns(pl.col("amount") * pl.Series(rng.uniform(0.0, 2.0, outcomes.height)))
    cutoff = date(2020, 1, 20)
    curve = RecoveryCurve(max_month=6, cohort=cohort).fit(_truncate(noisy, loans, cutoff), loans, cutoff_date=cutoff)

    cumulative = curve.curve_["cumulative"].to_numpy()
    marginal = curve.curve_["marginal"].to_numpy()
    assert np.all(np.diff(cumulative) >= -1e-15)
    assert np.all((cumulative >= 0) & (cumulative <= 1))
    assert cumulative[-1] == pytest.approx(1.0, abs=1e-12)
    assert marginal.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(marginal >= -1e-15)
    assert set(curve.curve_["source"].unique()) == {"empirical"}


def test_fit_row_order_invariance():
    pattern = np.array([0.5, 0.3, 0.2])
    outcomes, loans = _synthetic_book(200, seed=4, pattern=pattern)
    rng = np.random.default_rng(8)
    outcomes = outcomes.with_columns(pl.col("amount") * pl.Series(rng.uniform(0.5, 1.5, outcomes.height)))
    cutoff = date(2020, 2, 5)
    outcomes = _truncate(outcomes, loans, cutoff)

    first = RecoveryCurve(max_month=3).fit(outcomes, loans, cutoff_date=cutoff)
    second = RecoveryCurve(max_month=3).fit(
        outcomes.sample(fraction=1.0, shuffle=True, seed=1), loans.sample(fraction=1.0, shuffle=True, seed=2), cutoff_date=cutoff
    )

    assert first.curve_["marginal"].to_numpy() == pytest.approx(second.curve_["marginal"].to_numpy(), abs=1e-12)
    assert first.recovery_rate_by_month_["recovery_rate"].to_numpy() == pytest.approx(
        second.recovery_rate_by_month_["recovery_rate"].to_numpy(), rel=1e-12
    )


def test_loans_without_outcomes_count_in_ead():
    outcomes, loans, cutoff = _hand_triangle()
    extra = pl.DataFrame(
        {
            "loan_id": ["jan_zero"],
            "exposure_at_default": [1000.0],
            "default_date": [date(2020, 1, 5)],
            "as_of_date": [date(2020, 1, 5)],
        }
    )
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, pl.concat([loans, extra]), cutoff_date=cutoff)

    # The jan cohort now has EAD 2,000 and the zero loan was observed only 2 whole months
    # (2020-01-05 to 2020-04-01), so jan's maturity drops to 2.
    jan = curve.triangle_.filter(pl.col("cohort") == date(2020, 1, 1))
    assert jan["ead"].to_list() == [2000.0, 2000.0]
    assert curve.recovery_rate_by_month_["recovery_rate"][0] == pytest.approx(300 / 4000)


def test_no_recovery_in_first_month_gives_zero_share():
    loans = pl.DataFrame(
        {
            "loan_id": ["a", "b"],
            "exposure_at_default": [100.0, 100.0],
            "default_date": [date(2021, 1, 1), date(2021, 2, 1)],
            "as_of_date": [date(2021, 1, 1), date(2021, 2, 1)],
        }
    )
    outcomes = pl.DataFrame({"loan_id": ["a", "a", "b"], "month": [2, 3, 2], "amount": [10.0, 10.0, 5.0]})
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans, cutoff_date=date(2021, 4, 1))

    assert curve.curve_["marginal"].to_list() == pytest.approx([0.0, 0.5, 0.5])
    assert curve.recovery_rate_by_month_["recovery_rate"][-1] == pytest.approx((20 + 10) / 200)


def test_month_zero_and_late_months_are_folded():
    loans = pl.DataFrame(
        {"loan_id": ["a"], "exposure_at_default": [100.0], "default_date": [date(2020, 1, 1)], "as_of_date": [date(2020, 1, 1)]}
    )
    outcomes = pl.DataFrame({"loan_id": ["a", "a", "a"], "month": [0, 1, 9], "amount": [10.0, 10.0, 20.0]})
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans)

    assert curve.curve_["marginal"].to_list() == pytest.approx([0.5, 0.0, 0.5])
    assert curve.cutoff_date_ == date(2020, 10, 1)


def test_lifetime_rows_are_left_out():
    outcomes, loans, cutoff = _hand_triangle()
    extra_loan = pl.DataFrame(
        {"loan_id": ["life"], "exposure_at_default": [1000.0], "default_date": [date(2020, 1, 1)], "as_of_date": [date(2020, 1, 1)]}
    )
    extra_outcome = pl.DataFrame({"loan_id": ["life"], "month": [None], "amount": [900.0]}, schema_overrides={"month": pl.Int32})
    curve = RecoveryCurve(max_month=3, cohort="month").fit(
        pl.concat([outcomes, extra_outcome]), pl.concat([loans, extra_loan]), cutoff_date=cutoff
    )

    assert curve.n_lifetime_only_ == 1
    assert curve.n_loans_ == 3
    assert curve.curve_["marginal"].to_list() == pytest.approx([4 / 7, 2 / 7, 1 / 7])


def test_only_lifetime_outcomes_raise():
    loans = pl.DataFrame(
        {"loan_id": ["a"], "exposure_at_default": [100.0], "default_date": [date(2020, 1, 1)], "as_of_date": [date(2020, 6, 1)]}
    )
    outcomes = pl.DataFrame({"loan_id": ["a"], "month": [None], "amount": [10.0]}, schema_overrides={"month": pl.Int32})

    with pytest.raises(ModelError, match="configured"):
        RecoveryCurve().fit(outcomes, loans)


def test_zero_recoveries_raise():
    loans = pl.DataFrame(
        {"loan_id": ["a"], "exposure_at_default": [100.0], "default_date": [date(2020, 1, 1)], "as_of_date": [date(2020, 6, 1)]}
    )
    outcomes = pl.DataFrame({"loan_id": ["a"], "month": [1], "amount": [0.0]})

    with pytest.raises(ModelError, match="nothing was recovered"):
        RecoveryCurve(max_month=3).fit(outcomes, loans)


# ------------------------------------------------------------ validation


def test_missing_column_raises():
    outcomes, loans, cutoff = _hand_triangle()

    with pytest.raises(InputDataError, match="missing column.*default_date"):
        RecoveryCurve(max_month=3).fit(outcomes, loans.drop("default_date"), cutoff_date=cutoff)


def test_unknown_loan_outcomes_are_left_out():
    outcomes, loans, cutoff = _hand_triangle()
    ghost = pl.DataFrame({"loan_id": ["ghost"], "month": [1], "amount": [1_000.0]}, schema_overrides={"month": pl.Int32})
    curve = RecoveryCurve(max_month=3, cohort="month").fit(pl.concat([outcomes, ghost]), loans, cutoff_date=cutoff)

    assert curve.n_unmatched_outcomes_ == 1
    assert curve.curve_["marginal"].to_list() == pytest.approx([4 / 7, 2 / 7, 1 / 7])


def test_only_unknown_loans_raise():
    outcomes, loans, cutoff = _hand_triangle()
    ghost = pl.DataFrame({"loan_id": ["ghost"], "month": [1], "amount": [1.0]}, schema_overrides={"month": pl.Int32})

    with pytest.raises(InputDataError, match="none of the 1 row\\(s\\) names a dated loan.*'ghost'"):
        RecoveryCurve(max_month=3).fit(ghost, loans, cutoff_date=cutoff)


def test_undated_loans_are_left_out():
    outcomes, loans, cutoff = _hand_triangle()
    undated = pl.DataFrame(
        {"loan_id": ["nodate"], "exposure_at_default": [1000.0], "default_date": [None], "as_of_date": [None]},
        schema=loans.schema,
    )
    extra = pl.DataFrame({"loan_id": ["nodate"], "month": [1], "amount": [500.0]}, schema_overrides={"month": pl.Int32})
    curve = RecoveryCurve(max_month=3, cohort="month").fit(pl.concat([outcomes, extra]), pl.concat([loans, undated]), cutoff_date=cutoff)

    assert curve.n_undated_ == 1
    assert curve.n_loans_ == 3
    assert curve.recovery_rate_by_month_["recovery_rate"].to_list() == pytest.approx([0.10, 0.15, 0.175])


def test_negative_amount_raises():
    outcomes, loans, cutoff = _hand_triangle()
    outcomes = outcomes.with_columns(pl.when(pl.col("loan_id") == "mar").then(-5.0).otherwise(pl.col("amount")).alias("amount"))

    with pytest.raises(InputDataError, match="'amount' is negative in 1 of 6 row\\(s\\), for example loan_id 'mar'"):
        RecoveryCurve(max_month=3).fit(outcomes, loans, cutoff_date=cutoff)


def test_outcome_after_cutoff_raises():
    outcomes, loans, _ = _hand_triangle()

    with pytest.raises(InputDataError, match="after the cut-off date 2020-03-01"):
        RecoveryCurve(max_month=3).fit(outcomes, loans, cutoff_date=date(2020, 3, 1))


def test_duplicate_loan_raises():
    outcomes, loans, cutoff = _hand_triangle()

    with pytest.raises(InputDataError, match="share a loan_id"):
        RecoveryCurve(max_month=3).fit(outcomes, pl.concat([loans, loans.head(1)]), cutoff_date=cutoff)


@pytest.mark.parametrize(("max_month", "cohort"), [(0, "month"), (2.5, "month"), (12, "week")])
def test_invalid_parameters_raise(max_month, cohort):
    outcomes, loans, cutoff = _hand_triangle()

    with pytest.raises(ConfigError):
        RecoveryCurve(max_month=max_month, cohort=cohort).fit(outcomes, loans, cutoff_date=cutoff)


# ------------------------------------------------------------ configured


def test_configured_curve_matches_12_month_share():
    settings = CurveSettings()
    curve = RecoveryCurve.configured(settings)

    cumulative = curve.curve_["cumulative"].to_numpy()
    # Default share by month 12: mean 12-month recovery of the 2017-2021 static pools
    # (35.8 + 29.8 + 23.9 + 25.2 + 22.7) / 5 = 27.48% over a 40% lifetime = 0.687.
    assert settings.recovery_12m_rate == pytest.approx((0.358 + 0.298 + 0.239 + 0.252 + 0.227) / 5, abs=1e-12)
    assert cumulative[11] == pytest.approx(0.687, abs=1e-9)
    assert cumulative[-1] == 1.0
    assert np.all(np.diff(cumulative) > 0)
    assert curve.curve_["marginal"].sum() == pytest.approx(1.0, abs=1e-12)
    assert curve.source_ == "configured"


def test_configured_recovery_rate_reaches_lifetime():
    curve = RecoveryCurve.configured(CurveSettings(lifetime_recovery_rate=0.5, recovery_12m_rate=0.3))

    rates = curve.recovery_rate_by_month_["recovery_rate"].to_numpy()
    assert rates[11] == pytest.approx(0.3, abs=1e-9)
    assert rates[-1] == pytest.approx(0.5, abs=1e-12)


def test_configured_assumptions_are_tagged():
    rows = {row["name"]: row for row in RecoveryCurve.configured().assumptions()}

    assert rows["curve.recovery_12m_rate"]["tag"] == "SOURCED"
    assert "static pools" in rows["curve.recovery_12m_rate"]["source"]
    assert rows["curve.lifetime_recovery_rate"]["tag"] == "ASSUMPTION"


def test_curve_settings_reject_flat_share():
    with pytest.raises(ValidationError, match="front-loaded"):
        CurveSettings(recovery_12m_rate=0.45, lifetime_recovery_rate=0.40)


# ------------------------------------------------------------ pv_factor


def _two_month_curve() -> RecoveryCurve:
    return RecoveryCurve.from_table(pl.DataFrame({"month": [1, 2], "marginal": [0.5, 0.5]}))


def test_pv_factor_golden_two_month_curve():
    curve = _two_month_curve()
    v = 1 / (1 + 0.12 / 12)

    factors = curve.pv_factor(0.12, np.array([0.0, 1.0, 1.7, 2.0, 30.0]))

    # s = 0: half at 1 month, half at 2 months; s = 1 (and 1.7, floored): all of the
    # remainder at month 2, one month ahead; s >= 2: tail, one month ahead.
    assert factors == pytest.approx([0.5 * v + 0.5 * v**2, v, v, v, v], abs=1e-15)


def test_pv_factor_is_one_at_zero_rate():
    curve = RecoveryCurve.configured()

    factors = curve.pv_factor(0.0, np.arange(0, 80, 0.5))

    assert factors == pytest.approx(np.ones(160), abs=1e-12)


def test_pv_factor_falls_as_rate_rises():
    curve = RecoveryCurve.configured()
    months = np.array([0, 3, 12, 30, 59])

    rates = [0.0, 0.02, 0.05, 0.08, 0.15, 0.3]
    table = np.array([curve.pv_factor(rate, months) for rate in rates])

    assert np.all(np.diff(table, axis=0) < 0)
    assert np.all((table > 0) & (table <= 1))


def test_pv_factor_accepts_series():
    curve = RecoveryCurve.configured()

    from_series = curve.pv_factor(0.08, pl.Series([0, 6, 12]))
    from_array = curve.pv_factor(0.08, np.array([0, 6, 12]))

    assert from_series == pytest.approx(from_array)


def test_pv_factor_rejects_bad_input():
    curve = RecoveryCurve.configured()

    with pytest.raises(InputDataError, match="negative"):
        curve.pv_factor(0.08, np.array([1.0, -2.0]))
    with pytest.raises(InputDataError, match="null"):
        curve.pv_factor(0.08, pl.Series([1.0, None]))
    with pytest.raises(ConfigError, match="discount_rate"):
        curve.pv_factor(-0.01, np.array([1.0]))
    with pytest.raises(ConfigError, match="discount_rate"):
        curve.pv_factor(math.nan, np.array([1.0]))


def test_expected_months_golden_two_month_curve():
    curve = _two_month_curve()

    assert curve.expected_months(np.array([0, 1, 2])) == pytest.approx([1.5, 1.0, 1.0])


def test_expected_months_of_configured_curve():
    curve = RecoveryCurve.configured()
    marginal = curve.curve_["marginal"].to_numpy()

    mean = float((marginal * np.arange(1, marginal.size + 1)).sum())
    assert curve.expected_months(0)[0] == pytest.approx(mean)
    assert 5 < mean < 20


def test_not_fitted_raises():
    curve = RecoveryCurve()

    with pytest.raises(NotFittedError, match="fit"):
        curve.pv_factor(0.08, np.array([0]))
    with pytest.raises(NotFittedError):
        curve.expected_months(0)


def test_from_table_round_trip():
    outcomes, loans, cutoff = _hand_triangle()
    fitted = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans, cutoff_date=cutoff)

    saved = pl.DataFrame(fitted.curve_.to_dicts())
    loaded = RecoveryCurve.from_table(saved, assumptions=fitted.assumptions())

    assert loaded.curve_["cumulative"].to_numpy() == pytest.approx(fitted.curve_["cumulative"].to_numpy())
    assert loaded.source_ == "empirical"
    assert loaded.assumptions() == fitted.assumptions()
    assert loaded.pv_factor(0.1, np.array([0, 1])) == pytest.approx(fitted.pv_factor(0.1, np.array([0, 1])))


def test_from_table_rejects_bad_marginals():
    with pytest.raises(ModelError, match="sum to 1"):
        RecoveryCurve.from_table(pl.DataFrame({"month": [1, 2], "marginal": [0.5, 0.2]}))
    with pytest.raises(ModelError, match="1 .. n"):
        RecoveryCurve.from_table(pl.DataFrame({"month": [1, 3], "marginal": [0.5, 0.5]}))
