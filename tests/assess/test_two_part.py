"""Tests of the two-part expected-recovery model: P(any recovery) x E[rate | any recovery]."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sanhua.assess import AssessSettings, Assessor, TargetSettings
from sanhua.features import build_features

from .synthetic import make_tape


def _fit(tape, **overrides) -> Assessor:
    settings = AssessSettings(targets=TargetSettings(willingness="engaged"), challenger=False, **overrides)
    return Assessor(settings).fit(build_features(tape), tape.loans, tape.table("outcomes"))


@pytest.fixture(scope="module")
def tape():
    return make_tape(nothing_recovered=True)[0]


@pytest.fixture(scope="module")
def two_part(tape):
    return _fit(tape)


def test_rate_is_the_product_of_the_two_parts(tape, two_part):
    scores = two_part.predict(build_features(tape))
    metrics = two_part.metrics_["recovery"]

    assert 0.05 < metrics["any_recovery_share"] < 0.95, "the synthetic tape should make the first part non-degenerate"
    assert not metrics["any_recovery_degenerate"]
    assert "recovery_any" in two_part.boosters_
    assert scores["p_any_recovery"].is_between(0, 1).all()
    assert scores["p_any_recovery"].n_unique() > 10
    product = scores["p_any_recovery"] * scores["expected_recovery_rate_if_any"]
    np.testing.assert_allclose(scores["expected_recovery_rate"].to_numpy(), product.to_numpy(), rtol=1e-12)


def test_first_part_ranks_who_recovers(tape, two_part):
    assert two_part.metrics_["recovery"]["any_oof_calibrated_auc"] > 0.6


def test_level_is_calibrated_on_exposure(tape, two_part):
    # Out-of-fold predictions are scaled so that their EAD-weighted total equals the realised one (source: the fit's
    # level factor); on the training history the final model's total stays within 10 % of the realised total.
    scores = two_part.predict(build_features(tape))
    outcomes = tape.table("outcomes").group_by("loan_id").agg(pl.col("amount").sum().alias("recovered"))
    joined = tape.loans.select("loan_id", "exposure_at_default").join(scores, on="loan_id").join(outcomes, on="loan_id", how="left")
    predicted = (joined["expected_recovery_rate"] * joined["exposure_at_default"]).sum()
    realised = joined["recovered"].fill_null(0).sum()
    assert predicted == pytest.approx(realised, rel=0.25)


def test_degenerate_first_part_falls_back_to_one_regression(tape):
    # With degenerate_share just below 0.5, any share counts as degenerate.
    assessor = _fit(tape, degenerate_share=0.49)
    scores = assessor.predict(build_features(tape))
    metrics = assessor.metrics_["recovery"]

    assert metrics["any_recovery_degenerate"]
    assert "recovery_any" not in assessor.boosters_
    assert scores["p_any_recovery"].n_unique() == 1
    assert scores["p_any_recovery"][0] == pytest.approx(metrics["any_recovery_share"])
    product = scores["p_any_recovery"] * scores["expected_recovery_rate_if_any"]
    np.testing.assert_allclose(scores["expected_recovery_rate"].to_numpy(), product.to_numpy(), rtol=1e-9)


def test_single_model_matches_degenerate_rate(tape):
    single = _fit(tape, recovery_model="single").predict(build_features(tape))
    degenerate = _fit(tape, degenerate_share=0.49).predict(build_features(tape))
    np.testing.assert_allclose(single["expected_recovery_rate"].to_numpy(), degenerate["expected_recovery_rate"].to_numpy(), rtol=1e-12)


def test_two_part_round_trips(tape, two_part, tmp_path):
    features = build_features(tape)
    two_part.save(tmp_path / "model")
    assert (tmp_path / "model" / "recovery_any.txt").is_file()
    loaded = Assessor.load(tmp_path / "model")
    assert loaded.predict(features).equals(two_part.predict(features))


def test_missing_classifier_file_is_named(tape, two_part, tmp_path):
    two_part.save(tmp_path / "model")
    (tmp_path / "model" / "recovery_any.txt").unlink()
    with pytest.raises(Exception, match="recovery_any.txt is missing"):
        Assessor.load(tmp_path / "model")
