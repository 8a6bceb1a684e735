"""Willingness, ability and expected-recovery models (``Assessor``).

Three LightGBM models are fit on the mature loans of a history:

- ``willingness``: binary, target ``willing`` (see :mod:`sanhua.assess.targets`),
  on the willingness feature group only;
- ``ability``: binary, target ``able``, on the ability feature group only;
- ``recovery``: a two-part model on every feature group, giving
  ``expected_recovery_rate`` (expected lifetime recovery / EAD) =
  ``p_any_recovery`` (classifier of any recovery, ``recovery_any``) x
  ``expected_recovery_rate_if_any`` (regression of the capped rate on the
  loans that recovered something). Where almost every loan (or almost none)
  recovers something, the first part is degenerate: one regression then
  covers every loan.

Fitting: the latest ``validation_months`` of the history (by as-of date) are
the validation slice that picks the number of trees by early stopping; then
out-of-fold predictions over the whole history fit the calibration (isotonic
for the two probabilities, an exposure-weighted level factor for the
recovery rate), and the final models are refit on the whole history with the
chosen number of trees. No outcome column is a feature: the feature table is
built from the tape's non-outcome tables only.
"""

from __future__ import annotations

import json
import logging
import pickle
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, mean_squared_error, roc_auc_score, roc_curve
from sklearn.model_selection import KFold

from sanhua import __version__
from sanhua.assess.contrib import fast_contrib
from sanhua.assess.reasons import reason_codes
from sanhua.assess.scorecard import WoEScorecard
from sanhua.assess.settings import AssessSettings
from sanhua.assess.targets import Targets, build_targets
from sanhua.errors import ModelError, NotFittedError
from sanhua.features.build import FeatureSet

logger = logging.getLogger(__name__)

BUNDLE_FILE = "bundle.json"
BUNDLE_FORMAT = 1
MODELS = ("willingness", "ability", "recovery")
_MIN_TRAINING_LOANS = 50


@dataclass
class _Encoder:
    """Feature columns -> float matrix; categories become integer codes."""

    features: list[str]
    levels: dict[str, list[str]]

    @classmethod
    def fit(cls, frame: pl.DataFrame, features: list[str], categorical: list[str]) -> "_Encoder":
        levels = {}
        for name in features:
            if name in categorical:
                levels[name] = sorted(v for v in frame[name].unique().to_list() if v is not None)
        return cls(features=features, levels=levels)

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        exprs = []
        for name in self.features:
            if name not in frame.columns:
                exprs.append(pl.lit(None, dtype=pl.Float64).alias(name))
            elif name in self.levels:
                mapping = {level: float(i) for i, level in enumerate(self.levels[name])}
                exprs.append(pl.col(name).cast(pl.Utf8).replace_strict(mapping, default=None, return_dtype=pl.Float64).alias(name))
            else:
                exprs.append(pl.col(name).cast(pl.Float64).fill_nan(None).alias(name))
        return frame.select(exprs).to_numpy().astype(np.float64)

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, name in enumerate(self.features) if name in self.levels]


def _lgb_params(settings: AssessSettings, objective: str) -> dict:
    b = settings.recovery_booster if objective == "regression" else settings.booster
    return {
        "objective": objective,
        "learning_rate": b.learning_rate,
        "num_leaves": b.num_leaves,
        "min_data_in_leaf": b.min_data_in_leaf,
        "feature_fraction": b.feature_fraction,
        "bagging_fraction": b.bagging_fraction,
        "bagging_freq": 1,
        "lambda_l2": b.lambda_l2,
        "num_threads": b.threads,
        "seed": settings.seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
        "max_cat_to_onehot": 8,
        "min_data_per_group": 20,
    }


class Assessor:
    """Fit and apply the willingness, ability and expected-recovery models.

    Parameters
    ----------
    settings : AssessSettings, optional
        Model and target settings; defaults documented on the settings model.

    Attributes
    ----------
    boosters_ : dict of str to lightgbm.Booster
        The fitted models: ``willingness``, ``ability``, ``recovery`` (rate
        given any recovery) and, unless that part is degenerate,
        ``recovery_any``.
    encoders_ : dict of str to _Encoder
        Feature list and category levels of each model.
    calibration_ : dict
        Isotonic thresholds of the two probabilities and the recovery level factor.
    metrics_ : dict
        Validation and out-of-fold metrics per model.
    baseline_ : dict
        Exposure-weighted recovery rate by grade on the history (the naive
        baseline of the backtest), with an ``__all__`` entry.
    median_rate_ : float
        Median recovery rate of the history, fraction.
    """

    def __init__(self, settings: AssessSettings | None = None) -> None:
        self.settings = settings

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        features: FeatureSet,
        loans: pl.DataFrame,
        outcomes: pl.DataFrame | None,
        *,
        training_sha256: str = "",
        cumulative_share: np.ndarray | None = None,
    ) -> "Assessor":
        """Fit the three models on a history.

        Parameters
        ----------
        features : FeatureSet
            Features of the history's loans.
        loans : pl.DataFrame
            Canonical loans of the history (EAD, as-of date, grade).
        outcomes : pl.DataFrame
            Canonical outcomes of the history.
        training_sha256 : str
            Hash that identifies the training data (input files and filters).
        cumulative_share : numpy.ndarray, optional
            The recovery curve's cumulative share of lifetime recovery at
            months 1, 2, ... after default; with monthly outcomes it develops
            the recovery targets to ultimate (:func:`build_targets`).

        Returns
        -------
        Assessor
            ``self``, fitted.
        """
        settings = self.settings if self.settings is not None else AssessSettings()
        if not isinstance(settings, AssessSettings):
            raise ModelError(f"settings must be an AssessSettings, received {type(settings).__name__}")
        self.settings_ = settings
        started = time.perf_counter()

        targets = build_targets(loans, outcomes, settings.targets, cumulative_share)
        data = (
            features.frame.join(targets.frame, on="loan_id", how="inner")
            .join(loans.select("loan_id", "as_of_date", "exposure_at_default", *(["grade"] if "grade" in loans.columns else [])).rename(
                {"grade": "_grade"} if "grade" in loans.columns else {}
            ), on="loan_id", how="left")
            .filter(pl.col("mature"))
            .sort("as_of_date", "loan_id")
        )
        if data.height < _MIN_TRAINING_LOANS:
            raise ModelError(
                f"only {data.height} history loans have observed outcomes; at least {_MIN_TRAINING_LOANS} are needed to fit. "
                "Give a longer history or lower targets.min_observed_months."
            )

        latest = data["as_of_date"].max()
        validation_start = latest - _months(settings.validation_months)
        is_validation = (data["as_of_date"] > validation_start).to_numpy()
        if is_validation.sum() < 20 or (~is_validation).sum() < 20:
            # A history too short in time for a dated validation slice: use its latest 20 %.
            cut = int(data.height * 0.8)
            is_validation = np.arange(data.height) >= cut
        self.validation_start_ = validation_start.isoformat()

        self.boosters_: dict[str, lgb.Booster] = {}
        self.challengers_: dict[str, WoEScorecard] = {}
        self.champions_: dict[str, str] = {}
        self.encoders_: dict[str, _Encoder] = {}
        self.calibration_: dict = {}
        self.metrics_: dict = {"n_training_loans": data.height, "n_validation_loans": int(is_validation.sum())}

        groups = {"willingness": features.groups["willingness"], "ability": features.groups["ability"], "recovery": features.groups["recovery"]}
        targets_np = {
            "willingness": data["willing"].cast(pl.Float64).to_numpy(),
            "ability": data["able"].cast(pl.Float64).to_numpy(),
            "recovery": data["recovery_rate"].to_numpy(),
        }
        ead = data["exposure_at_default"].to_numpy()
        for name in MODELS:
            if not groups[name]:
                raise ModelError(f"the {name} model has no features on this tape; check the profile's [features] section")
            if name == "recovery":
                self._fit_recovery(data, groups[name], features.categorical, targets_np[name], ead, is_validation)
            else:
                self._fit_one(name, data, groups[name], features.categorical, targets_np[name], is_validation)

        self._fit_baseline(data)
        self.median_rate_ = targets.median_rate
        self.targets_cutoff_ = targets.cutoff_month
        self.training_sha256_ = training_sha256
        self.trained_at_ = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.version_ = f"{self.trained_at_[:10].replace('-', '')}-{training_sha256[:8] or 'local'}"
        self.metrics_["fit_seconds"] = round(time.perf_counter() - started, 2)
        logger.info("assessment models fit on %d loans in %.1f s", data.height, self.metrics_["fit_seconds"])
        return self

    def _fit_one(self, name, data, feature_names, categorical, y, is_validation) -> None:
        settings = self.settings_
        objective = "binary"
        encoder = _Encoder.fit(data, feature_names, categorical)
        x = encoder.transform(data)
        params = _lgb_params(settings, objective)
        cats = encoder.categorical_indices

        if y.min() == y.max():
            raise ModelError(f"the {name} target has one class only ({int(y[0])}) in the history; the model cannot be fit")

        # 1. Number of trees by early stopping on the validation slice.
        booster, n_trees = _early_stopped(params, settings.booster, x, y, is_validation, cats)
        valid_pred = booster.predict(x[is_validation], num_iteration=n_trees)
        metrics = {"n_trees": n_trees, "n_features": len(feature_names)}
        metrics.update(_metrics(objective, y[is_validation], valid_pred, prefix="validation_"))

        # 2. Out-of-fold predictions for calibration.
        oof = np.zeros(len(y))
        folds = KFold(settings.calibration_folds, shuffle=True, random_state=settings.seed)
        for train_idx, test_idx in folds.split(x):
            fold = lgb.train(params, lgb.Dataset(x[train_idx], y[train_idx], categorical_feature=cats), num_boost_round=n_trees)
            oof[test_idx] = fold.predict(x[test_idx])
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(oof, y)
        self.calibration_[name] = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
        metrics.update(_metrics(objective, y, iso.predict(oof), prefix="oof_calibrated_"))

        # 3. Final model on the whole history.
        final = lgb.train(params, lgb.Dataset(x, y, categorical_feature=cats), num_boost_round=n_trees)
        self.boosters_[name] = final
        self.encoders_[name] = encoder
        self.metrics_[name] = metrics

        if settings.challenger:
            self._fit_challenger(name, data, feature_names, categorical, y, is_validation)

    def _fit_recovery(self, data, feature_names, categorical, y, ead, is_validation) -> None:
        """Fit the expected-recovery model: P(any recovery) x E[rate | any recovery].

        The second part is a regression of the capped rate on the loans that
        recovered something. The first part is a classifier of ``rate > 0``
        with isotonic calibration. It is degenerate when the share of loans
        with any recovery is within ``degenerate_share`` of 0 or 1. Then the
        regression covers every loan, as with ``recovery_model="single"``,
        and the metrics record the degeneracy. Out-of-fold
        products fit the EAD-weighted level factor and the conformal intervals.
        """
        settings = self.settings_
        encoder = _Encoder.fit(data, feature_names, categorical)
        x = encoder.transform(data)
        cats = encoder.categorical_indices
        reg_params = _lgb_params(settings, "regression")
        clf_params = _lgb_params(settings, "binary")

        # 1. Which part is modelled: the conditional loans and whether P(any) needs a classifier.
        any_recovery = (y > 0).astype(np.float64)
        share = float(any_recovery.mean())
        two_part = settings.recovery_model == "two_part"
        minority = min(any_recovery.sum(), len(y) - any_recovery.sum())
        degenerate = not (settings.degenerate_share <= share <= 1.0 - settings.degenerate_share) or minority < 20
        classify = two_part and not degenerate
        # A degenerate first part carries no ranking, and dropping the few loans of the rare class loses information:
        # the regression then covers every loan, as in the single model.
        conditional = any_recovery > 0 if classify else np.ones(len(y), dtype=bool)
        if conditional.sum() < _MIN_TRAINING_LOANS:
            raise ModelError(
                f"only {int(conditional.sum())} history loans recovered anything; at least {_MIN_TRAINING_LOANS} are needed "
                "for the recovery model. Give a longer history or set assess.recovery_model = \"single\"."
            )
        if two_part and degenerate:
            logger.info("P(any recovery) is degenerate: %.1f %% of the history's loans recovered something; one regression covers every loan", 100 * share)

        # 2. Number of trees of each part by early stopping on the validation slice.
        regression, reg_trees = _early_stopped(reg_params, settings.recovery_booster, x[conditional], y[conditional], is_validation[conditional], cats)
        p_valid = np.ones(int(is_validation.sum()))
        metrics: dict = {"n_features": len(feature_names), "n_trees": reg_trees, "model": settings.recovery_model}
        if classify:
            classifier, clf_trees = _early_stopped(clf_params, settings.booster, x, any_recovery, is_validation, cats)
            p_valid = classifier.predict(x[is_validation], num_iteration=clf_trees)
            metrics["any_n_trees"] = clf_trees
            metrics.update(_metrics("binary", any_recovery[is_validation], p_valid, prefix="any_validation_"))
        valid_pred = p_valid * np.clip(regression.predict(x[is_validation], num_iteration=reg_trees), 0.0, None)
        metrics.update(_metrics("regression", y[is_validation], valid_pred, prefix="validation_"))

        # 3. Out-of-fold predictions of both parts for the calibration.
        oof_rate = np.zeros(len(y))
        oof_any = np.ones(len(y))
        folds = KFold(settings.calibration_folds, shuffle=True, random_state=settings.seed)
        for train_idx, test_idx in folds.split(x):
            fit_idx = train_idx[conditional[train_idx]]
            fold = lgb.train(reg_params, lgb.Dataset(x[fit_idx], y[fit_idx], categorical_feature=cats), num_boost_round=reg_trees)
            oof_rate[test_idx] = np.clip(fold.predict(x[test_idx]), 0.0, None)
            if classify:
                fold = lgb.train(clf_params, lgb.Dataset(x[train_idx], any_recovery[train_idx], categorical_feature=cats), num_boost_round=clf_trees)
                oof_any[test_idx] = fold.predict(x[test_idx])
        part = {"model": settings.recovery_model, "any_share": share, "degenerate": bool(two_part and degenerate), "classifier": classify}
        if classify:
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(oof_any, any_recovery)
            part["any_x"], part["any_y"] = iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist()
            oof_any = iso.predict(oof_any)
            metrics.update(_metrics("binary", any_recovery, oof_any, prefix="any_oof_calibrated_"))
        else:
            part["any_constant"] = share
        oof = oof_any * oof_rate
        factor = float(np.sum(y * ead) / np.sum(oof * ead)) if np.sum(oof * ead) > 0 else 1.0
        self.calibration_["recovery"] = {"level_factor": factor, "intervals": _conformal_bins(oof * factor, y, settings), "two_part": part}
        metrics.update(_metrics("regression", y, oof * factor, prefix="oof_"))
        metrics["level_factor"] = factor
        metrics["any_recovery_share"] = share
        metrics["any_recovery_degenerate"] = part["degenerate"]

        # 4. Final models on the whole history.
        self.boosters_["recovery"] = lgb.train(reg_params, lgb.Dataset(x[conditional], y[conditional], categorical_feature=cats), num_boost_round=reg_trees)
        if classify:
            self.boosters_["recovery_any"] = lgb.train(clf_params, lgb.Dataset(x, any_recovery, categorical_feature=cats), num_boost_round=clf_trees)
        self.encoders_["recovery"] = encoder
        self.metrics_["recovery"] = metrics

    def _fit_challenger(self, name, data, feature_names, categorical, y, is_validation) -> None:
        """Fit the WoE scorecard challenger, compare it with the booster on the validation slice and pick the champion.

        With ``champion_selection="validation"`` the model with the higher
        validation AUC scores the loans; the other is kept for review.
        """
        metrics = self.metrics_[name]
        train = data.filter(pl.Series(~is_validation))
        valid = data.filter(pl.Series(is_validation))
        try:
            card = WoEScorecard().fit(train, feature_names, y[~is_validation], categorical)
            auc = float(roc_auc_score(y[is_validation], card.predict_proba(valid))) if 0 < y[is_validation].sum() < is_validation.sum() else float("nan")
            self.challengers_[name] = WoEScorecard().fit(data, feature_names, y, categorical)
        except (ModelError, ValueError) as exc:
            logger.warning("the %s scorecard challenger could not be fit (%s); the booster stays champion", name, exc)
            metrics["challenger"] = {"model": "woe_scorecard", "error": str(exc)}
            return
        booster_auc = metrics.get("validation_auc", float("nan"))
        champion = "woe_scorecard" if auc > booster_auc else "lightgbm"
        scoring = champion if self.settings_.champion_selection == "validation" else self.settings_.champion_selection
        self.champions_[name] = scoring
        metrics["challenger"] = {
            "model": "woe_scorecard",
            "validation_auc": auc,
            "features_kept": len(self.challengers_[name].features_),
            "champion_on_validation": champion,
            "scoring_model": scoring,
        }
        logger.info("%s: booster validation AUC %.3f, scorecard %.3f; champion on validation: %s", name, booster_auc, auc, champion)

    def _fit_baseline(self, data: pl.DataFrame) -> None:
        overall = float((data["recovery_rate"] * data["exposure_at_default"]).sum() / data["exposure_at_default"].sum())
        baseline = {"__all__": overall}
        if "_grade" in data.columns:
            by_grade = data.group_by("_grade").agg(
                ((pl.col("recovery_rate") * pl.col("exposure_at_default")).sum() / pl.col("exposure_at_default").sum()).alias("rate")
            )
            for grade, rate in by_grade.iter_rows():
                if grade is not None:
                    baseline[str(grade)] = float(rate)
        self.baseline_ = baseline

    # -------------------------------------------------------------- predict

    def _check_fitted(self) -> None:
        if not hasattr(self, "boosters_"):
            raise NotFittedError("this Assessor is not fitted yet: call fit(...) or Assessor.load(MODEL_DIR) first")

    def predict(self, features: FeatureSet) -> pl.DataFrame:
        """Score every loan of a feature set.

        Returns
        -------
        pl.DataFrame
            ``loan_id``, ``willingness``, ``ability`` (calibrated
            probabilities in [0, 1]), ``expected_recovery_rate`` (expected
            lifetime recovery / EAD, fraction, >= 0), ``reasons_zh`` and
            ``reasons_en``.
        """
        self._check_fitted()
        frame = features.frame
        missing = [f for enc in self.encoders_.values() for f in enc.features if f not in frame.columns]
        self.absent_features_ = sorted(set(missing))
        if missing:
            logger.warning(
                "%d model features are absent from this tape and are treated as missing: %s",
                len(set(missing)),
                ", ".join(sorted(set(missing))[:10]),
            )

        out = {"loan_id": frame["loan_id"]}
        contributions: dict[str, np.ndarray] = {}
        feature_lists: dict[str, list[str]] = {}
        shown: dict[str, pl.DataFrame] = {}
        for name in MODELS:
            encoder = self.encoders_[name]
            x = encoder.transform(frame)
            booster = self.boosters_[name]
            threads = self.settings_.booster.threads
            raw = booster.predict(x, num_threads=threads)
            if name == "recovery":
                calibration = self.calibration_[name]
                scaled = np.clip(raw, 0.0, None) * calibration["level_factor"]
                p_any, is_product = self._p_any_recovery(x, threads)
                # The regression is the rate given any recovery (two parts), or the whole rate (degenerate or single).
                rate = p_any * scaled if is_product else scaled
                conditional = scaled if is_product else scaled / np.maximum(p_any, 1e-12)
                out["expected_recovery_rate"] = rate
                out["p_any_recovery"] = p_any
                out["expected_recovery_rate_if_any"] = conditional
                intervals = self.calibration_[name].get("intervals")
                if intervals is not None:
                    out["expected_recovery_rate_low"], out["expected_recovery_rate_high"] = _apply_conformal(rate, intervals)
                continue
            if getattr(self, "champions_", {}).get(name) == "woe_scorecard":
                card = self.challengers_[name]
                scored = frame.with_columns([pl.lit(None, dtype=pl.Float64).alias(f) for f in card.input_features_ if f not in frame.columns])
                out[name] = np.clip(card.predict_proba(scored), 0.0, 1.0)
                contributions[name], feature_lists[name] = card.contributions(scored)
                shown[name] = scored.select(feature_lists[name])
                continue
            cal = self.calibration_[name]
            out[name] = np.clip(np.interp(raw, cal["x"], cal["y"]), 0.0, 1.0)
            contrib = fast_contrib(booster, x, num_threads=threads)
            contributions[name] = contrib[:, :-1]
            feature_lists[name] = encoder.features
            shown[name] = frame.select([pl.col(f) if f in frame.columns else pl.lit(None, dtype=pl.Float64).alias(f) for f in encoder.features])

        reasons_zh, reasons_en = reason_codes(
            contributions,
            feature_lists,
            shown,
            n=self.settings_.n_reasons,
        )
        result = pl.DataFrame(out).with_columns(reasons_zh, reasons_en)
        return result

    def _p_any_recovery(self, x: np.ndarray, threads: int) -> tuple[np.ndarray, bool]:
        """Return P(any recovery) per loan and whether the recovery regression is conditional on it.

        With a classifier, the calibrated probability (the regression is the
        rate given any recovery). Otherwise the history's share with any
        recovery, a constant (the regression is the whole rate); a bundle
        written before the two-part model gives 1.
        """
        part = self.calibration_["recovery"].get("two_part")
        if part is None:
            return np.ones(x.shape[0]), False
        if not part["classifier"]:
            return np.full(x.shape[0], float(part["any_constant"])), False
        raw = self.boosters_["recovery_any"].predict(x, num_threads=threads)
        return np.clip(np.interp(raw, part["any_x"], part["any_y"]), 0.0, 1.0), True

    def absent_shares(self, columns: list[str]) -> dict[str, float]:
        """Return, per model, the share of its features that ``columns`` lacks (0 to 1)."""
        self._check_fitted()
        present = set(columns)
        return {
            name: (sum(f not in present for f in encoder.features) / len(encoder.features)) if encoder.features else 0.0
            for name, encoder in self.encoders_.items()
        }

    def baseline_rate(self, loans: pl.DataFrame) -> pl.Series:
        """Return the naive baseline recovery rate of each loan: the history's EAD-weighted rate of its grade."""
        self._check_fitted()
        overall = self.baseline_["__all__"]
        if "grade" not in loans.columns:
            return pl.Series("baseline_rate", np.full(loans.height, overall))
        mapping = {k: v for k, v in self.baseline_.items() if k != "__all__"}
        return loans.select(
            pl.col("grade").cast(pl.Utf8).replace_strict(mapping, default=overall, return_dtype=pl.Float64).alias("baseline_rate")
        ).to_series()

    # --------------------------------------------------------- persistence

    def save(self, model_dir: str | Path, *, extra: dict | None = None) -> Path:
        """Write the fitted bundle to ``model_dir`` (LightGBM text models and ``bundle.json``)."""
        self._check_fitted()
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        for name, booster in self.boosters_.items():
            booster.save_model(str(model_dir / f"{name}.txt"))
        for name, card in getattr(self, "challengers_", {}).items():
            card.export_excel(model_dir / f"scorecard_{name}.xlsx")
            if self.champions_.get(name) == "woe_scorecard":
                # The scorecard scores this output, so the fitted object itself is kept (pickle: model folders are trusted).
                with open(model_dir / f"scorecard_{name}.pkl", "wb") as handle:
                    pickle.dump(card, handle)
        bundle = {
            "format": BUNDLE_FORMAT,
            "sanhua_version": __version__,
            "version": self.version_,
            "trained_at": self.trained_at_,
            "training_data_sha256": self.training_sha256_,
            "settings": self.settings_.model_dump(),
            "features": {name: enc.features for name, enc in self.encoders_.items()},
            "levels": {name: enc.levels for name, enc in self.encoders_.items()},
            "calibration": self.calibration_,
            "metrics": self.metrics_,
            "baseline": self.baseline_,
            "median_rate": self.median_rate_,
            "targets_cutoff": self.targets_cutoff_,
            "validation_start": self.validation_start_,
            "champions": getattr(self, "champions_", {}),
            **(extra or {}),
        }
        (model_dir / BUNDLE_FILE).write_text(json.dumps(bundle, indent=2, ensure_ascii=False), encoding="utf-8")
        return model_dir

    @classmethod
    def load(cls, model_dir: str | Path) -> "Assessor":
        """Read a bundle written by :meth:`save`."""
        model_dir = Path(model_dir)
        path = model_dir / BUNDLE_FILE
        if not path.is_file():
            raise ModelError(f"{model_dir} is not a model folder: {BUNDLE_FILE} not found. Create one with `sanhua fit HISTORY --out {model_dir}`.")
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelError(f"{path} is not valid JSON ({exc}); refit the model with `sanhua fit`.") from exc
        if bundle.get("format") != BUNDLE_FORMAT:
            raise ModelError(f"{path} has bundle format {bundle.get('format')!r}; this sanhua reads format {BUNDLE_FORMAT}. Refit with `sanhua fit`.")

        self = cls(AssessSettings.model_validate(bundle["settings"]))
        self.settings_ = self.settings
        self.boosters_ = {}
        for name in MODELS:
            model_file = model_dir / f"{name}.txt"
            if not model_file.is_file():
                raise ModelError(f"{model_file} is missing from the model folder; refit with `sanhua fit`.")
            self.boosters_[name] = lgb.Booster(model_file=str(model_file))
        if bundle["calibration"]["recovery"].get("two_part", {}).get("classifier"):
            model_file = model_dir / "recovery_any.txt"
            if not model_file.is_file():
                raise ModelError(f"{model_file} is missing from the model folder; refit with `sanhua fit`.")
            self.boosters_["recovery_any"] = lgb.Booster(model_file=str(model_file))
        self.encoders_ = {name: _Encoder(bundle["features"][name], bundle["levels"][name]) for name in MODELS}
        self.calibration_ = bundle["calibration"]
        self.metrics_ = bundle["metrics"]
        self.baseline_ = bundle["baseline"]
        self.median_rate_ = bundle["median_rate"]
        self.targets_cutoff_ = bundle.get("targets_cutoff")
        self.validation_start_ = bundle.get("validation_start")
        self.training_sha256_ = bundle["training_data_sha256"]
        self.trained_at_ = bundle["trained_at"]
        self.version_ = bundle["version"]
        self.champions_ = dict(bundle.get("champions", {}))
        self.challengers_ = {}
        for name, champion in self.champions_.items():
            if champion == "woe_scorecard":
                card_file = model_dir / f"scorecard_{name}.pkl"
                if not card_file.is_file():
                    raise ModelError(f"{card_file} is missing from the model folder; refit with `sanhua fit`.")
                with open(card_file, "rb") as handle:
                    self.challengers_[name] = pickle.load(handle)
        self.bundle_ = bundle
        return self


def _early_stopped(params: dict, booster_settings, x: np.ndarray, y: np.ndarray, is_validation: np.ndarray, cats: list[int]) -> tuple[lgb.Booster, int]:
    """Train on the loans before the validation slice and pick the number of trees by early stopping on it.

    A slice with fewer than 20 loans on either side (a short history, or few
    loans in a conditional part) is replaced by the latest 20 % of the rows,
    which are in as-of order.
    """
    if is_validation.sum() < 20 or (~is_validation).sum() < 20:
        is_validation = np.arange(len(y)) >= int(len(y) * 0.8)
    train = lgb.Dataset(x[~is_validation], y[~is_validation], categorical_feature=cats, free_raw_data=False)
    valid = lgb.Dataset(x[is_validation], y[is_validation], categorical_feature=cats, reference=train)
    booster = lgb.train(
        params,
        train,
        num_boost_round=booster_settings.max_trees,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(booster_settings.early_stopping_rounds, verbose=False)],
    )
    return booster, max(int(booster.best_iteration or booster_settings.max_trees), 10)


def _conformal_bins(pred: np.ndarray, y: np.ndarray, settings: AssessSettings) -> dict:
    """Fit Mondrian split-conformal intervals of the recovery rate from out-of-fold predictions.

    The out-of-fold predictions are cut into ``interval_bins`` bins of equal
    count; within each bin the residual quantiles at (1 - coverage) / 2 and
    (1 + coverage) / 2, with the finite-sample correction (n + 1) / n, give
    the interval around a new prediction in that bin. Out-of-fold
    predictions play the role of the calibration set, so the intervals hold
    on loans like the history's, not under drift.
    """
    coverage = settings.interval_coverage
    n_bins = max(1, min(settings.interval_bins, len(y) // 50))
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, n_bins + 1)[1:-1])) if n_bins > 1 else np.array([])
    index = np.searchsorted(edges, pred, side="right")
    low, high = [], []
    residual = y - pred
    for b in range(len(edges) + 1):
        r = residual[index == b]
        n = max(len(r), 1)
        hi_q = min(1.0, (1 + coverage) / 2 * (n + 1) / n)
        lo_q = max(0.0, 1.0 - hi_q)
        low.append(float(np.quantile(r, lo_q)) if len(r) else float(np.quantile(residual, (1 - coverage) / 2)))
        high.append(float(np.quantile(r, hi_q)) if len(r) else float(np.quantile(residual, (1 + coverage) / 2)))
    return {"coverage": coverage, "edges": edges.tolist(), "low": low, "high": high, "cap": settings.targets.rate_cap}


def _apply_conformal(rate: np.ndarray, intervals: dict) -> tuple[np.ndarray, np.ndarray]:
    index = np.searchsorted(np.asarray(intervals["edges"]), rate, side="right")
    low = np.clip(rate + np.asarray(intervals["low"])[index], 0.0, intervals["cap"])
    high = np.clip(rate + np.asarray(intervals["high"])[index], 0.0, intervals["cap"])
    return np.minimum(low, rate), np.maximum(high, rate)


def _months(n: int):
    from datetime import timedelta

    return timedelta(days=round(n * 30.4375))


def _metrics(objective: str, y: np.ndarray, pred: np.ndarray, prefix: str) -> dict:
    if objective == "binary":
        two_classes = 0 < y.sum() < len(y)
        auc = float(roc_auc_score(y, pred)) if two_classes else float("nan")
        ks = float("nan")
        if two_classes:
            # Kolmogorov-Smirnov statistic: the largest gap between the true and false positive rates.
            fpr, tpr, _ = roc_curve(y, pred)
            ks = float(np.max(tpr - fpr))
        return {
            f"{prefix}auc": auc,
            f"{prefix}ks": ks,
            f"{prefix}brier": float(brier_score_loss(y, np.clip(pred, 0, 1))),
            f"{prefix}positive_share": float(y.mean()),
        }
    return {f"{prefix}rmse": float(np.sqrt(mean_squared_error(y, pred))), f"{prefix}mean_rate": float(pred.mean()), f"{prefix}observed_mean_rate": float(y.mean())}
