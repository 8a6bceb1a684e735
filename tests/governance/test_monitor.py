"""Tests of the drift monitor: PSI, binning, performance decay, settings and ``sanhua monitor`` on the demo."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from sanhua.cli import app
from sanhua.config import load_settings
from sanhua.errors import ConfigError, ModelError
from sanhua.features.build import FeatureSet
from sanhua.governance.catalogue import HOME_ENV
from sanhua.governance.monitor import BASELINE_KEY, Monitor, MonitorSettings, build_baseline, psi
from sanhua.governance.monitor_report import write_monitor
from sanhua.governance.registry import Registry

# ------------------------------------------------------------------- PSI


def test_psi_golden_by_hand() -> None:
    # PSI = sum (a - e) ln(a / e):
    # (0.20 - 0.25) ln(0.20 / 0.25) + (0.30 - 0.25) ln(0.30 / 0.25) + 0
    # = 0.05 * (ln 1.25 + ln 1.2) = 0.05 * (0.2231436 + 0.1823216) = 0.0202733
    value = psi([0.25, 0.25, 0.5], [0.2, 0.3, 0.5])

    assert value == pytest.approx(0.0202733, abs=1e-7)


def test_psi_floor_for_empty_bin() -> None:
    # The empty expected bin counts as 0.0001:
    # (0.4 - 0.5) ln(0.8) + 0 + (0.1 - 0.0001) ln(0.1 / 0.0001)
    # = 0.0223144 + 0.0999 * 6.9077553 = 0.0223144 + 0.6900848 = 0.7123991
    value = psi([0.5, 0.5, 0.0], [0.4, 0.5, 0.1], floor=1e-4)

    assert value == pytest.approx(0.7123991, abs=1e-6)


def test_psi_zero_and_symmetric() -> None:
    e = [0.1, 0.2, 0.3, 0.4]
    a = [0.25, 0.25, 0.25, 0.25]

    assert psi(e, e) == 0.0
    assert psi(e, a) == pytest.approx(psi(a, e), rel=1e-12)
    assert psi(e, a) > 0


def test_psi_rejects_different_bins() -> None:
    with pytest.raises(ValueError, match="need the same bins, got 2 and 3"):
        psi([0.5, 0.5], [0.2, 0.3, 0.5])


# --------------------------------------------------------------- binning


def _feature_set(frame: pl.DataFrame, categorical: list[str] | None = None) -> FeatureSet:
    names = [c for c in frame.columns if c != "loan_id"]
    return FeatureSet(
        frame=frame,
        groups={"willingness": names, "ability": [], "recovery": names},
        categorical=categorical or [],
        flags=pl.DataFrame({"loan_id": frame["loan_id"]}),
    )


def _scores(loan_id: pl.Series, rng: np.random.Generator, shift: float = 0.0) -> pl.DataFrame:
    n = loan_id.len()
    return pl.DataFrame(
        {
            "loan_id": loan_id,
            "willingness": np.clip(rng.beta(2, 5, n) + shift, 0, 1),
            "ability": rng.beta(3, 3, n),
            "expected_recovery_rate": rng.gamma(2.0, 0.1, n),
        }
    )


def _history(n: int, seed: int, *, income_shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    income = np.exp(rng.normal(11.0 + income_shift, 0.5, n))
    income[rng.random(n) < 0.05] = np.nan
    return pl.DataFrame(
        {
            "loan_id": [f"L{seed}-{i}" for i in range(n)],
            "income_annual": income,
            "dpd": rng.integers(90, 900, n).astype(np.float64),
            "product": rng.choice(["credit_card", "consumer_loan", "mortgage"], n, p=[0.6, 0.3, 0.1]),
        }
    ).with_columns(pl.col("income_annual").fill_nan(None))


def _assessor(features: FeatureSet, scores: pl.DataFrame, **bundle: object) -> SimpleNamespace:
    model_features = {"willingness": ["dpd", "product"], "ability": ["income_annual"], "recovery": ["dpd", "income_annual", "product"]}
    baseline = build_baseline(features, scores, model_features, n_bins=10)
    return SimpleNamespace(bundle_={"version": "v-test", "features": model_features, BASELINE_KEY: baseline, **bundle})


def test_baseline_deciles_of_uniform_values() -> None:
    frame = pl.DataFrame({"loan_id": [str(i) for i in range(100)], "x": np.arange(1.0, 101.0)})
    features = _feature_set(frame)
    scores = _scores(frame["loan_id"], np.random.default_rng(0))

    spec = build_baseline(features, scores, {"willingness": ["x"]}, n_bins=10)["features"]["x"]

    # numpy.quantile (linear) of 1..100 at 0.1: 1 + 0.1 * 99 = 10.9.
    assert spec["edges"] == pytest.approx([10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1])
    assert spec["shares"] == pytest.approx([0.1] * 10 + [0.0])


def test_baseline_right_closed_bins_and_missing() -> None:
    frame = pl.DataFrame({"loan_id": ["a", "b", "c", "d", "e"], "x": [0.0, 0.0, 0.0, 1.0, None]})
    features = _feature_set(frame)
    scores = _scores(frame["loan_id"], np.random.default_rng(0))

    spec = build_baseline(features, scores, {"willingness": ["x"]}, n_bins=4)["features"]["x"]

    # Quantiles 0.25, 0.5, 0.75 of (0, 0, 0, 1) are 0, 0, 0.25: edges merge to [0, 0.25].
    assert spec["edges"] == [0.0, 0.25]
    # (-inf, 0] contains the three zeros, (0.25, inf) the one, the last bin the missing value.
    assert spec["shares"] == pytest.approx([0.6, 0.0, 0.2, 0.2])


def test_categorical_bins_by_level_with_other() -> None:
    history = pl.DataFrame({"loan_id": ["a", "b", "c", "d"], "product": ["card", "card", "loan", None]})
    tape = pl.DataFrame({"loan_id": ["e", "f", "g", "h"], "product": ["card", "auto", "auto", "loan"]})
    features = _feature_set(history, categorical=["product"])
    scores = _scores(history["loan_id"], np.random.default_rng(0))
    assessor = SimpleNamespace(bundle_={"version": "v", "features": {"willingness": ["product"]}, BASELINE_KEY: build_baseline(features, scores, {"willingness": ["product"]})})

    result = Monitor().run(assessor, _feature_set(tape, categorical=["product"]), _scores(tape["loan_id"], np.random.default_rng(1)))
    bins = result.bins.filter(pl.col("variable") == "product")

    assert bins["bin"].to_list() == ["card", "loan", "(other)", "(missing)"]
    assert bins["expected"].to_list() == pytest.approx([0.5, 0.25, 0.0, 0.25])
    assert bins["actual"].to_list() == pytest.approx([0.25, 0.25, 0.5, 0.0])


# ---------------------------------------------------------------- engine


def test_same_distribution_is_stable() -> None:
    history = _history(5000, seed=1)
    fresh = _history(5000, seed=2)
    rng = np.random.default_rng(3)
    assessor = _assessor(_feature_set(history, ["product"]), _scores(history["loan_id"], rng))

    result = Monitor().run(assessor, _feature_set(fresh, ["product"]), _scores(fresh["loan_id"], rng))

    assert result.stability["psi"].max() < 0.1
    assert result.recommendation == "stable"
    assert result.reasons == []


def test_income_shift_flags_retrain() -> None:
    history = _history(5000, seed=1)
    shifted = _history(5000, seed=2, income_shift=0.7)
    rng = np.random.default_rng(3)
    assessor = _assessor(_feature_set(history, ["product"]), _scores(history["loan_id"], rng))

    result = Monitor().run(assessor, _feature_set(shifted, ["product"]), _scores(shifted["loan_id"], rng))
    income = result.stability.filter(pl.col("variable") == "income_annual").row(0, named=True)

    assert income["psi"] > 0.25
    assert income["level"] == "retrain"
    assert income["models"] == "ability, recovery"
    assert result.recommendation == "retrain"
    assert result.reasons[0] == {"level": "retrain", "check": "psi", "name": "income_annual", "value": income["psi"], "threshold": 0.25}


def test_score_shift_between_thresholds_is_watch() -> None:
    history = _history(5000, seed=1)
    fresh = _history(5000, seed=2)
    assessor = _assessor(_feature_set(history, ["product"]), _scores(history["loan_id"], np.random.default_rng(3)))

    result = Monitor().run(assessor, _feature_set(fresh, ["product"]), _scores(fresh["loan_id"], np.random.default_rng(4), shift=0.04))
    willingness = result.stability.filter(pl.col("variable") == "willingness").row(0, named=True)

    assert 0.1 <= willingness["psi"] < 0.25
    assert result.recommendation == "watch"


def test_psi_invariant_to_row_order() -> None:
    history = _history(3000, seed=1)
    tape = _history(2000, seed=2, income_shift=0.3)
    rng = np.random.default_rng(3)
    assessor = _assessor(_feature_set(history, ["product"]), _scores(history["loan_id"], rng))
    scores = _scores(tape["loan_id"], rng)

    ordered = Monitor().run(assessor, _feature_set(tape, ["product"]), scores)
    shuffled = Monitor().run(assessor, _feature_set(tape.sample(fraction=1.0, shuffle=True, seed=5), ["product"]), scores.reverse())

    assert ordered.stability.sort("variable")["psi"].to_list() == pytest.approx(shuffled.stability.sort("variable")["psi"].to_list(), abs=1e-12)


def test_absent_feature_is_flagged() -> None:
    history = _history(2000, seed=1)
    tape = _history(2000, seed=2).drop("income_annual")
    rng = np.random.default_rng(3)
    assessor = _assessor(_feature_set(history, ["product"]), _scores(history["loan_id"], rng))

    result = Monitor().run(assessor, _feature_set(tape, ["product"]), _scores(tape["loan_id"], rng))
    income = result.stability.filter(pl.col("variable") == "income_annual").row(0, named=True)

    assert income["absent"] is True
    assert income["missing_actual"] == 1.0
    assert income["level"] == "retrain"


def test_bundle_without_baseline_asks_to_refit() -> None:
    history = _history(100, seed=1)
    assessor = SimpleNamespace(bundle_={"version": "20250101-old", "features": {}})

    with pytest.raises(ModelError, match=r"version 20250101-old\) has no monitoring baseline.*Refit it with `sanhua fit"):
        Monitor().run(assessor, _feature_set(history), _scores(history["loan_id"], np.random.default_rng(0)))


def _targets(loan_id: pl.Series, scores: pl.DataFrame, rng: np.random.Generator, informative: bool) -> pl.DataFrame:
    n = loan_id.len()
    p_willing = scores["willingness"].to_numpy() if informative else np.full(n, 0.3)
    p_able = scores["ability"].to_numpy() if informative else np.full(n, 0.5)
    rate = scores["expected_recovery_rate"].to_numpy()
    return pl.DataFrame(
        {
            "loan_id": loan_id,
            "willing": rng.random(n) < p_willing,
            "able": rng.random(n) < p_able,
            "recovery_rate": rate,
            "mature": np.ones(n, dtype=bool),
        }
    )


def test_auc_decay_flags_retrain() -> None:
    history = _history(4000, seed=1)
    rng = np.random.default_rng(3)
    scores = _scores(history["loan_id"], rng)
    metrics = {"willingness": {"validation_auc": 0.80, "validation_ks": 0.45}, "ability": {"validation_auc": 0.70}}
    assessor = _assessor(_feature_set(history, ["product"]), scores, metrics=metrics)

    # Outcomes independent of the scores: AUC about 0.5, far below the validation AUC.
    result = Monitor().run(assessor, _feature_set(history, ["product"]), scores, targets=_targets(history["loan_id"], scores, rng, informative=False))
    willingness = result.performance.filter(pl.col("model") == "willingness").row(0, named=True)

    assert willingness["auc"] == pytest.approx(0.5, abs=0.04)
    assert willingness["auc_drop"] == pytest.approx(0.80 - willingness["auc"])
    assert willingness["baseline_ks"] == 0.45
    assert willingness["level"] == "retrain"
    assert result.recommendation == "retrain"
    assert {"auc_drop"} <= {r["check"] for r in result.reasons}


def test_calibration_by_decile() -> None:
    history = _history(4000, seed=1)
    rng = np.random.default_rng(3)
    scores = _scores(history["loan_id"], rng)
    assessor = _assessor(_feature_set(history, ["product"]), scores, metrics={})

    result = Monitor().run(assessor, _feature_set(history, ["product"]), scores, targets=_targets(history["loan_id"], scores, rng, informative=True))
    willingness = result.calibration.filter(pl.col("model") == "willingness").sort("decile")

    assert willingness["decile"].to_list() == list(range(1, 11))
    assert willingness["loans"].sum() == 4000
    # The outcomes are drawn with the predicted probabilities: each decile's observed rate lies
    # within four binomial standard errors of its mean prediction.
    p = willingness["mean_predicted"]
    standard_error = (p * (1 - p) / willingness["loans"]).sqrt()
    assert ((willingness["observed_rate"] - p).abs() < 4 * standard_error).all()
    assert willingness["mean_predicted"].is_sorted()
    assert result.performance.filter(pl.col("model") == "willingness")["baseline_auc"].to_list() == [None]


def test_too_few_outcomes_skip_performance() -> None:
    history = _history(50, seed=1)
    rng = np.random.default_rng(3)
    scores = _scores(history["loan_id"], rng)
    assessor = _assessor(_feature_set(history, ["product"]), scores)

    result = Monitor().run(assessor, _feature_set(history, ["product"]), scores, targets=_targets(history["loan_id"], scores, rng, informative=True))

    assert result.performance.height == 0
    assert result.tape["loans_with_outcomes"] == 50


# -------------------------------------------------------------- settings


def test_settings_reject_watch_above_act() -> None:
    with pytest.raises(ValueError, match="psi_watch .* must be below psi_act"):
        MonitorSettings(psi_watch=0.3, psi_act=0.25)


def test_settings_file_monitor_section(tmp_path: Path) -> None:
    path = tmp_path / "bank.toml"
    path.write_text("[monitor]\npsi_watch = 0.05\nauc_drop_act = 0.03\n", encoding="utf-8")

    settings = load_settings(path)

    assert settings.monitor.psi_watch == 0.05
    assert settings.monitor.psi_act == 0.25
    assert settings.monitor.auc_drop_act == 0.03


def test_settings_file_unknown_monitor_key(tmp_path: Path) -> None:
    path = tmp_path / "bank.toml"
    path.write_text("[monitor]\npsi_retrain = 0.3\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="monitor.psi_retrain"):
        load_settings(path)


# ---------------------------------------------------------------- output


def test_write_monitor_json_and_html(tmp_path: Path) -> None:
    history = _history(2000, seed=1)
    tape = _history(2000, seed=2, income_shift=0.7)
    rng = np.random.default_rng(3)
    assessor = _assessor(_feature_set(history, ["product"]), _scores(history["loan_id"], rng))
    result = Monitor().run(assessor, _feature_set(tape, ["product"]), _scores(tape["loan_id"], rng), tape_path="tape.csv")

    json_path, html_path = write_monitor(result, tmp_path / "out", language="en")
    payload = json.loads(json_path.read_text(encoding="utf-8"))
    html = html_path.read_text(encoding="utf-8")

    assert payload["recommendation"] == "retrain"
    assert payload["settings"]["psi_act"] == 0.25
    assert "quantile bins" in payload["binning"]
    assert html.index('lang="en"') < html.index('lang="zh-CN"')
    assert "Model drift monitor" in html
    assert "模型漂移监测" in html
    assert "income_annual: PSI" in html
    assert tape["loan_id"][0] not in html
    assert tape["loan_id"][0] not in json_path.read_text(encoding="utf-8")


# ------------------------------------------------ sanhua monitor on the demo

FAST_FIT = """
[assess]
calibration_folds = 2
[assess.booster]
max_trees = 100
learning_rate = 0.1
[assess.recovery_booster]
max_trees = 100
learning_rate = 0.1
"""


def _invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory: pytest.TempPathFactory):
    """Fit on a small demo history (seed 1) and write a fresh sample (seed 2) and an income-shifted one."""
    from sanhua.demo import DemoSettings, write_demo

    root = tmp_path_factory.mktemp("monitor-demo")
    sizes = {"n_history_loans": 4000, "n_tape_loans": 2000}
    training = write_demo(root / "training", DemoSettings(seed=1, **sizes))
    fresh = write_demo(root / "fresh", DemoSettings(seed=2, **sizes))
    shifted = write_demo(root / "shifted", DemoSettings(seed=2, income_shift=0.7, **sizes))
    config = root / "fast.toml"
    config.write_text(FAST_FIT, encoding="utf-8")

    env = pytest.MonkeyPatch()
    env.setenv(HOME_ENV, str(root / "home"))
    env.setenv("SANHUA_PSEUDONYM_KEY", "monitor-test-key-not-secret-0123456789")
    fitted = _invoke("fit", training.history, "--profile", "cn-bank", "--out", root / "model", "--config", config, "--lang", "en")
    assert fitted.exit_code == 0, fitted.stderr
    yield SimpleNamespace(root=root, model=root / "model", config=config, fresh=fresh, shifted=shifted)
    env.undo()


def _monitor(demo_model, tape: Path, out: str) -> tuple[object, dict]:
    out_dir = demo_model.root / out
    result = _invoke("monitor", "--model", demo_model.model, "--tape", tape, "--profile", "cn-bank", "--config", demo_model.config, "--out", out_dir, "--lang", "en")
    assert result.exit_code == 0, result.stderr
    return result, json.loads((out_dir / "monitor.json").read_text(encoding="utf-8"))


def _psi(payload: dict) -> dict[str, float]:
    return {row["variable"]: row["psi"] for row in payload["stability"]}


INCOME_FEATURES = ("income_annual", "installment_to_income", "ead_to_income")


@pytest.mark.slow
def test_fit_registers_draft(demo_model) -> None:
    bundle = json.loads((demo_model.model / "bundle.json").read_text(encoding="utf-8"))

    record = Registry().show(bundle["version"])

    assert record["status"] == "draft"
    assert record["model_dir"] == str(demo_model.model.resolve())
    assert record["training_data_sha256"] == bundle["training_data_sha256"]
    assert record["features"] == bundle["features"]
    assert bundle[BASELINE_KEY]["n_loans"] == 4000


@pytest.mark.slow
def test_monitor_quiet_on_fresh_sample(demo_model) -> None:
    result, payload = _monitor(demo_model, demo_model.fresh.history, "fresh")

    psi_values = _psi(payload)
    assert max(psi_values.values()) < 0.1, sorted(psi_values.items(), key=lambda kv: -kv[1])[:5]
    assert {"willingness", "ability", "expected_recovery_rate"} <= set(psi_values)
    assert payload["tape"]["loans_with_outcomes"] > 1000
    assert {row["model"] for row in payload["performance"]} == {"willingness", "ability"}
    assert payload["recommendation"] == "stable", payload["reasons"]
    assert "Recommendation: stable" in result.stderr


@pytest.mark.slow
def test_monitor_flags_income_shift(demo_model) -> None:
    _, control = _monitor(demo_model, demo_model.fresh.tape, "control")
    result, payload = _monitor(demo_model, demo_model.shifted.tape, "shifted")

    shifted_psi = _psi(payload)
    control_psi = _psi(control)
    for name in INCOME_FEATURES:
        assert shifted_psi[name] > 0.25, name
        # The same tape without the shift: the income features alone stay stable.
        assert control_psi[name] < 0.1, name
    assert payload["recommendation"] == "retrain"
    assert any(r["name"] == "income_annual" and r["level"] == "retrain" for r in payload["reasons"])
    assert "income_annual: PSI" in result.stderr
    assert (demo_model.root / "shifted" / "monitor.html").is_file()


@pytest.mark.slow
def test_monitor_old_bundle_asks_to_refit(demo_model, tmp_path: Path) -> None:
    old = tmp_path / "old-model"
    old.mkdir()
    for path in demo_model.model.iterdir():
        (old / path.name).write_bytes(path.read_bytes())
    bundle = json.loads((old / "bundle.json").read_text(encoding="utf-8"))
    del bundle[BASELINE_KEY]
    (old / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")

    result = _invoke("monitor", "--model", old, "--tape", demo_model.fresh.tape, "--profile", "cn-bank", "--out", tmp_path / "out", "--lang", "en")

    assert result.exit_code == 2
    assert "has no monitoring baseline" in result.stderr
    assert "Refit it with" in result.stderr
