"""Drift monitor: population stability, discrimination decay and calibration drift of a fitted model.

``sanhua fit`` stores a *baseline* in the model bundle (``bundle.json``, key
``monitor_baseline``): for every model feature and for the three scores
(``willingness``, ``ability``, ``expected_recovery_rate``), the bins of the
history's distribution and the share of the history's loans in each bin. The
history is every loan of the fit's history with features, mature or not,
because the models score every loan of a tape.

Binning
-------
- Numeric features and scores: the edges are the deciles of the history's
  non-missing values (``numpy.quantile`` with linear interpolation). Repeated
  edges are merged, so a feature with a mass point gets fewer bins. Bins are
  closed on the right: ``(-inf, q10]``, ``(q10, q20]``, ..., ``(q90, +inf)``.
- Categorical features: one bin per level seen in the history, plus an
  ``other`` bin for levels the history never had.
- Missing values (null or NaN, and a feature absent from the tape) are a bin
  of their own, always.

Population stability index
--------------------------
For expected (history) shares ``e_i`` and actual (tape) shares ``a_i`` over
the same bins,

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i),

where a share below ``psi_floor`` (default 0.0001) is replaced by the floor
before the sum, so an empty bin adds a finite term. The credit-scoring rule
of thumb reads PSI < 0.10 as stable, 0.10 to 0.25 as a shift to watch and
above 0.25 as a significant shift (:class:`MonitorSettings`).

When the tape carries outcomes, the monitor also compares AUC and KS of the
willingness and ability models on the tape's mature loans with the bundle's
validation metrics, and tabulates calibration: mean predicted against
observed rate by decile of the prediction.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sklearn.metrics import roc_auc_score, roc_curve

from sanhua.errors import InputFileError, ModelError

if TYPE_CHECKING:
    from sanhua.assess import Assessor
    from sanhua.config import Settings
    from sanhua.features.build import FeatureSet
    from sanhua.tape.load import Tape
    from sanhua.tape.profile import Profile

__all__ = [
    "BASELINE_KEY",
    "SCORES",
    "MonitorSettings",
    "MonitorResult",
    "Monitor",
    "build_baseline",
    "psi",
    "baseline_of",
    "monitor",
]

logger = logging.getLogger(__name__)

BASELINE_KEY: Final[str] = "monitor_baseline"
"""Key of the baseline in ``bundle.json``."""

BASELINE_FORMAT: Final[int] = 1

SCORES: Final[tuple[str, ...]] = ("willingness", "ability", "expected_recovery_rate")
"""Score columns of :meth:`sanhua.assess.Assessor.predict` that are monitored."""

# Score column -> model name in the bundle's metrics, and target column of build_targets.
_BINARY: Final[dict[str, str]] = {"willingness": "willing", "ability": "able"}

Level = Literal["stable", "watch", "retrain"]
_RANK: Final[dict[str, int]] = {"stable": 0, "watch": 1, "retrain": 2}


class MonitorSettings(BaseModel):
    """Thresholds and binning of the drift monitor (``[monitor]`` in the settings file)."""

    model_config = ConfigDict(extra="forbid")

    psi_watch: float = Field(
        0.10, gt=0,
        description="PSI at or above which a feature or score is watched. Credit-scoring rule of thumb "
        "(PSI below 0.10: no significant change), usually traced to Lewis, An Introduction to Credit Scoring (1994).",
    )
    psi_act: float = Field(
        0.25, gt=0,
        description="PSI at or above which a shift is significant and retraining is recommended. Same rule of thumb "
        "(PSI above 0.25: significant shift). The thresholds have no statistical derivation and depend on the number of bins.",
    )
    bins: int = Field(
        10, ge=2, le=50,
        description="Quantile bins of a numeric feature or score in the baseline, stored at fit time (10: deciles, the usual choice for PSI).",
    )
    psi_floor: float = Field(
        1e-4, gt=0, lt=0.01,
        description="Share that replaces a smaller one (an empty bin) in the PSI sum, fraction. ASSUMPTION: 0.0001, a common choice.",
    )
    auc_drop_watch: float = Field(
        0.02, ge=0, le=1,
        description="Drop of AUC below the bundle's validation AUC at which a model is watched, absolute. ASSUMPTION.",
    )
    auc_drop_act: float = Field(
        0.05, ge=0, le=1,
        description="Drop of AUC below the bundle's validation AUC at which retraining is recommended, absolute. ASSUMPTION.",
    )
    calibration_gap_watch: float = Field(
        0.05, ge=0, le=1,
        description="Gap between the mean predicted and the observed rate on the tape's mature loans at which a model is watched, "
        "absolute fraction. ASSUMPTION.",
    )
    min_outcome_loans: int = Field(
        100, ge=10,
        description="Mature loans with outcomes needed before AUC, KS and calibration are computed. ASSUMPTION.",
    )

    @model_validator(mode="after")
    def _check_order(self) -> "MonitorSettings":
        if self.psi_watch >= self.psi_act:
            raise ValueError(f"psi_watch ({self.psi_watch}) must be below psi_act ({self.psi_act})")
        if self.auc_drop_watch > self.auc_drop_act:
            raise ValueError(f"auc_drop_watch ({self.auc_drop_watch}) must not exceed auc_drop_act ({self.auc_drop_act})")
        return self

    def level(self, value: float | None) -> Level:
        """Return the PSI level of ``value``: stable, watch or retrain."""
        if value is None or not math.isfinite(value):
            return "stable"
        if value >= self.psi_act:
            return "retrain"
        return "watch" if value >= self.psi_watch else "stable"


# ----------------------------------------------------------------- binning


def _numeric_edges(values: np.ndarray, n_bins: int) -> list[float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    quantiles = np.quantile(finite, np.arange(1, n_bins) / n_bins)
    return [float(v) for v in np.unique(quantiles)]


def _bin_numeric(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Return the bin index of each value: 0..len(edges) for intervals, len(edges) + 1 for missing."""
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")
    return np.where(np.isnan(values), len(edges) + 1, index)


def _bin_categorical(series: pl.Series, levels: list[str]) -> np.ndarray:
    """Return the bin index of each value: one per level, len(levels) for other, len(levels) + 1 for missing."""
    mapping = {level: i for i, level in enumerate(levels)}
    text = series.cast(pl.Utf8)
    index = text.replace_strict(mapping, default=len(levels), return_dtype=pl.Int64)
    return index.set(text.is_null(), len(levels) + 1).to_numpy()


def _float_values(frame: pl.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(frame.height, np.nan)
    return frame[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()


def _labels(spec: dict[str, Any]) -> list[str]:
    if spec["kind"] == "categorical":
        return [*spec["levels"], "(other)", "(missing)"]
    edges = spec["edges"]
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "+inf"]
    return [f"({bounds[i]}, {bounds[i + 1]}{']' if i < len(edges) else ')'}" for i in range(len(edges) + 1)] + ["(missing)"]


def _shares(index: np.ndarray, n_bins: int) -> list[float]:
    counts = np.bincount(index, minlength=n_bins).astype(np.float64)
    total = counts.sum()
    return (counts / total).tolist() if total > 0 else [0.0] * n_bins


def _bin_spec(frame: pl.DataFrame, name: str, categorical: bool, n_bins: int) -> dict[str, Any]:
    if categorical:
        levels = sorted(str(v) for v in frame[name].drop_nulls().unique().to_list()) if name in frame.columns else []
        spec: dict[str, Any] = {"kind": "categorical", "levels": levels}
    else:
        spec = {"kind": "numeric", "edges": _numeric_edges(_float_values(frame, name), n_bins)}
    spec["shares"] = _shares(_bin_index(frame, name, spec), len(_labels(spec)))
    return spec


def _bin_index(frame: pl.DataFrame, name: str, spec: dict[str, Any]) -> np.ndarray:
    n_bins = len(_labels(spec))
    if name not in frame.columns:
        return np.full(frame.height, n_bins - 1, dtype=np.int64)
    if spec["kind"] == "categorical":
        return _bin_categorical(frame[name], spec["levels"])
    return _bin_numeric(_float_values(frame, name), spec["edges"])


def build_baseline(features: "FeatureSet", scores: pl.DataFrame, model_features: dict[str, list[str]], *, n_bins: int = 10) -> dict[str, Any]:
    """Bin the history's features and scores: the monitor's baseline, stored in the bundle.

    Parameters
    ----------
    features : FeatureSet
        Features of the history the models were fit on.
    scores : pl.DataFrame
        ``loan_id`` and the :data:`SCORES` columns of the same loans.
    model_features : dict of str to list of str
        Feature names of each model (``bundle.json`` ``features``).
    n_bins : int
        Quantile bins of a numeric variable (10: deciles).

    Returns
    -------
    dict
        JSON-ready: ``format``, ``n_loans``, ``bins`` (the number asked for),
        ``features`` and ``scores`` (name -> ``kind``, ``edges`` or
        ``levels``, ``shares``: fractions of loans per bin, missing last).
    """
    missing = [name for name in SCORES if name not in scores.columns]
    if missing:
        raise ModelError(f"the scores given for the monitor baseline lack the columns {missing}")

    frame = features.frame
    categorical = set(features.categorical)
    names = sorted({name for names in model_features.values() for name in names})
    baseline = {
        "format": BASELINE_FORMAT,
        "n_loans": frame.height,
        "bins": n_bins,
        "features": {name: _bin_spec(frame, name, name in categorical, n_bins) for name in names},
        "scores": {name: _bin_spec(scores, name, False, n_bins) for name in SCORES},
    }
    logger.info("monitor baseline: %d features and %d scores binned on %d loans", len(names), len(SCORES), frame.height)
    return baseline


def psi(expected: np.ndarray | list[float], actual: np.ndarray | list[float], *, floor: float = 1e-4) -> float:
    """Return the population stability index of two share vectors over the same bins.

    ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)``, each share first raised to
    ``floor`` when smaller (an empty bin).

    Parameters
    ----------
    expected, actual : array of float
        Shares per bin (fractions summing to 1): baseline and monitored sample.
    floor : float
        Smallest share used in the sum.

    Examples
    --------
    >>> round(psi([0.5, 0.5], [0.4, 0.6]), 6)
    0.040546
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    a = np.maximum(np.asarray(actual, dtype=np.float64), floor)
    if e.shape != a.shape:
        raise ValueError(f"expected and actual shares need the same bins, got {e.shape[0]} and {a.shape[0]}")
    return float(np.sum((a - e) * np.log(a / e)))


# ------------------------------------------------------------- performance


def _ks(y: np.ndarray, score: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, score)
    return float(np.max(tpr - fpr))


def _deciles(score: np.ndarray) -> np.ndarray:
    order = np.argsort(score, kind="stable")
    ranks = np.empty(score.size, dtype=np.int64)
    ranks[order] = np.arange(score.size)
    return ranks * 10 // max(score.size, 1) + 1


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def baseline_of(bundle: dict[str, Any], model_dir: str | Path | None = None) -> dict[str, Any]:
    """Return the monitoring baseline of a bundle (``bundle.json`` as a dict).

    Raises
    ------
    ModelError
        When the bundle has no baseline: it was fit before sanhua stored one.
    """
    baseline = bundle.get(BASELINE_KEY)
    if not isinstance(baseline, dict) or baseline.get("format") != BASELINE_FORMAT:
        where = f" in {model_dir}" if model_dir is not None else ""
        raise ModelError(
            f"the model bundle{where} (version {bundle.get('version', '?')}) has no monitoring baseline: it was fit "
            "before sanhua stored one. Refit it with `sanhua fit HISTORY --profile P --out MODEL_DIR` and monitor the new folder."
        )
    return baseline


# ----------------------------------------------------------------- result


@dataclass
class MonitorResult:
    """Drift of one tape against a model's training baseline.

    Attributes
    ----------
    model : dict
        ``version``, ``dir``, ``trained_at`` and ``baseline_loans``.
    tape : dict
        ``path``, ``loans`` (loans scored) and ``loans_with_outcomes``
        (mature loans used for AUC, KS and calibration, 0 without outcomes).
    binning : str
        How the bins were built (English; the report translates it).
    stability : pl.DataFrame
        One row per variable: ``variable``, ``kind`` (feature or score),
        ``models`` (comma-separated), ``psi``, ``level``, ``n_bins``,
        ``missing_expected``, ``missing_actual`` (fractions), ``absent``
        (the feature is not in the tape). Sorted by PSI, largest first.
    bins : pl.DataFrame
        ``variable``, ``bin``, ``expected``, ``actual`` (fractions) and
        ``psi_term``: the detail behind ``stability``.
    performance : pl.DataFrame
        Per binary model: ``model``, ``loans``, ``positive_share``, ``auc``,
        ``baseline_auc``, ``auc_drop``, ``ks``, ``baseline_ks``, ``ks_drop``,
        ``level``. Empty without outcomes.
    calibration : pl.DataFrame
        ``model``, ``decile`` (1 = lowest prediction), ``loans``,
        ``mean_predicted``, ``observed_rate``. Empty without outcomes.
    recommendation : str
        ``stable``, ``watch`` or ``retrain``: the worst level found.
    reasons : list of dict
        Each finding above ``stable``: ``level``, ``check`` (``psi``,
        ``auc_drop`` or ``calibration``), ``name``, ``value``, ``threshold``.
    settings : MonitorSettings
    """

    model: dict[str, Any]
    tape: dict[str, Any]
    binning: str
    stability: pl.DataFrame
    bins: pl.DataFrame
    performance: pl.DataFrame
    calibration: pl.DataFrame
    recommendation: Level
    reasons: list[dict[str, Any]]
    settings: MonitorSettings
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data (aggregates only)."""
        return {
            "created_at": self.created_at,
            "model": self.model,
            "tape": self.tape,
            "binning": self.binning,
            "psi_formula": "sum_i (a_i - e_i) * ln(a_i / e_i), shares below psi_floor raised to psi_floor",
            "settings": self.settings.model_dump(),
            "recommendation": self.recommendation,
            "reasons": self.reasons,
            "stability": self.stability.to_dicts(),
            "bins": self.bins.to_dicts(),
            "performance": self.performance.to_dicts(),
            "calibration": self.calibration.to_dicts(),
        }


def _stability(
    settings: MonitorSettings, baseline: dict[str, Any], bundle: dict[str, Any], feature_frame: pl.DataFrame, scores: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the PSI per variable and the shares per bin behind it (see :class:`MonitorResult`)."""
    model_of: dict[str, list[str]] = {}
    for model, names in bundle.get("features", {}).items():
        for name in names:
            model_of.setdefault(name, []).append(model)

    rows, bin_rows = [], []
    for kind, specs, frame in (("feature", baseline["features"], feature_frame), ("score", baseline["scores"], scores)):
        for name, spec in specs.items():
            labels = _labels(spec)
            actual = _shares(_bin_index(frame, name, spec), len(labels))
            value = psi(spec["shares"], actual, floor=settings.psi_floor)
            e = np.maximum(np.asarray(spec["shares"]), settings.psi_floor)
            a = np.maximum(np.asarray(actual), settings.psi_floor)
            terms = (a - e) * np.log(a / e)
            rows.append({
                "variable": name,
                "kind": kind,
                "models": ", ".join(model_of.get(name, [])) if kind == "feature" else name,
                "psi": value,
                "level": settings.level(value),
                "n_bins": len(labels),
                "missing_expected": spec["shares"][-1],
                "missing_actual": actual[-1],
                "absent": name not in frame.columns,
            })
            bin_rows.extend(
                {"variable": name, "bin": label, "expected": float(spec["shares"][i]), "actual": float(actual[i]), "psi_term": float(terms[i])}
                for i, label in enumerate(labels)
            )
    stability = pl.DataFrame(rows).sort(["psi", "variable"], descending=[True, False])
    bins = pl.DataFrame(bin_rows, schema={"variable": pl.Utf8, "bin": pl.Utf8, "expected": pl.Float64, "actual": pl.Float64, "psi_term": pl.Float64})
    return stability, bins


def _reasons(settings: MonitorSettings, stability: pl.DataFrame, performance: pl.DataFrame, calibration: pl.DataFrame) -> list[dict[str, Any]]:
    """Return every check above stable, worst level first."""
    reasons = [
        {"level": row["level"], "check": "psi", "name": row["variable"], "value": row["psi"],
         "threshold": settings.psi_act if row["level"] == "retrain" else settings.psi_watch}
        for row in stability.iter_rows(named=True)
        if row["level"] != "stable"
    ]
    for row in performance.iter_rows(named=True):
        if row["level"] != "stable":
            reasons.append({
                "level": row["level"], "check": "auc_drop", "name": row["model"], "value": row["auc_drop"],
                "threshold": settings.auc_drop_act if row["level"] == "retrain" else settings.auc_drop_watch,
            })
    if calibration.height:
        overall = calibration.group_by("model").agg(
            ((pl.col("mean_predicted") * pl.col("loans")).sum() / pl.col("loans").sum()).alias("predicted"),
            ((pl.col("observed_rate") * pl.col("loans")).sum() / pl.col("loans").sum()).alias("observed"),
        ).sort("model")
        for model, predicted, observed in overall.iter_rows():
            gap = abs(predicted - observed)
            if gap >= settings.calibration_gap_watch:
                reasons.append({"level": "watch", "check": "calibration", "name": model, "value": gap, "threshold": settings.calibration_gap_watch})

    reasons.sort(key=lambda r: (-_RANK[r["level"]], r["check"], -(r["value"] or 0.0)))
    return reasons


# ----------------------------------------------------------------- engine


class Monitor:
    """Compare a scored tape with the training baseline stored in a model bundle.

    Parameters
    ----------
    settings : MonitorSettings, optional
        Thresholds; defaults documented on the settings model.
    """

    def __init__(self, settings: MonitorSettings | None = None) -> None:
        self.settings = settings

    def run(
        self,
        assessor: "Assessor",
        features: "FeatureSet",
        scores: pl.DataFrame,
        *,
        targets: pl.DataFrame | None = None,
        tape_path: str | Path | None = None,
        model_dir: str | Path | None = None,
    ) -> MonitorResult:
        """Compute PSI per feature and score, and performance decay when targets are given.

        Parameters
        ----------
        assessor : Assessor
            The loaded model (``Assessor.load``), whose bundle has a baseline.
        features : FeatureSet
            Features of the monitored tape.
        scores : pl.DataFrame
            ``loan_id`` and the :data:`SCORES` columns for the same loans.
        targets : pl.DataFrame or None
            ``loan_id``, ``willing``, ``able``, ``recovery_rate``, ``mature``
            (:func:`sanhua.assess.targets.build_targets`), or None.
        tape_path, model_dir : str or Path, optional
            Recorded in the result and named in error messages.

        Raises
        ------
        ModelError
            When the bundle has no baseline (fit before the monitor existed).
        """
        settings = self.settings if self.settings is not None else MonitorSettings()
        if not isinstance(settings, MonitorSettings):
            raise ModelError(f"settings must be a MonitorSettings, received {type(settings).__name__}")
        bundle = getattr(assessor, "bundle_", None) or {}
        baseline = baseline_of(bundle, model_dir)

        stability, bins = _stability(settings, baseline, bundle, features.frame, scores)

        performance, calibration, with_outcomes = self._performance(settings, bundle, scores, targets)

        reasons = _reasons(settings, stability, performance, calibration)
        recommendation: Level = max((r["level"] for r in reasons), key=_RANK.__getitem__, default="stable")

        binning = (
            f"numeric features and scores: {baseline['bins']} quantile bins of the history's {baseline['n_loans']} loans "
            "(edges at its quantiles, right-closed, repeated edges merged); categorical features: one bin per history "
            "level plus one for unseen levels; missing values: a bin of their own"
        )
        result = MonitorResult(
            model={
                "version": bundle.get("version"),
                "dir": str(Path(model_dir).resolve()) if model_dir is not None else None,
                "trained_at": bundle.get("trained_at"),
                "baseline_loans": baseline["n_loans"],
            },
            tape={"path": str(tape_path) if tape_path is not None else None, "loans": features.frame.height, "loans_with_outcomes": with_outcomes},
            binning=binning,
            stability=stability,
            bins=bins,
            performance=performance,
            calibration=calibration,
            recommendation=recommendation,
            reasons=reasons,
            settings=settings,
        )
        logger.info(
            "monitor: %d variables, %d at watch, %d at retrain; recommendation %s",
            stability.height,
            int((stability["level"] == "watch").sum()),
            int((stability["level"] == "retrain").sum()),
            recommendation,
        )
        return result

    def _performance(self, settings: MonitorSettings, bundle: dict, scores: pl.DataFrame, targets: pl.DataFrame | None):
        perf_schema = {
            "model": pl.Utf8, "loans": pl.Int64, "positive_share": pl.Float64, "auc": pl.Float64, "baseline_auc": pl.Float64,
            "auc_drop": pl.Float64, "ks": pl.Float64, "baseline_ks": pl.Float64, "ks_drop": pl.Float64, "level": pl.Utf8,
        }
        cal_schema = {"model": pl.Utf8, "decile": pl.Int64, "loans": pl.Int64, "mean_predicted": pl.Float64, "observed_rate": pl.Float64}
        empty = (pl.DataFrame(schema=perf_schema), pl.DataFrame(schema=cal_schema), 0)
        if targets is None:
            return empty

        data = scores.join(targets.filter(pl.col("mature")), on="loan_id", how="inner")
        if data.height < settings.min_outcome_loans:
            logger.warning(
                "the tape has %d mature loans with outcomes, fewer than monitor.min_outcome_loans (%d): AUC, KS and calibration are not computed",
                data.height, settings.min_outcome_loans,
            )
            return (*empty[:2], data.height)

        metrics = bundle.get("metrics", {})
        perf_rows, cal_rows = [], []
        pairs = [(score, target) for score, target in _BINARY.items()] + [("expected_recovery_rate", "recovery_rate")]
        for score, target in pairs:
            predicted = data[score].cast(pl.Float64).to_numpy()
            observed = data[target].cast(pl.Float64).to_numpy()
            keep = np.isfinite(predicted) & np.isfinite(observed)
            predicted, observed = predicted[keep], observed[keep]

            decile = _deciles(predicted)
            table = (
                pl.DataFrame({"decile": decile, "predicted": predicted, "observed": observed})
                .group_by("decile")
                .agg(pl.len().cast(pl.Int64).alias("loans"), pl.col("predicted").mean().alias("mean_predicted"), pl.col("observed").mean().alias("observed_rate"))
                .sort("decile")
            )
            cal_rows.extend({"model": score, **row} for row in table.iter_rows(named=True))

            if score not in _BINARY:
                continue
            model_metrics = metrics.get(score, {})
            base_auc = _finite_or_none(model_metrics.get("validation_auc"))
            base_ks = _finite_or_none(model_metrics.get("validation_ks"))
            two_classes = 0 < observed.sum() < observed.size
            auc = float(roc_auc_score(observed, predicted)) if two_classes else None
            ks = _ks(observed, predicted) if two_classes else None
            auc_drop = base_auc - auc if auc is not None and base_auc is not None else None
            if auc_drop is None:
                level: Level = "stable"
            elif auc_drop >= settings.auc_drop_act:
                level = "retrain"
            else:
                level = "watch" if auc_drop >= settings.auc_drop_watch else "stable"
            perf_rows.append({
                "model": score,
                "loans": int(observed.size),
                "positive_share": float(observed.mean()),
                "auc": auc,
                "baseline_auc": base_auc,
                "auc_drop": auc_drop,
                "ks": ks,
                "baseline_ks": base_ks,
                "ks_drop": base_ks - ks if ks is not None and base_ks is not None else None,
                "level": level,
            })
        return pl.DataFrame(perf_rows, schema=perf_schema), pl.DataFrame(cal_rows, schema=cal_schema), data.height


# ------------------------------------------------------------ entry point


def monitor(
    model_dir: str | Path,
    tape_path: str | Path,
    profile: "Profile | str | Path",
    *,
    settings: "Settings | None" = None,
    out: str | Path | None = None,
    encoding: str | None = None,
    where: str | None = None,
    as_of: date | None = None,
    demo: bool = False,
    language: str = "zh-CN",
) -> MonitorResult:
    """Load a tape, score it with a fitted model and compare it with the model's training baseline.

    Writes ``monitor.json`` and ``monitor.html`` to ``out`` when given.

    Parameters
    ----------
    model_dir : str or Path
        Folder written by ``sanhua fit`` (with a monitoring baseline).
    tape_path : str or Path
        Loans file or folder of canonical tables, as for ``sanhua run``. When
        it has an outcomes table, performance decay is computed too.
    profile : Profile, str or Path
        Mapping profile of the tape.
    settings : Settings, optional
        Run settings. The thresholds are in ``settings.monitor``.
    """
    # Imported here: the pipeline imports this module to store the baseline at fit time.
    from sanhua import pipeline
    from sanhua.assess import Assessor
    from sanhua.assess.targets import build_targets
    from sanhua.config import Settings
    from sanhua.features import build_features
    from sanhua.tape.load import load_tape

    if not Path(model_dir).exists():
        raise InputFileError(f"model folder {model_dir} not found; create one with `sanhua fit HISTORY --profile P --out MODEL_DIR`")
    if not Path(tape_path).exists():
        raise InputFileError(f"tape {tape_path} not found; give a loans file or a folder of canonical tables")
    settings = settings or Settings()
    profile = pipeline._profile(profile)

    assessor = Assessor.load(model_dir)
    # Checked before the tape is read, which may take minutes.
    baseline_of(assessor.bundle_, model_dir)
    tape: Tape = load_tape(tape_path, profile, pseudonymiser=pipeline._pseudonymiser(settings, demo), encoding=encoding, where=where, as_of=as_of)
    features = build_features(tape)
    scores = assessor.predict(features).select("loan_id", *SCORES)

    targets = None
    outcomes = tape.table("outcomes")
    if outcomes is not None and outcomes.height:
        # NOTE: with targets.willingness = engaged_or_above_median the median is the tape's own,
        # not the history's, so the willingness target of a tape is relative to that tape.
        # The recovery target is developed to ultimate with the model's own curve, as at fit time.
        curve = pipeline._load_curve(Path(model_dir))
        share = curve.curve_["cumulative"].to_numpy() if curve.curve_["source"][0] == "empirical" else None
        targets = build_targets(tape.loans, outcomes, assessor.settings_.targets, share).frame

    result = Monitor(settings.monitor).run(assessor, features, scores, targets=targets, tape_path=tape_path, model_dir=model_dir)
    if out is not None:
        from sanhua.governance.monitor_report import write_monitor

        write_monitor(result, out, language=language)
    return result
