"""Tests of the assessment models on a synthetic tape with known latents."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from sanhua.assess import AssessSettings, Assessor, TargetSettings
from sanhua.errors import ModelError, NotFittedError
from sanhua.features import build_features

from .synthetic import make_tape


@pytest.fixture(scope="module")
def fitted():
    tape, latent = make_tape()
    features = build_features(tape)
    settings = AssessSettings(targets=TargetSettings(willingness="engaged"))
    assessor = Assessor(settings).fit(features, tape.loans, tape.table("outcomes"), training_sha256="abc")
    return tape, latent, features, assessor


def test_scores_are_probabilities(fitted):
    _, _, features, assessor = fitted
    scores = assessor.predict(features)
    for name in ("willingness", "ability"):
        assert scores[name].is_between(0, 1).all()
        assert scores[name].null_count() == 0
    assert (scores["expected_recovery_rate"] >= 0).all()


def test_scores_rank_latent_values(fitted):
    _, latent, features, assessor = fitted
    scores = assessor.predict(features).join(latent, on="loan_id")
    assert spearmanr(scores["willingness"], scores["willingness_latent"]).statistic >= 0.5
    assert spearmanr(scores["ability"], scores["ability_latent"]).statistic >= 0.5


def test_groups_are_disjoint_and_exclude_protected(fitted):
    _, _, features, _ = fitted
    willingness = set(features.groups["willingness"])
    ability = set(features.groups["ability"])
    assert not willingness & ability
    for protected in ("gender", "age", "region"):
        assert protected not in features.groups["recovery"]


def test_outcome_permutation_leaves_scores_unchanged(fitted):
    tape, _, features, assessor = fitted
    shuffled = dict(tape.tables)
    outcomes = tape.table("outcomes")
    shuffled["outcomes"] = outcomes.with_columns(pl.col("amount").shuffle(seed=1), pl.col("kind").shuffle(seed=2))
    tape.tables = shuffled
    try:
        again = assessor.predict(build_features(tape))
    finally:
        tape.tables = {**shuffled, "outcomes": outcomes}
    before = assessor.predict(features)
    assert before.equals(again)


def test_reasons_in_both_languages(fitted):
    _, _, features, assessor = fitted
    scores = assessor.predict(features)
    first_zh = scores["reasons_zh"][0]
    first_en = scores["reasons_en"][0]
    assert first_zh.count(";") == 2
    assert first_en.count(";") == 2
    assert "还款" in first_zh
    assert ("willingness" in first_en) or ("ability" in first_en)


def test_save_load_round_trip(fitted, tmp_path):
    _, _, features, assessor = fitted
    assessor.save(tmp_path / "model")
    loaded = Assessor.load(tmp_path / "model")
    assert loaded.predict(features).equals(assessor.predict(features))
    assert loaded.version_ == assessor.version_


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError, match="call fit"):
        Assessor().predict(None)


def test_load_missing_folder_raises(tmp_path):
    with pytest.raises(ModelError, match="bundle.json not found"):
        Assessor.load(tmp_path)


def test_history_without_outcomes_raises(fitted):
    tape, _, features, _ = fitted
    with pytest.raises(ModelError, match="no outcomes"):
        Assessor().fit(features, tape.loans, None)


def test_baseline_is_exposure_weighted_by_grade(fitted):
    tape, _, _, assessor = fitted
    outcomes = tape.table("outcomes").group_by("loan_id").agg(pl.col("amount").sum())
    data = tape.loans.join(outcomes, on="loan_id").with_columns(
        (pl.col("amount") / pl.col("exposure_at_default")).clip(0, 1.5).alias("rate")
    )
    grade_a = data.filter(pl.col("grade") == "A")
    expected = float((grade_a["rate"] * grade_a["exposure_at_default"]).sum() / grade_a["exposure_at_default"].sum())
    assert assessor.baseline_["A"] == pytest.approx(expected, rel=1e-9)
    rates = assessor.baseline_rate(pl.DataFrame({"grade": ["A", "Z", None]}))
    assert rates.to_list() == pytest.approx([expected, assessor.baseline_["__all__"], assessor.baseline_["__all__"]])


def test_challenger_compared_and_saved(fitted, tmp_path):
    _, _, _, assessor = fitted
    for name in ("willingness", "ability"):
        challenger = assessor.metrics_[name]["challenger"]
        assert 0.5 < challenger["validation_auc"] <= 1.0
        assert challenger["champion_on_validation"] in ("lightgbm", "woe_scorecard")
        assert challenger["scoring_model"] == challenger["champion_on_validation"]
    assessor.save(tmp_path / "model")
    assert (tmp_path / "model" / "scorecard_willingness.xlsx").is_file()
    assert (tmp_path / "model" / "scorecard_ability.xlsx").is_file()


def test_conformal_interval_covers_fresh_loans(fitted):
    _, _, _, assessor = fitted
    fresh, _ = make_tape(n=3000, seed=8)
    scores = assessor.predict(build_features(fresh))
    realised = fresh.table("outcomes").group_by("loan_id").agg(pl.col("amount").sum())
    data = scores.join(realised, on="loan_id").join(fresh.loans.select("loan_id", "exposure_at_default"), on="loan_id")
    rate = (data["amount"] / data["exposure_at_default"]).clip(0, 1.5)
    inside = (rate >= data["expected_recovery_rate_low"]) & (rate <= data["expected_recovery_rate_high"])
    # Nominal coverage 90 %; a fresh sample of 3,000 loans stays within a few points of it.
    assert 0.85 <= inside.mean() <= 0.96
    assert (data["expected_recovery_rate_low"] <= data["expected_recovery_rate"]).all()
    assert (data["expected_recovery_rate"] <= data["expected_recovery_rate_high"]).all()


def test_scorecard_champion_scores_and_round_trips(tmp_path):
    tape, latent = make_tape(n=2000, seed=11)
    features = build_features(tape)
    settings = AssessSettings(targets=TargetSettings(willingness="engaged"), champion_selection="woe_scorecard")
    assessor = Assessor(settings).fit(features, tape.loans, tape.table("outcomes"))
    scores = assessor.predict(features)
    assert scores["willingness"].is_between(0, 1).all()
    assert scores["reasons_en"][0].count(";") == 2
    joined = scores.join(latent, on="loan_id")
    assert spearmanr(joined["willingness"], joined["willingness_latent"]).statistic >= 0.5
    assessor.save(tmp_path / "model")
    assert (tmp_path / "model" / "scorecard_willingness.pkl").is_file()
    assert Assessor.load(tmp_path / "model").predict(features).equals(scores)
