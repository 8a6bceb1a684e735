"""Tests of the backtest statistics against values worked by hand."""

from __future__ import annotations

import math

import polars as pl
import pytest

from sanhua.assess import BacktestSettings, backtest
from sanhua.errors import ModelError


def _frame(pred, base, recovered, ead=None):
    n = len(pred)
    return pl.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(n)],
            "exposure_at_default": ead or [100.0] * n,
            "recovered": recovered,
            "expected_recovery_rate": pred,
            "baseline_rate": base,
        }
    )


def test_hand_worked_statistics():
    # Realised rates 0.0..0.9 (recovered / 100); the model is off by +0.1 everywhere.
    realised = [float(i) * 10 for i in range(10)]
    pred = [r / 100 + 0.1 for r in realised]
    result = backtest(_frame(pred, [0.45] * 10, realised), BacktestSettings(n_bootstrap=50)).record
    assert result["metrics"]["rmse"]["model"] == pytest.approx(0.1)
    assert result["metrics"]["mae"]["model"] == pytest.approx(0.1)
    assert result["metrics"]["spearman"]["model"] == pytest.approx(1.0)
    assert result["metrics"]["auc_above_median"]["model"] == pytest.approx(1.0)
    # Predicted total: sum(rate + 0.1) * 100 = 450 + 100 = 550 against 450 realised.
    assert result["total"]["ratio"] == pytest.approx(550 / 450)
    assert math.isnan(result["metrics"]["spearman"]["baseline"])
    assert result["passes"]["total_within_limit"] is False


def test_realised_rate_is_capped():
    result = backtest(_frame([1.5] * 10, [1.5] * 10, [500.0] * 10), BacktestSettings(n_bootstrap=0)).record
    assert result["metrics"]["rmse"]["model"] == pytest.approx(0.0)
    assert result["cap"] == 1.5


def test_intervals_contain_estimate():
    realised = [float(i % 7) * 9 for i in range(200)]
    pred = [r / 100 * 0.9 + 0.02 for r in realised]
    record = backtest(_frame(pred, [0.3] * 200, realised), BacktestSettings(n_bootstrap=200, seed=3)).record
    low, high = record["metrics"]["rmse"]["model_ci"]
    assert low <= record["metrics"]["rmse"]["model"] <= high


def test_row_order_does_not_matter():
    realised = [float(i % 5) * 11 for i in range(50)]
    pred = [0.05 + (i % 3) / 10 for i in range(50)]
    frame = _frame(pred, [0.1 + (i % 4) / 20 for i in range(50)], realised)
    first = backtest(frame, BacktestSettings(n_bootstrap=0)).record
    second = backtest(frame.reverse(), BacktestSettings(n_bootstrap=0)).record
    assert first["metrics"] == second["metrics"]


def test_missing_column_raises():
    with pytest.raises(ModelError, match="baseline_rate"):
        backtest(_frame([0.1] * 10, [0.1] * 10, [1.0] * 10).drop("baseline_rate"))
