"""Synthetic scored loans, run records and curves for the report tests (seeded)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

_FEATURES_ZH = ("逾期天数", "月供", "账龄(月)", "距上次还款月数", "承诺兑现率")
_FEATURES_EN = ("days past due", "instalment", "months on book", "months since last payment", "promises kept")
_ACTIONS = ("restructure", "mediate", "litigate", "transfer", "new_unlisted_action")


def make_loans(n: int, seed: int = 7, currencies: tuple[str, ...] = ("CNY",)) -> pl.DataFrame:
    """Build ``n`` scored loans shaped like RUN_DIR/loans.parquet, with seeded random values."""
    rng = np.random.default_rng(seed)
    willingness = rng.beta(2, 3, n)
    ability = rng.beta(2, 2, n)
    category = np.where(willingness >= 0.5, np.where(ability >= 0.4, "A", "B"), np.where(ability >= 0.6, "B", "C"))
    ead = rng.lognormal(9, 1, n)
    rate = 0.3 * willingness * ability
    expected = ead * rate

    first = rng.integers(0, len(_FEATURES_ZH), n)
    second = (first + 1 + rng.integers(0, len(_FEATURES_ZH) - 1, n)) % len(_FEATURES_ZH)
    values = np.round(rng.random(n) * 100, 2).astype(str)
    zh_names = np.array(_FEATURES_ZH)
    en_names = np.array(_FEATURES_EN)
    frame = pl.DataFrame(
        {
            "loan_id": [f"LOAN-SECRET-{i:07d}" for i in range(n)],
            "currency": rng.choice(np.array(currencies), n),
            "willingness": willingness,
            "ability": ability,
            "category": category,
            "first": zh_names[first],
            "second": zh_names[second],
            "first_en": en_names[first],
            "second_en": en_names[second],
            "value": values,
            "expected_recovery": expected,
            "expected_recovery_pv": expected * 0.85,
            "action": rng.choice(np.array(_ACTIONS), n),
            "action_value": expected * 0.6,
            "exposure_at_default": ead,
            "product": rng.choice(np.array(["credit_card", "consumer_loan"]), n),
            "hardship": rng.random(n) < 0.1,
            "lost_contact": rng.random(n) < 0.2,
        }
    )
    return frame.with_columns(
        pl.concat_str(
            pl.lit("还款意愿↓ "), pl.col("first"), pl.lit("="), pl.col("value"), pl.lit("; 还款能力↑ "), pl.col("second"), pl.lit("=DEBTOR-VALUE-"), pl.col("value")
        ).alias("reasons_zh"),
        pl.concat_str(
            pl.lit("willingness↓ "), pl.col("first_en"), pl.lit("="), pl.col("value"), pl.lit("; ability↑ "), pl.col("second_en"), pl.lit("=DEBTOR-VALUE-"), pl.col("value")
        ).alias("reasons_en"),
    ).drop("first", "second", "first_en", "second_en", "value")


def make_record(loans: pl.DataFrame, *, backtest: bool = False) -> dict[str, Any]:
    """Build a run record (run.json) consistent with ``loans``."""
    scored = loans.height
    record: dict[str, Any] = {
        "run_id": "20261204T202338Z-ab12cd",
        "sanhua_version": "0.1.0",
        "command": "run",
        "started_at": "2026-12-04T20:23:38+08:00",
        "finished_at": "2026-12-04T20:24:10+08:00",
        "duration_s": 32.5,
        "run_dir": "/tmp/run",
        "language": "zh-CN",
        "profile": {"name": "cn-bank", "path": "src/sanhua/tape/profiles/cn-bank.toml", "sha256": "a" * 64},
        "config": {"as_of": "2026-06-30", "segment": {"willing_high": 0.6, "willing_low": 0.4, "able_min": 0.5, "able_unwilling_category": "B"}},
        "inputs": [
            {"role": "tape", "path": "/data/tape.csv", "table": "loans", "sha256": "b" * 64, "bytes": 123456, "format": "csv", "encoding": "gb18030"},
        ],
        "model": {"version": "m-2026-11", "dir": "/models/m", "trained_at": "2026-11-30T10:00:00+00:00", "training_data_sha256": "c" * 64, "metrics": {"willingness": {"auc": 0.71}, "ability": {"auc": 0.66}}},
        "counts": {
            "input_rows": scored + 12,
            "scored": scored,
            "quarantined": 7,
            "excluded": 5,
            "excluded_by_reason": {"not_non_performing": 5},
            "quarantined_by_reason": {"missing_required": 4, "out_of_range": 3},
            "tables": {"loans": scored + 12},
        },
        "flags": {"invalid_phone": 3, "card_luhn_failed": 1},
        "assumptions": [
            {"name": "discount_rate", "value": 0.08, "unit": "annual fraction", "source": "ASSUMPTION: bank's cost of funds", "tag": "ASSUMPTION"},
            {"name": "court_fee_band_1", "value": 50, "unit": "CNY per case", "source": "诉讼费用交纳办法 (2007) art. 13", "tag": "SOURCE"},
        ],
        "metrics": {"stage_seconds": {"read": 1.2, "validate": 0.4, "score": 3.1, "custom_stage": 0.2}, "loans_per_second": 31000.0},
        "totals": {"currency": "CNY", "exposure_at_default": 1.0, "expected_recovery": 1.0, "expected_recovery_pv": 1.0, "action_value": 1.0},
        "backtest": None,
    }
    if backtest:
        record["backtest"] = {
            "n_loans": 2373,
            "cap": 1.5,
            "baseline": "exposure-weighted recovery rate by grade on the history",
            "metrics": {
                "rmse": {"model": 0.081, "model_ci": [0.077, 0.085], "baseline": 0.09, "baseline_ci": [0.086, 0.094]},
                "spearman": {"model": 0.21, "model_ci": [0.17, 0.25], "baseline": 0.1, "baseline_ci": [0.06, 0.14]},
            },
            "total": {"predicted": 1.2e6, "realised": 1.1e6, "baseline": 1.3e6, "ratio": 1.09, "ratio_ci": [1.01, 1.18]},
            "passes": {"rmse": True, "spearman": True, "total_ratio": False},
        }
    return record


def make_curve() -> pl.DataFrame:
    """Build an empirical and a configured cumulative recovery curve over 60 months."""
    months = np.arange(0, 61)
    empirical = 1 - np.exp(-months / 14.0)
    configured = np.minimum(months / 48.0, 1.0)
    return pl.DataFrame(
        {
            "month": np.concatenate([months, months]),
            "cumulative": np.concatenate([empirical / empirical[-1], configured]),
            "source": ["empirical"] * len(months) + ["configured"] * len(months),
        }
    )

