"""Tests of the debtor's explanation record."""

from __future__ import annotations

import json

import polars as pl
import pytest

from sanhua.assess.explain import explain_loan, explanation_text
from sanhua.errors import InputFileError, SanhuaError


@pytest.fixture
def run_dir(tmp_path):
    pl.DataFrame(
        {
            "loan_id": ["L1", "L2"],
            "currency": ["CNY", "CNY"],
            "willingness": [0.72, 0.10],
            "ability": [0.20, 0.15],
            "category": ["A", "C"],
            "expected_recovery": [1200.0, 80.0],
            "expected_recovery_pv": [1100.0, 70.0],
            "action": ["restructure", "litigate"],
            "action_value": [900.0, 40.0],
            "reasons_zh": ["还款意愿↑ 本人接通率=0.8; 还款能力↓ 年收入=30000.0; 还款意愿↑ 承诺兑现率=1.0", "还款意愿↓ 逾期天数=900.0"],
            "reasons_en": ["willingness↑ right-party contact rate=0.8; ability↓ annual income=30000.0; willingness↑ promises kept=1.0", "willingness↓ days past due=900.0"],
            "expected_recovery_rate": [0.12, 0.01],
            "segment_rule": ["willing_unable", "unwilling_unable"],
        }
    ).write_parquet(tmp_path / "loans.parquet")
    record = {
        "run_id": "R1",
        "as_of": "2026-11-30",
        "model": {"version": "M1"},
        "config": {"segment": {"willing_high": 0.6}},
        "counts": {"tables": {"loans": {"loaded": 2}, "external": {"loaded": 5}, "repayments": {"loaded": 0}}},
    }
    (tmp_path / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return tmp_path


def test_record_holds_scores_reasons_and_rights(run_dir):
    record = explain_loan(run_dir, "L1")
    assert record["scores"]["willingness"] == pytest.approx(0.72)
    assert record["category"] == "A"
    assert len(record["reasons"]["zh-CN"]) == 3
    assert len(record["reasons"]["en"]) == 3
    assert record["model_version"] == "M1"
    assert "人工复核" in record["rights"]["zh-CN"]
    assert "manual review" in record["rights"]["en"]


def test_data_used_lists_loaded_tables_only(run_dir):
    record = explain_loan(run_dir, "L1")
    assert "repayment history" not in record["data_used"]["en"]
    assert any("external data" in item for item in record["data_used"]["en"])


def test_text_in_both_languages(run_dir):
    record = explain_loan(run_dir, "L2")
    zh = explanation_text(record, "zh-CN")
    en = explanation_text(record, "en")
    assert "还款意愿和还款能力均较低" in zh
    assert "low willingness and low ability" in en
    assert "days past due=900.0" in en


def test_unknown_loan_rejected(run_dir):
    with pytest.raises(SanhuaError, match="'L9' is not in the run"):
        explain_loan(run_dir, "L9")


def test_missing_run_folder_rejected(tmp_path):
    with pytest.raises(InputFileError, match="loans.parquet not found"):
        explain_loan(tmp_path, "L1")
