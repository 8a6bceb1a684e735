"""Deals shared by the securitization tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sanhua.securitize import Deal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "card_npl_2016" / "deal.toml"


def deal_dict(**overrides: Any) -> dict[str, Any]:
    """A small monthly deal on a projected pool with every feature switched on."""
    data: dict[str, Any] = {
        "name": "test-deal",
        "collateral": {"kind": "projected", "outstanding_claims": 10_000.0, "collections": [40.0] * 6 + [30.0] * 12 + [10.0] * 12},
        "dates": {"cutoff": date(2025, 1, 1), "closing": date(2025, 1, 20), "first_payment": date(2025, 2, 26)},
        "fees": [
            {"name": "vat", "kind": "tax", "basis": "notes_balance", "rate": 0.001},
            {"name": "trustee", "basis": "notes_balance", "rate": 0.0005},
            {"name": "rating", "basis": "fixed", "amount_per_year": 1.0},
            {"name": "servicer_base", "basis": "collections", "rate": 0.01},
        ],
        "liquidity_reserve": {"initial": 3.0, "target_periods": 2},
        "excess_spread_account": {"trap_share": 0.1, "cap": 5.0},
        "cash_reserve": {"initial": 2.0},
        "facility": {"limit": 5.0},
        "tranches": [
            {"name": "A", "seniority": "senior", "balance": 400.0, "coupon": 0.03, "retained_share": 0.05},
            {"name": "Sub", "seniority": "subordinated", "balance": 150.0, "coupon": 0.04, "retained_share": 0.05},
        ],
        "triggers": [{"name": "shortfall", "kind": "recovery_shortfall", "threshold": 0.8, "from_period": 2}],
        "cleanup_call": {"enabled": False},
    }
    data.update(overrides)
    return data


@pytest.fixture
def deal() -> Deal:
    return Deal.model_validate(deal_dict())
