"""Tests of curve bands, tail, recovery cap, lifetime level, segments and the survival view."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from sanhua.errors import ConfigError, InputDataError
from sanhua.value.curves import CurveSettings, RecoveryCurve
from sanhua.value.segments import SegmentedCurves
from sanhua.value.settings import CurveModelSettings
from sanhua.value.survival import kaplan_meier, time_to_first_payment


def _book(n_loans: int = 800, seed: int = 3, max_month: int = 12) -> tuple[pl.DataFrame, pl.DataFrame, date]:
    """Loans defaulting monthly over 2019-2020 with noisy front-loaded recoveries, observed to 2021-01-01."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 24, n_loans)
    default_dates = [date(2019 + int(o) // 12, int(o) % 12 + 1, 1) for o in offsets]
    ead = rng.uniform(1_000, 20_000, n_loans)
    loans = pl.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(n_loans)],
            "exposure_at_default": ead,
            "default_date": default_dates,
            "as_of_date": default_dates,
            "product": rng.choice(["credit_card", "consumer_loan"], n_loans, p=[0.9, 0.1]),
            "dpd": rng.integers(91, 1500, n_loans).astype(np.int32),
        }
    )
    months = np.arange(1, max_month + 1)
    pattern = np.exp(-months / 4.0)
    amounts = (ead[:, None] * 0.05 * pattern[None, :] * rng.lognormal(0, 0.5, (n_loans, max_month))).ravel()
    outcomes = pl.DataFrame(
        {"loan_id": np.repeat(loans["loan_id"].to_numpy(), max_month), "month": np.tile(months, n_loans).astype(np.int32), "amount": amounts}
    )
    cutoff = date(2021, 1, 1)
    outcomes = (
        outcomes.join(loans.select("loan_id", "default_date"), on="loan_id")
        .filter(pl.col("default_date").dt.offset_by(pl.format("{}mo", pl.col("month"))) <= cutoff)
        .drop("default_date")
    )
    return outcomes, loans, cutoff


def test_bands_monotone_bounded_and_contain_curve():
    outcomes, loans, cutoff = _book()
    curve = RecoveryCurve(max_month=12, cohort="month").fit(outcomes, loans, cutoff_date=cutoff)
    bands = curve.bands_

    assert curve.mack_ is not None
    for column in ("cumulative", "cumulative_low", "cumulative_high", "recovery_rate_low", "recovery_rate_high"):
        values = bands[column].to_numpy()
        assert (np.diff(values) >= -1e-12).all(), column
        assert values.min() >= 0.0, column
    assert bands["cumulative_high"].max() <= 1.0
    assert (bands["cumulative_low"] <= bands["cumulative"]).all()
    assert (bands["cumulative"] <= bands["cumulative_high"]).all()
    # Immature cohorts leave uncertainty in the early months.
    assert (bands["cumulative_high"] - bands["cumulative_low"])[0] > 0


def test_tail_factor_moves_share_to_last_month():
    outcomes, loans, cutoff = _book()
    plain = RecoveryCurve(max_month=12, cohort="month").fit(outcomes, loans, cutoff_date=cutoff)
    tailed = RecoveryCurve(max_month=12, cohort="month", tail=1.25).fit(outcomes, loans, cutoff_date=cutoff)

    assert tailed.curve_["cumulative"][10] == pytest.approx(plain.curve_["cumulative"][10] / 1.25)
    assert tailed.curve_["marginal"].sum() == pytest.approx(1.0)
    assert tailed.tail_ == 1.25
    exponential = RecoveryCurve(max_month=12, cohort="month", tail="exponential").fit(outcomes, loans, cutoff_date=cutoff)
    assert exponential.tail_ > 1.0


def test_recoveries_above_exposure_are_capped_latest_first():
    loans = pl.DataFrame(
        {"loan_id": ["a", "b"], "exposure_at_default": [100.0, 100.0], "default_date": [date(2020, 1, 1)] * 2, "as_of_date": [date(2020, 1, 1)] * 2}
    )
    outcomes = pl.DataFrame({"loan_id": ["a", "a", "a", "b"], "month": [1, 2, 3, 1], "amount": [60.0, 50.0, 30.0, 20.0]}, schema_overrides={"month": pl.Int32})
    curve = RecoveryCurve(max_month=3, cohort="month").fit(outcomes, loans, cutoff_date=date(2020, 4, 1))

    # Loan a: 60 + 50 + 30 = 140 against EAD 100: month 2 keeps 40, month 3 keeps 0.
    assert curve.n_capped_ == 1
    assert curve.capped_amount_ == pytest.approx(40.0)
    assert curve.recovery_rate_by_month_["recovery_rate"][-1] == pytest.approx((100.0 + 20.0) / 200.0)


def test_lifetime_level_with_configured_shape():
    loans = pl.DataFrame({"loan_id": ["a", "b", "c"], "exposure_at_default": [100.0, 100.0, 200.0]})
    outcomes = pl.DataFrame({"loan_id": ["a", "b"], "month": [None, None], "amount": [30.0, 150.0]}, schema_overrides={"month": pl.Int32})
    settings = CurveSettings()
    curve = RecoveryCurve.from_lifetime(outcomes, loans, settings)
    configured = RecoveryCurve.configured(settings)

    # b is capped at 100: level = (30 + 100) / 400.
    assert curve.lifetime_level_ == pytest.approx(130.0 / 400.0)
    assert curve.source_ == "lifetime_level_configured_shape"
    assert curve.n_capped_ == 1
    assert curve.curve_["marginal"].to_numpy() == pytest.approx(configured.curve_["marginal"].to_numpy())
    assert curve.recovery_rate_by_month_["recovery_rate"][-1] == pytest.approx(130.0 / 400.0)
    assert any(row["name"] == "curve.lifetime_level" for row in curve.assumptions())


def test_curve_parameters_are_checked():
    outcomes, loans, cutoff = _book(50)
    for kwargs in ({"tail": 0.5}, {"band_level": 1.5}, {"min_cohort_loans": 0}, {"recovery_cap": -1.0}):
        with pytest.raises(ConfigError):
            RecoveryCurve(max_month=12, **kwargs).fit(outcomes, loans, cutoff_date=cutoff)


def test_sparse_cohorts_are_reported():
    outcomes, loans, cutoff = _book()
    curve = RecoveryCurve(max_month=12, cohort="month", min_cohort_loans=40).fit(outcomes, loans, cutoff_date=cutoff)
    cohorts = curve.cohorts_

    assert cohorts["loans"].sum() == loans.height
    assert cohorts.filter(pl.col("loans") < 40)["sparse"].all()
    assert (cohorts["observed_cells"] + cohorts["projected_cells"] == 12).all()
    assert set(cohorts["completion"].unique()) <= {"observed", "chain_ladder", "bornhuetter_ferguson"}


def test_sparse_segments_fall_back_to_parent():
    outcomes, loans, cutoff = _book()
    settings = CurveModelSettings(max_month=12, cohort="month", min_cohort_loans=1, min_segment_loans=200, segment_by=("product", "dpd_band"))
    curves = SegmentedCurves(settings).fit(outcomes, loans, cutoff_date=cutoff)
    fallbacks = curves.fallbacks_

    # consumer_loan has about 80 loans: it is sparse and uses the whole-book curve.
    consumer = fallbacks.filter(pl.col("segment") == "product=consumer_loan")
    assert consumer["reason"].to_list() == ["sparse"]
    assert consumer["curve"].to_list() == ["all"]
    assert "product=credit_card" in curves.curves_
    keys = curves.assign(loans)
    assert keys.len() == loans.height
    assert set(keys.unique()) <= set(curves.curves_)
    unseen = loans.head(1).with_columns(pl.lit("mortgage").alias("product"))
    assert curves.assign(unseen).to_list() == ["all"]


def test_kaplan_meier_hand_example():
    # Durations 1, 2+, 3, 3, 4+ (+ censored). S(1) = 4/5, S(2) = 4/5, S(3) = 4/5 * (1 - 2/3) = 4/15.
    table = kaplan_meier(np.array([1, 2, 3, 3, 4]), np.array([True, False, True, True, False]))

    assert table["at_risk"].to_list() == [5, 4, 3, 1]
    assert table["survival"].to_list() == pytest.approx([0.8, 0.8, 4 / 15, 4 / 15])
    assert (table["survival_low"] <= table["survival"]).all()
    assert (table["survival"] <= table["survival_high"]).all()


def test_kaplan_meier_delayed_entry_and_errors():
    table = kaplan_meier(np.array([2, 3]), np.array([True, True]), entry=np.array([0, 2]))
    assert table["at_risk"].to_list() == [1, 1, 1]
    with pytest.raises(InputDataError):
        kaplan_meier(np.array([0]), np.array([True]))
    with pytest.raises(InputDataError):
        kaplan_meier(np.array([2]), np.array([True]), entry=np.array([2]))


def test_time_to_first_payment_censors_unpaid():
    outcomes, loans, cutoff = _book(300)
    table = time_to_first_payment(outcomes, loans, cutoff, max_month=12)

    assert (np.diff(table["survival"].to_numpy()) <= 1e-12).all()
    assert table["events"].sum() + table["censored"].sum() == loans.height
