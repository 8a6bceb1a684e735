"""Tests of the restructured pool's monthly collections from loan schedules."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sanhua.errors import InputDataError
from sanhua.securitize.pool import schedule_collections


def _terms(**columns) -> pl.DataFrame:
    base = {"delay_months": [1.0], "trial_months": [3], "trial_instalment": [50.0], "term_months": [12], "instalment": [100.0], "balloon": [0.0]}
    base.update(columns)
    return pl.DataFrame(base)


def test_one_loan_schedule_month_by_month():
    # Delay 1 month: the first trial instalment falls in month 2, trial in months 2-4, level in months 5-16.
    pool = schedule_collections(_terms(balloon=[30.0]), np.array([1.0]))
    cash = dict(zip(pool["period"].to_list(), pool["expected_collections"].to_list()))

    assert cash[1] == 0.0
    assert [cash[m] for m in (2, 3, 4)] == [50.0, 50.0, 50.0]
    assert all(cash[m] == 100.0 for m in range(5, 16))
    assert cash[16] == 130.0
    assert pool["period"].max() == 16


def test_total_is_weighted_sum_of_schedules():
    rng = np.random.default_rng(3)
    n = 500
    terms = pl.DataFrame(
        {
            "delay_months": rng.uniform(0, 3, n),
            "trial_months": rng.integers(0, 4, n),
            "trial_instalment": rng.uniform(10, 100, n),
            "term_months": rng.integers(1, 60, n),
            "instalment": rng.uniform(50, 500, n),
            "balloon": rng.uniform(0, 1000, n),
        }
    )
    weight = rng.uniform(0, 1, n)
    pool = schedule_collections(terms, weight)
    expected = np.sum(
        weight * (terms["trial_months"] * terms["trial_instalment"] + terms["term_months"] * terms["instalment"] + terms["balloon"]).to_numpy()
    )

    assert pool["expected_collections"].sum() == pytest.approx(expected, rel=1e-12)
    assert (pool["expected_collections"] >= 0).all()


def test_weights_scale_collections():
    terms = _terms()
    full = schedule_collections(terms, np.array([1.0]))["expected_collections"].to_numpy()
    half = schedule_collections(terms, np.array([0.5]))["expected_collections"].to_numpy()
    np.testing.assert_allclose(half, full / 2)


def test_empty_pool_gives_empty_table():
    pool = schedule_collections(_terms().head(0), np.array([]))
    assert pool.height == 0


@pytest.mark.parametrize(
    ("terms", "weight", "message"),
    [
        (_terms().drop("balloon"), [1.0], "lacks column"),
        (_terms(instalment=[-1.0]), [1.0], "'instalment' row 0"),
        (_terms(), [1.5], "outside \\[0, 1\\]"),
        (_terms(), [1.0, 1.0], "2 weights for 1 loans"),
    ],
)
def test_bad_schedule_rejected(terms, weight, message):
    with pytest.raises(InputDataError, match=message):
        schedule_collections(terms, np.array(weight))
