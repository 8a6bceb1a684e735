"""Tests of the WoE scorecard challenger."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from openpyxl import load_workbook

from sanhua.assess.scorecard import WoEScorecard
from sanhua.assess.settings import TargetSettings
from sanhua.assess.targets import build_targets
from sanhua.errors import ModelError, NotFittedError
from sanhua.features import build_features

from .synthetic import make_tape


@pytest.fixture(scope="module")
def fitted():
    tape, _ = make_tape(n=3000)
    features = build_features(tape)
    targets = build_targets(tape.loans, tape.table("outcomes"), TargetSettings(willingness="engaged"))
    data = features.frame.join(targets.frame, on="loan_id")
    y = data["willing"].cast(pl.Float64).to_numpy()
    card = WoEScorecard(pdo=20, base_points=600, base_odds=1).fit(data, features.groups["willingness"], y, features.categorical)
    return card, data, y


def test_scores_reconcile_with_points_table(fitted):
    card, data, _ = fitted
    assert np.allclose(card.reconcile(data), card.score(data), atol=1e-9)


def test_pdo_doubles_the_odds(fitted):
    card, data, _ = fitted
    score = card.score(data)
    p = card.predict_proba(data)
    log2_odds = np.log2(p / (1 - p))
    # score = offset + pdo * log2(odds): every pair of debtors obeys the same slope.
    slope = np.polyfit(log2_odds, score, 1)[0]
    assert slope == pytest.approx(20.0, rel=1e-6)


def test_higher_score_means_event_more_likely(fitted):
    card, data, y = fitted
    score = card.score(data)
    assert score[y == 1].mean() > score[y == 0].mean()


def test_empty_bins_have_no_event_rate(fitted):
    card, _, _ = fitted
    empty = card.points_table_.filter(pl.col("count") == 0)
    assert empty["event_rate"].null_count() == empty.height


def test_excel_export_has_points_and_scaling(fitted, tmp_path):
    card, _, _ = fitted
    book = load_workbook(card.export_excel(tmp_path / "points.xlsx"))
    assert book.sheetnames == ["points", "scaling"]
    assert book["points"].max_row == card.points_table_.height + 1
    assert book["scaling"]["B1"].value == 20


def test_invalid_parameter_rejected(fitted):
    _, data, y = fitted
    with pytest.raises(ModelError, match="pdo must be a positive number"):
        WoEScorecard(pdo=0).fit(data, ["months_on_book"], y)


def test_one_class_target_rejected(fitted):
    _, data, _ = fitted
    with pytest.raises(ModelError, match="both classes"):
        WoEScorecard().fit(data, ["months_on_book"], np.ones(data.height))


def test_score_before_fit_raises(fitted):
    _, data, _ = fitted
    with pytest.raises(NotFittedError, match="call fit"):
        WoEScorecard().score(data)
