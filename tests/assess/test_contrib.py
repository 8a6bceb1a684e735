"""Patterned contributions must equal LightGBM's pred_contrib exactly."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from sanhua.assess import contrib
from sanhua.assess.contrib import fast_contrib


def _data(seed: int = 0, n: int = 4000):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[rng.random(n) < 0.2, 1] = np.nan
    x[:, 3] = rng.integers(0, 6, n)
    x[rng.random(n) < 0.1, 3] = np.nan
    x[:, 4] = np.where(rng.random(n) < 0.3, 0.0, x[:, 4])
    y = (x[:, 0] + np.nan_to_num(x[:, 1]) + (x[:, 3] == 2) + x[:, 4] + rng.normal(size=n) > 0).astype(float)
    return x, y


@pytest.mark.parametrize(
    "extra",
    [{}, {"zero_as_missing": True}, {"max_cat_to_onehot": 2}, {"objective": "regression"}, {"num_leaves": 15}],
    ids=["default", "zero-missing", "category-sets", "regression", "15-leaves"],
)
def test_equals_pred_contrib(extra):
    x, y = _data()
    params = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.1, "verbosity": -1, "min_data_per_group": 20, "seed": 1, **extra}
    booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=[3]), num_boost_round=40)
    expected = booster.predict(x, pred_contrib=True)
    result = fast_contrib(booster, x, min_rows=0)
    assert np.allclose(result, expected, rtol=1e-9, atol=1e-12)


def test_falls_back_when_rules_disagree(monkeypatch, caplog):
    x, y = _data(seed=2)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "verbosity": -1}, lgb.Dataset(x, y), num_boost_round=20)
    monkeypatch.setattr(contrib, "_goes_left", lambda node, values: ~np.isnan(values))
    result = fast_contrib(booster, x, min_rows=0)
    assert np.allclose(result, booster.predict(x, pred_contrib=True))
    assert "differ from LightGBM pred_contrib" in caplog.text
