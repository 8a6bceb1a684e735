"""Tests of cash-flow projection and package pricing (sanhua.value.cashflows, sanhua.value.pricing)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sanhua.errors import ConfigError, InputDataError
from sanhua.value.cashflows import discount_vector, project_cash_flows, schedule_matrix
from sanhua.value.pricing import bid_price, dcf_value, distribution_summary, sale_proceeds, simulate_package_pv
from sanhua.value.settings import MonteCarloSettings, PricingSettings


def _gross(n: int = 400, months: int = 24, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 50, (n, months)) * np.exp(-np.arange(months) / 8.0)[None, :]


def test_projection_conserves_expected_recovery():
    marginals = np.array([[0.5, 0.3, 0.2, 0.0], [0.25, 0.25, 0.25, 0.25]])
    cash = project_cash_flows(
        pl.Series(["a", "b", "c", "d"]), np.array([100.0, 80.0, 60.0, 10.0]), np.array([0, 1, 2.7, 5]), marginals, np.array([0, 0, 1, 0])
    )

    assert cash.gross.sum(axis=1) == pytest.approx([100.0, 80.0, 60.0, 10.0])
    # b has 1 month elapsed on curve 0: 0.3 / 0.5 and 0.2 / 0.5 of 80 in months 1 and 2.
    assert cash.gross[1, :2] == pytest.approx([48.0, 32.0])
    # d is past the curve's end: all in month 1.
    assert cash.gross[3, 0] == pytest.approx(10.0)


def test_projection_rejects_negative_values():
    with pytest.raises(InputDataError, match="expected_recovery"):
        project_cash_flows(pl.Series(["a"]), np.array([-1.0]), np.array([0.0]), np.array([1.0]))


def test_schedule_matrix_spreads_and_folds():
    result = schedule_matrix(np.array([120.0, 30.0]), np.array([1.0, 3.0]), np.array([3, 4]), 5)

    assert result[0].tolist() == pytest.approx([40, 40, 40, 0, 0])
    assert result[1].tolist() == pytest.approx([0, 0, 7.5, 7.5, 15.0])
    assert result.sum(axis=1) == pytest.approx([120.0, 30.0])


def test_price_falls_when_rate_or_irr_rises():
    gross = _gross().sum(axis=0)
    rates = [0.0, 0.04, 0.08, 0.15, 0.30]
    dcf = [float(dcf_value(gross, r)) for r in rates]
    bids = [float(bid_price(dcf_value(gross, irr), 1_000.0, PricingSettings(target_irr=irr))) for irr in rates]

    assert all(a > b for a, b in zip(dcf, dcf[1:], strict=False))
    assert all(a > b for a, b in zip(bids, bids[1:], strict=False))


def test_sale_proceeds_discount_the_delay():
    settings = PricingSettings(discount_rate=0.12, sale_delay_months=3, sale_cost_rate=0.02)
    assert float(sale_proceeds(np.array(100.0), settings)) == pytest.approx(100 * 0.98 * 1.01**-3)
    with pytest.raises(ConfigError):
        discount_vector(-0.1, 3)


def test_monte_carlo_reproducible_by_seed():
    gross = _gross()
    index = np.arange(gross.shape[0]) % 3
    settings = MonteCarloSettings(n_scenarios=500, chunk_loans=64, threads=2)

    first = simulate_package_pv(gross, index, 3, 0.1, settings).values
    again = simulate_package_pv(gross, index, 3, 0.1, settings.model_copy(update={"threads": 1})).values
    other = simulate_package_pv(gross, index, 3, 0.1, settings.model_copy(update={"seed": 1})).values

    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_monte_carlo_converges_to_dcf_mean():
    gross = _gross()
    index = np.arange(gross.shape[0]) % 2
    simulated = simulate_package_pv(gross, index, 2, 0.1, MonteCarloSettings(n_scenarios=4_000, chunk_loans=128)).values
    summary = distribution_summary(simulated)
    dcf = np.array([dcf_value(gross[index == p].sum(axis=0), 0.1) for p in range(2)])

    # The multipliers have mean 1, so the MC mean estimates the DCF value: within 4 MC standard errors.
    assert np.abs(summary["mc_mean"].to_numpy() - dcf).max() <= 4 * summary["mc_se"].max()
    assert (summary["p5"] <= summary["p50"]).all()
    assert (summary["p50"] <= summary["p95"]).all()
    assert (summary["expected_shortfall"] <= summary["p5"]).all()


def test_monte_carlo_leaves_out_unpackaged_loans():
    gross = _gross(10)
    index = np.array([0] * 5 + [-1] * 5)
    values = simulate_package_pv(gross, index, 1, 0.1, MonteCarloSettings(n_scenarios=200, idiosyncratic_sd=0.0, systematic_sd=0.0)).values

    assert values[0] == pytest.approx(np.full(200, dcf_value(gross[:5].sum(axis=0), 0.1)), rel=1e-5)


def test_monte_carlo_rejects_bad_index():
    with pytest.raises(InputDataError, match="package_index"):
        simulate_package_pv(_gross(4), np.array([0, 1, 2, 3]), 2, 0.1, MonteCarloSettings(n_scenarios=10))
