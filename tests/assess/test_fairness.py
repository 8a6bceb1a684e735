"""Tests of the fairness audit: golden metrics, small groups, invariance, mitigation and the biased demo."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from sanhua.assess import AssessSettings, Assessor, TargetSettings
from sanhua.assess.fairness import (
    MISSING_GROUP,
    FairnessAudit,
    FairnessSettings,
    favourable_outcome,
    protected_attributes,
    realised_flags,
)
from sanhua.config import Settings
from sanhua.features import build_features
from sanhua.segment.rules import Segmenter
from sanhua.strategy import ActionValuer
from sanhua.tape.schema import TABLES
from sanhua.value.curves import CurveSettings, RecoveryCurve

from .synthetic import make_tape

PROTECTED = {column.name for table in TABLES.values() for column in table.columns if column.protected}


def _golden() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Eight debtors, one loan each: men 3 of 4 favourable, women 1 of 4."""
    scored = pl.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(1, 9)],
            "willingness": [0.9, 0.8, 0.3, 0.7, 0.6, 0.2, 0.1, 0.2],
            "ability": [0.5] * 8,
            "category": ["A", "B", "C", "C", "A", "C", "C", "C"],
            "action": ["settle", "litigate", "litigate", "hold", "settle", "transfer", "litigate", "litigate"],
        }
    )
    groups = pl.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(1, 9)],
            "debtor_id": [f"D{i}" for i in range(1, 9)],
            "gender": ["male"] * 4 + ["female"] * 4,
        }
    )
    # Qualified (willing): men L1, L2, L3, of whom L1, L2 favourable (TPR 2/3); women L5, L6, of whom L5 (TPR 1/2).
    realised = pl.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(1, 9)],
            "willing": [True, True, True, False, True, True, False, False],
            "able": [True, False, False, False, True, False, False, True],
        }
    )
    return scored, groups, realised


def _group(result, attribute: str, group: str) -> dict:
    rows = result.groups.filter((pl.col("attribute") == attribute) & (pl.col("group") == group)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_favourable_outcome_definition():
    frame = pl.DataFrame(
        {
            "category": ["A", "B", "C", "C", "C", "C", "B"],
            "action": ["litigate", "transfer", "litigate", "transfer", "hold", "outsource", "mediate"],
        }
    )

    favourable = frame.select(favourable_outcome()).to_series().to_list()

    assert favourable == [True, True, False, False, True, True, True]


def test_golden_parity_and_opportunity():
    # Hand-computed: rates 3/4 and 1/4, ratio 1/3, difference 1/2; TPR 2/3 and 1/2, difference 1/6.
    scored, groups, realised = _golden()
    settings = FairnessSettings(min_group_debtors=2, equal_opportunity_difference_max=0.1)

    result = FairnessAudit(settings).run(scored, groups, realised=realised)
    summary = result.attributes.row(0, named=True)

    assert summary["parity_ratio"] == pytest.approx(1 / 3, abs=1e-12)
    assert summary["parity_difference"] == pytest.approx(0.5, abs=1e-12)
    assert summary["equal_opportunity_difference"] == pytest.approx(1 / 6, abs=1e-12)
    assert _group(result, "gender", "male")["true_positive_rate"] == pytest.approx(2 / 3, abs=1e-12)
    assert _group(result, "gender", "female")["true_positive_rate"] == pytest.approx(1 / 2, abs=1e-12)
    assert summary["passes_parity"] is False
    assert summary["passes_equal_opportunity"] is False
    assert result.passes is False


def test_golden_failing_group_and_affected():
    scored, groups, realised = _golden()
    settings = FairnessSettings(min_group_debtors=2, equal_opportunity_difference_max=0.2, calibration_gap_max=1.0)

    result = FairnessAudit(settings).run(scored, groups, realised=realised)
    summary = result.attributes.row(0, named=True)

    assert summary["failing_groups"] == ["female"]
    assert summary["debtors_in_failing_groups"] == 4
    assert summary["affected_debtors"] == 3
    assert summary["affected_share"] == pytest.approx(0.75)
    assert summary["passes_equal_opportunity"] is True
    assert _group(result, "gender", "female")["impact_ratio"] == pytest.approx(1 / 3)


def test_golden_calibration_by_group():
    scored, groups, realised = _golden()

    result = FairnessAudit(FairnessSettings(min_group_debtors=2)).run(scored, groups, realised=realised)
    men = _group(result, "gender", "male")

    assert men["mean_willingness"] == pytest.approx((0.9 + 0.8 + 0.3 + 0.7) / 4)
    assert men["observed_willing"] == pytest.approx(3 / 4)
    assert men["observed_able"] == pytest.approx(1 / 4)
    # Gaps: men |0.5 - 0.25| on ability, women |0.275 - 0.5| on willingness; both above the default 0.1.
    assert men["calibration_gap"] == pytest.approx(0.25)
    assert _group(result, "gender", "female")["calibration_gap"] == pytest.approx(0.225)
    assert result.attributes["max_calibration_gap"].item() == pytest.approx(0.25)
    assert result.attributes["passes_calibration"].item() is False


def test_debtor_favourable_only_when_all_loans_are():
    scored = pl.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "willingness": [0.5] * 4,
            "ability": [0.5] * 4,
            "category": ["A", "C", "A", "A"],
            "action": ["settle", "litigate", "settle", "settle"],
        }
    )
    groups = pl.DataFrame({"loan_id": ["L1", "L2", "L3", "L4"], "debtor_id": ["D1", "D1", "D2", "D3"], "gender": ["male", "male", "female", "male"]})

    result = FairnessAudit(FairnessSettings(min_group_debtors=1)).run(scored, groups)

    assert result.unit == "debtor"
    assert result.debtors == 3
    assert _group(result, "gender", "male")["debtors"] == 2
    assert _group(result, "gender", "male")["favourable_rate"] == pytest.approx(0.5)


def test_small_and_missing_groups_not_judged():
    scored, groups, _ = _golden()
    groups = groups.with_columns(pl.Series("gender", ["male"] * 4 + ["female"] * 2 + [MISSING_GROUP] * 2))

    result = FairnessAudit(FairnessSettings(min_group_debtors=3)).run(scored, groups)
    summary = result.attributes.row(0, named=True)

    assert _group(result, "gender", "female")["judged"] is False
    assert _group(result, "gender", MISSING_GROUP)["judged"] is False
    assert summary["judged_groups"] == 1
    assert summary["parity_ratio"] is None
    assert summary["passes"] is None
    assert result.passes is None
    assert summary["failing_groups"] == []


def test_row_order_invariance():
    scored, groups, realised = _golden()
    settings = FairnessSettings(min_group_debtors=2)

    first = FairnessAudit(settings).run(scored, groups, realised=realised).to_record()
    second = FairnessAudit(settings).run(
        scored.sample(fraction=1.0, shuffle=True, seed=3), groups.reverse(), realised=realised.sample(fraction=1.0, shuffle=True, seed=4)
    ).to_record()

    assert first == second


def test_record_is_strict_json():
    scored, groups, realised = _golden()

    record = FairnessAudit(FairnessSettings(min_group_debtors=2)).run(scored, groups, realised=realised).to_record()

    json.dumps(record, allow_nan=False)
    assert record["unit"] == "debtor"


def test_protected_attributes_from_borrowers_and_loans():
    loans = pl.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "borrower_id_hash": ["B1", "B2", "B3", None],
            "as_of_date": [date(2026, 6, 30)] * 4,
            "region": ["湖北省", "广东省", None, "北京市"],
        }
    )
    borrowers = pl.DataFrame(
        {
            "borrower_id_hash": ["B1", "B2", "B3"],
            "gender": ["female", None, "male"],
            "age": [None, 30, 60],
            "birth_date": [date(1996, 7, 1), None, None],
            "region": ["上海市", None, None],
        }
    )

    groups = protected_attributes(loans, borrowers).sort("loan_id")

    assert groups["debtor_id"].to_list() == ["B1", "B2", "B3", "loan:L4"]
    assert groups["gender"].to_list() == ["female", MISSING_GROUP, "male", MISSING_GROUP]
    # B1 is 29 on 2026-06-30: the 30th birthday falls on 2026-07-01.
    assert groups["age_band"].to_list() == ["<30", "30-44", "60+", MISSING_GROUP]
    assert groups["region"].to_list() == ["上海市", "广东省", MISSING_GROUP, "北京市"]


def test_age_band_labels_configurable():
    settings = FairnessSettings(age_bands=(25, 65))
    loans = pl.DataFrame({"loan_id": ["1", "2", "3"], "borrower_id": ["a", "b", "c"]})
    borrowers = pl.DataFrame({"borrower_id": ["a", "b", "c"], "age": [24, 25, 65]})

    groups = protected_attributes(loans, borrowers, settings).sort("loan_id")

    assert settings.band_labels() == ["<25", "25-64", "65+"]
    assert groups["age_band"].to_list() == ["<25", "25-64", "65+"]


@pytest.mark.parametrize("bands", [(), (45, 30), (0, 30), (30, 130)])
def test_invalid_age_bands_rejected(bands):
    with pytest.raises(ValidationError):
        FairnessSettings(age_bands=bands)


def test_settings_compose_as_fairness_section():
    settings = Settings.model_validate({"fairness": {"mitigation": "threshold", "parity_ratio_min": 0.9}})

    assert settings.fairness.mitigation == "threshold"
    assert settings.fairness.parity_ratio_min == 0.9
    assert settings.public_dump()["fairness"]["min_group_debtors"] == 30
    with pytest.raises(ValidationError):
        Settings.model_validate({"fairness": {"mitigation": "reweigh"}})


def test_four_fifths_source_named():
    rows = {row["name"]: row for row in FairnessSettings().assumptions()}

    assert "1607.4(D)" in rows["fairness.parity_ratio_min"]["source"]
    assert rows["fairness.parity_ratio_min"]["tag"] == "SOURCED"
    assert rows["fairness.equal_opportunity_difference_max"]["tag"] == "ASSUMPTION"


# ------------------------------------------------------------ mitigation


def _plan(n: int = 400, seed: int = 11) -> tuple[pl.DataFrame, pl.DataFrame, RecoveryCurve]:
    """A valued plan in which region 'Y' has lower willingness than region 'X'."""
    rng = np.random.default_rng(seed)
    region = np.where(np.arange(n) < n // 2, "X", "Y")
    willingness = np.clip(rng.beta(3, 3, n) - np.where(region == "Y", 0.25, 0.0), 0, 1)
    ability = rng.beta(2, 3, n)
    ead = rng.lognormal(10, 0.5, n)
    frame = pl.DataFrame(
        {
            "loan_id": [f"L{i:04d}" for i in range(n)],
            "currency": ["CNY"] * n,
            "product": ["consumer_loan"] * n,
            "collateral": ["none"] * n,
            "exposure_at_default": ead,
            "principal_outstanding": ead * 0.9,
            "interest_outstanding": ead * 0.1,
            "dpd": rng.integers(100, 700, n).astype(np.int32),
            "willingness": willingness,
            "ability": ability,
            "expected_recovery_rate": 0.1 + 0.3 * willingness * ability,
            "hardship": [False] * n,
            "lost_contact": (rng.random(n) < 0.05).tolist(),
        }
    )
    curve = RecoveryCurve.configured(CurveSettings())
    frame = Segmenter().run(frame)
    frame = frame.join(ActionValuer().run(frame, curve).chosen, on="loan_id", how="left")
    groups = pl.DataFrame({"loan_id": frame["loan_id"], "debtor_id": frame["loan_id"], "region": region})
    return frame, groups, curve


def test_mitigation_raises_parity_ratio():
    frame, groups, curve = _plan()
    settings = FairnessSettings(attributes=("region",))

    result = FairnessAudit(settings).run(frame, groups, curve=curve)
    before = result.attributes.row(0, named=True)
    after = result.mitigation["attributes_after"].row(0, named=True)

    assert before["passes_parity"] is False
    assert after["parity_ratio"] > before["parity_ratio"]
    assert after["parity_ratio"] >= settings.parity_ratio_min
    assert result.mitigation["shifts"][0]["group"] == "Y"
    assert 0 < result.mitigation["shifts"][0]["shift"] <= settings.max_threshold_shift


def test_mitigation_cost_reported():
    frame, groups, curve = _plan()

    result = FairnessAudit(FairnessSettings(attributes=("region",))).run(frame, groups, curve=curve)
    mitigation = result.mitigation

    assert math.isfinite(mitigation["action_value_change"])
    assert mitigation["action_value_change"] == pytest.approx(mitigation["action_value_after"] - mitigation["action_value_before"])
    assert mitigation["action_value_before"] == pytest.approx(float(frame["action_value"].sum()))
    # Expected recovery PV comes from the recovery model, not from the category, so the shift leaves it unchanged.
    assert mitigation["expected_recovery_pv_change"] == pytest.approx(0.0, abs=1e-6)
    assert mitigation["loans_changed_category"] > 0
    assert mitigation["applied"] is False


def test_mitigation_keeps_scores_and_group_x():
    frame, groups, curve = _plan()

    result = FairnessAudit(FairnessSettings(attributes=("region",))).run(frame, groups, curve=curve)
    plan = result.adjusted_plan.sort("loan_id")
    original = frame.sort("loan_id")

    assert plan["willingness"].to_list() == original["willingness"].to_list()
    in_x = (groups.sort("loan_id")["region"] == "X").to_numpy()
    assert plan["category"].to_numpy()[in_x].tolist() == original["category"].to_numpy()[in_x].tolist()


def test_mitigation_target_not_reached_reported():
    frame, groups, curve = _plan()
    settings = FairnessSettings(attributes=("region",), max_threshold_shift=0.01)

    result = FairnessAudit(settings).run(frame, groups, curve=curve)

    assert result.mitigation["shifts"][0]["target_reached"] is False
    assert result.mitigation["shifts"][0]["shift"] == pytest.approx(0.01)


# ------------------------------------------------------- fitted models


@pytest.fixture(scope="module")
def synthetic_fit():
    tape, _ = make_tape(n=1500)
    features = build_features(tape)
    assessor = Assessor(AssessSettings(targets=TargetSettings(willingness="engaged"))).fit(
        features, tape.loans, tape.table("outcomes"), training_sha256="fairness"
    )
    return tape, features, assessor


def test_no_protected_column_in_bundle_features(synthetic_fit, tmp_path):
    _, _, assessor = synthetic_fit

    assessor.save(tmp_path / "model")
    bundle = json.loads((tmp_path / "model" / "bundle.json").read_text(encoding="utf-8"))

    for model, features in bundle["features"].items():
        assert not PROTECTED & set(features), model


def test_audit_with_outcomes_on_synthetic_tape(synthetic_fit):
    tape, features, assessor = synthetic_fit
    scored = assessor.predict(features).join(tape.loans.select("loan_id"), on="loan_id")
    scored = scored.with_columns(
        pl.when(pl.col("willingness") >= 0.5).then(pl.lit("A")).otherwise(pl.lit("C")).alias("category"),
        pl.lit("litigate").alias("action"),
    )
    groups = protected_attributes(tape.loans, tape.table("borrowers"))
    realised = realised_flags(tape.loans, tape.table("outcomes"), TargetSettings(willingness="engaged"))

    result = FairnessAudit().run(scored, groups, realised=realised)

    assert result.has_outcomes
    assert set(result.attributes["attribute"]) == {"gender", "age_band", "region"}
    # Gender is drawn independently of the latents, so the groups' rates stay within the four-fifths rule.
    assert result.attributes.filter(pl.col("attribute") == "gender")["passes_parity"].item() is True
    assert result.groups["mean_willingness"].is_between(0, 1).all()
    assert result.attributes["equal_opportunity_difference"].is_not_null().all()


def test_audit_rejects_out_of_range_score():
    scored, groups, _ = _golden()
    scored = scored.with_columns(pl.Series("willingness", [1.2] + [0.5] * 7))

    with pytest.raises(ValueError, match="row 1"):
        FairnessAudit().run(scored, groups)


# ---------------------------------------------------------- demo portfolio


BIASED_PROVINCE = "广东省"


@pytest.fixture(scope="module")
def biased_demo(tmp_path_factory):
    """The demo portfolio with one populous province's recoveries cut to a fifth, fitted and run on tape and history."""
    from sanhua import pipeline
    from sanhua.demo import write_demo
    from sanhua.demo.settings import DEFAULT_SLOW_COURT_REGIONS, DemoSettings

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("SANHUA_PSEUDONYM_KEY", "fairness-test-key-not-secret-0123456789")
    out = tmp_path_factory.mktemp("fairness-demo")
    settings = DemoSettings(n_history_loans=4000, n_tape_loans=2000, region_bias={**DEFAULT_SLOW_COURT_REGIONS, BIASED_PROVINCE: 0.2})
    paths = write_demo(out, settings)
    pipeline.fit(paths.history, "cn-bank", out=out / "model")
    tape_run = pipeline.run(paths.tape, "cn-bank", out=out / "run-tape", model_dir=out / "model")
    history_run = pipeline.run(paths.history, "cn-bank", out=out / "run-history", model_dir=out / "model")
    yield tape_run, history_run
    monkeypatch.undo()


def _attribute(record: dict, name: str) -> dict:
    return next(item for item in record["fairness"]["attributes"] if item["attribute"] == name)


@pytest.mark.slow
def test_biased_region_flagged_on_history(biased_demo):
    _, history_run = biased_demo
    region = _attribute(history_run.record, "region")
    province = next(g for g in history_run.record["fairness"]["groups"] if g["attribute"] == "region" and g["group"] == BIASED_PROVINCE)

    assert history_run.record["fairness"]["has_outcomes"] is True
    assert region["passes"] is False
    assert BIASED_PROVINCE in region["failing_groups"]
    assert province["fails_calibration"] is True
    assert province["observed_willing"] < province["mean_willingness"]


@pytest.mark.slow
def test_demo_gender_not_flagged(biased_demo):
    tape_run, history_run = biased_demo

    for run in (tape_run, history_run):
        gender = _attribute(run.record, "gender")
        assert gender["passes_parity"] is True
        assert gender["parity_ratio"] >= 0.8


@pytest.mark.slow
def test_demo_fairness_in_run_files(biased_demo):
    tape_run, _ = biased_demo

    saved = json.loads((tape_run.run_dir / "run.json").read_text(encoding="utf-8"))
    html = (tape_run.run_dir / "report.html").read_text(encoding="utf-8")

    assert saved["fairness"]["unit"] == "debtor"
    assert saved["fairness"]["has_outcomes"] is False
    assert "分组公平性" in html
    assert "Fairness by group" in html
    assert any(row["name"] == "fairness.parity_ratio_min" for row in saved["assumptions"])
