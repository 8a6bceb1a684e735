"""Backtest of expected recoveries against realised outcomes on a tape.

Per loan the realised recovery rate is recoveries / exposure at default,
capped at ``cap`` (1.5). The model's ``expected_recovery_rate`` is compared
with a naive baseline, the exposure-weighted recovery rate of the loan's
grade on the history, by RMSE, MAE, Spearman's rank correlation, the AUC of
"realised rate above the tape median", and the predicted against realised
total amount. Each statistic has a 90 % percentile bootstrap interval
(loans resampled with replacement, seeded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import rankdata

from sanhua.errors import ModelError


class BacktestSettings(BaseModel):
    """Settings of :func:`backtest`."""

    model_config = ConfigDict(extra="forbid")

    cap: float = Field(1.5, gt=0, description="Cap on the realised per-loan recovery rate, fraction of EAD.")
    n_bootstrap: int = Field(1000, ge=0, le=100_000, description="Bootstrap resamples for the intervals; 0 disables them.")
    interval: float = Field(0.90, gt=0, lt=1, description="Coverage of the bootstrap intervals.")
    seed: int = Field(20261204, description="Seed of the bootstrap.")
    max_rmse_ratio: float = Field(1.01, gt=0, description="Pass mark: model RMSE at most this multiple of the baseline's.")
    max_total_error: float = Field(0.10, gt=0, description="Pass mark: |predicted / realised total - 1| at most this, fraction.")


@dataclass
class BacktestResult:
    """Backtest statistics; ``record`` is the JSON-ready form written to run.json."""

    record: dict
    loans: pl.DataFrame


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positives = labels.sum()
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _statistics(y: np.ndarray, pred: np.ndarray, ead: np.ndarray) -> dict[str, float]:
    above = y > np.median(y)
    return {
        "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
        "mae": float(np.mean(np.abs(pred - y))),
        "spearman": _spearman(pred, y),
        "auc_above_median": _auc(above, pred),
        "total_ratio": float(np.sum(pred * ead) / np.sum(y * ead)) if np.sum(y * ead) > 0 else float("nan"),
    }


def backtest(
    frame: pl.DataFrame,
    settings: BacktestSettings | None = None,
) -> BacktestResult:
    """Compare predicted with realised recoveries.

    Parameters
    ----------
    frame : pl.DataFrame
        One row per loan with ``exposure_at_default`` (amount),
        ``recovered`` (realised amount), ``expected_recovery_rate`` and
        ``baseline_rate`` (fractions of EAD).
    settings : BacktestSettings, optional

    Returns
    -------
    BacktestResult
    """
    settings = settings or BacktestSettings()
    needed = {"exposure_at_default", "recovered", "expected_recovery_rate", "baseline_rate"}
    missing = needed - set(frame.columns)
    if missing:
        raise ModelError(f"backtest needs columns {sorted(missing)}; received {sorted(frame.columns)}")
    data = frame.filter(pl.col("exposure_at_default") > 0)
    if data.height < 10:
        raise ModelError(f"backtest needs at least 10 loans with positive EAD and outcomes; found {data.height}")

    ead = data["exposure_at_default"].to_numpy()
    y = np.clip(data["recovered"].to_numpy() / ead, 0, settings.cap)
    pred = data["expected_recovery_rate"].to_numpy()
    base = data["baseline_rate"].to_numpy()

    model_stats = _statistics(y, pred, ead)
    base_stats = _statistics(y, base, ead)

    draws: dict[str, list[float]] = {f"{who}:{k}": [] for who in ("model", "baseline") for k in model_stats}
    rng = np.random.default_rng(settings.seed)
    for _ in range(settings.n_bootstrap):
        idx = rng.integers(0, len(y), len(y))
        for who, p in (("model", pred), ("baseline", base)):
            for k, v in _statistics(y[idx], p[idx], ead[idx]).items():
                draws[f"{who}:{k}"].append(v)
    alpha = (1 - settings.interval) / 2

    def interval(key: str) -> list[float] | None:
        values = np.asarray(draws[key], dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return None
        return [float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))]

    metrics = {}
    for k in ("rmse", "mae", "spearman", "auc_above_median"):
        metrics[k] = {
            "model": model_stats[k],
            "model_ci": interval(f"model:{k}"),
            "baseline": base_stats[k],
            "baseline_ci": interval(f"baseline:{k}"),
        }
    realised = float(np.sum(y * ead))
    total = {
        "predicted": float(np.sum(pred * ead)),
        "realised": realised,
        "baseline": float(np.sum(base * ead)),
        "ratio": model_stats["total_ratio"],
        "ratio_ci": interval("model:total_ratio"),
        "baseline_ratio": base_stats["total_ratio"],
    }
    passes = {
        "spearman_beats_baseline": metrics["spearman"]["model"] > metrics["spearman"]["baseline"],
        "auc_beats_baseline": metrics["auc_above_median"]["model"] > metrics["auc_above_median"]["baseline"],
        "rmse_within_limit": metrics["rmse"]["model"] <= settings.max_rmse_ratio * metrics["rmse"]["baseline"],
        "total_within_limit": abs(total["ratio"] - 1) <= settings.max_total_error,
    }
    interval = None
    if {"expected_recovery_rate_low", "expected_recovery_rate_high"} <= set(data.columns):
        inside = (y >= data["expected_recovery_rate_low"].to_numpy() - 1e-12) & (y <= data["expected_recovery_rate_high"].to_numpy() + 1e-12)
        interval = {"coverage": float(inside.mean()), "mean_width": float((data["expected_recovery_rate_high"] - data["expected_recovery_rate_low"]).mean())}
    record = {
        "n_loans": int(len(y)),
        "prediction_interval": interval,
        "cap": settings.cap,
        "interval": settings.interval,
        "n_bootstrap": settings.n_bootstrap,
        "baseline": "exposure-weighted recovery rate by grade on the history",
        "realised_median_rate": float(np.median(y)),
        "metrics": metrics,
        "total": total,
        "passes": passes,
        "limits": {"max_rmse_ratio": settings.max_rmse_ratio, "max_total_error": settings.max_total_error},
    }
    loans = data.select("loan_id").with_columns(
        pl.Series("realised_rate", y), pl.Series("predicted_rate", pred), pl.Series("baseline_rate", base)
    ) if "loan_id" in data.columns else pl.DataFrame()
    return BacktestResult(record=record, loans=loans)
