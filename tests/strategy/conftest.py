"""Shared fixtures of the strategy tests: a seeded synthetic portfolio and a configured recovery curve."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sanhua.segment import Segmenter
from sanhua.value import RecoveryCurve


def synthetic_loans(n: int, seed: int) -> pl.DataFrame:
    """Return ``n`` segmented loans with every column the strategy stage reads (seeded)."""
    rng = np.random.default_rng(seed)
    principal = rng.lognormal(9.5, 0.8, n)
    interest = principal * rng.uniform(0, 0.4, n)
    rate = rng.beta(1, 8, n)
    frame = pl.DataFrame(
        {
            "loan_id": [f"L{i:07d}" for i in range(n)],
            "currency": ["CNY"] * n,
            "product": rng.choice(["credit_card", "consumer_loan", "business_loan", "mortgage"], n),
            "principal_outstanding": principal,
            "interest_outstanding": interest,
            "exposure_at_default": principal + interest,
            "interest_rate": rng.uniform(0.04, 0.24, n),
            "income_annual": pl.Series(np.where(rng.random(n) < 0.3, np.nan, rng.lognormal(11, 0.6, n))).fill_nan(None),
            "dpd": pl.Series(rng.integers(91, 1500, n), dtype=pl.Int32),
            "written_off": rng.random(n) < 0.3,
            "collateral": rng.choice(["none", "none", "none", "guarantee", "mortgage"], n),
            "litigation_status": rng.choice(["not_sued", "not_sued", "in_suit", "judged", "in_execution", "execution_ended_no_assets"], n),
            "notarised": rng.random(n) < 0.1,
            "willingness": rng.random(n),
            "ability": rng.random(n),
            "expected_recovery_rate": rate,
            "expected_recovery_rate_low": rate * 0.6,
            "expected_recovery_rate_high": np.minimum(rate * 1.5, 1.0),
            "hardship": rng.random(n) < 0.15,
            "lost_contact": rng.random(n) < 0.1,
            "age": pl.Series(rng.integers(20, 85, n), dtype=pl.Int32),
            "vulnerability": rng.choice(["none", "none", "none", "none", "none", "none", "disability", ""], n),
        }
    )
    return Segmenter().run(frame)


@pytest.fixture(scope="session")
def curve() -> RecoveryCurve:
    """The configured recovery curve with default settings."""
    return RecoveryCurve.configured()
