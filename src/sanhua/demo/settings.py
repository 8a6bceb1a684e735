"""Settings of the demo portfolio generator.

Every number is either calibrated to a published figure (named in its
description) or tagged ``ASSUMPTION``. The recovery intensities were tuned so
that the generated book lands inside two published ranges, checked by
``tests/demo/test_calibration.py``:

- credit cards recover 20-35 % of exposure at default within 12 months of
  default (rating agencies' static pools of bank card NPLs, default years
  2017-2021: 35.8 %, 29.8 %, 23.9 %, 25.2 %, 22.7 %);
- unsecured loans more than two years past due recover 5-9 % of exposure over
  the rest of their life (bulk-transfer principal recovery, 2025 Q1: 6.9 %
  overall, 5.8 % for loans 2-3 years past due).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DemoSettings", "RecoveryCalibration", "DEFAULT_SLOW_COURT_REGIONS"]

# ASSUMPTION: provinces whose courts are slower and whose recoveries are lower
# in the demo, chosen only to create a regional effect for fairness tests.
DEFAULT_SLOW_COURT_REGIONS: dict[str, float] = {
    "西藏自治区": 0.5,
    "青海省": 0.6,
    "甘肃省": 0.6,
    "贵州省": 0.7,
    "黑龙江省": 0.7,
}


class RecoveryCalibration(BaseModel):
    """Monthly cash intensities after default, as fractions of exposure at default (EAD).

    The expected cash of a loan in month ``m`` after default is the sum of a
    voluntary, a collection and a settlement part, each an intensity times a
    latent factor times a decay
    ``(1 - slow_share) * exp(-(m - 1) / decay_months) + slow_share * exp(-(m - 1) / slow_decay_months)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    voluntary_probability: float = Field(
        0.75, ge=0, le=1,
        description="Monthly probability of a voluntary payment for a fully willing and able debtor in month 1. Calibrated to the card 12-month range.",
    )
    voluntary_share: float = Field(
        0.22, gt=0, le=1,
        description="Mean voluntary payment of a fully able debtor, fraction of EAD. Calibrated to the card 12-month range.",
    )
    collection_probability: float = Field(
        0.42, ge=0, le=1,
        description="Monthly probability of cash from collection for a fully able debtor in month 1. Calibrated to the card 12-month range.",
    )
    collection_share: float = Field(
        0.15, gt=0, le=1,
        description="Mean collected payment of a fully able debtor, fraction of EAD. Calibrated to the card 12-month range.",
    )
    settlement_probability: float = Field(
        0.06, ge=0, le=1,
        description="Monthly probability of a settlement for a fully willing and able debtor in month 1. ASSUMPTION.",
    )
    settlement_low: float = Field(0.35, gt=0, le=1, description="Lowest settlement, fraction of the balance left. ASSUMPTION.")
    settlement_high: float = Field(
        0.7, gt=0, le=1,
        description="Highest settlement, fraction of the balance left. ASSUMPTION around LendingClub's median settlement of 50 % of balance.",
    )
    decay_months: float = Field(8.0, gt=0, description="Time constant of the fast decay, months. Calibrated to both ranges.")
    slow_decay_months: float = Field(
        27.0, gt=0, description="Time constant of the slow decay (the late tail), months. Calibrated to both ranges."
    )
    slow_share: float = Field(
        0.2, ge=0, le=1,
        description="Weight of the slow decay in month 1. Calibrated to the 5-9 % lifetime recovery after two years past due.",
    )
    enforcement_probability: float = Field(
        0.45, ge=0, le=1,
        description="Monthly probability of enforcement cash for a fully able debtor when execution starts. ASSUMPTION.",
    )
    enforcement_share: float = Field(
        0.03, ge=0, le=1,
        description="Mean enforcement payment of a fully able debtor, fraction of EAD. ASSUMPTION.",
    )
    enforcement_decay_months: float = Field(
        12.0, gt=0, description="Time constant of the decay of enforcement cash after execution starts, months. ASSUMPTION."
    )
    product_factor: dict[str, float] = Field(
        default_factory=lambda: {
            "credit_card": 1.0,
            "consumer_loan": 0.8,
            "business_loan": 0.9,
            "mortgage": 0.6,
            "auto_loan": 0.7,
        },
        description="Multiplier of the unsecured intensities by product. ASSUMPTION ordered after 2025 Q1 bulk-transfer principal recovery: business 9.3 %, consumer 6.5 %, cards 5.8 % (cards recover more early, so their factor is 1).",
    )
    collateral_sale_probability: float = Field(
        0.75, ge=0, le=1,
        description="Probability that a mortgage or auto collateral is sold within the horizon. ASSUMPTION.",
    )


class DemoSettings(BaseModel):
    """Size, dates and behavioural knobs of the seeded demo portfolio.

    The same settings, seed included, produce byte-identical tables and files.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(20261204, ge=0, description="Seed of every random draw.")
    n_history_loans: int = Field(
        20_000, ge=200, le=2_000_000,
        description="Loans in the history book. 20,000 fits a model in seconds. ASSUMPTION.",
    )
    n_tape_loans: int = Field(10_000, ge=100, le=2_000_000, description="Loans in the tape. ASSUMPTION.")
    history_cutoff: date = Field(
        date(2026, 6, 30), description="Last date observed in the history: outcomes are known up to it."
    )
    tape_cutoff: date = Field(date(2026, 11, 30), description="Cut-off date (基准日) of every tape loan.")
    history_default_months: int = Field(
        60, ge=24, le=120,
        description="Number of monthly default cohorts in the history, ending in the month before the history cut-off.",
    )
    as_of_at_default_share: float = Field(
        0.4, ge=0, le=1,
        description="Share of history borrowers observed at their default date, so default cohorts are visible. ASSUMPTION.",
    )
    max_months_after_default: int = Field(
        48, ge=0, le=120, description="Largest gap between default and as-of date in the history, months."
    )
    product_mix: dict[str, float] = Field(
        default_factory=lambda: {
            "credit_card": 0.55,
            "consumer_loan": 0.26,
            "business_loan": 0.12,
            "mortgage": 0.03,
            "auto_loan": 0.04,
        },
        description="Share of loans by product. ASSUMPTION: cards dominate bank retail NPL stocks.",
    )
    second_loan_share: float = Field(
        0.15, ge=0, le=1, description="Share of borrowers with a second loan that defaulted with the first. ASSUMPTION."
    )
    region_bias: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_SLOW_COURT_REGIONS),
        description="Province -> multiplier (0-1] of the monthly probability of every kind of cash after default, and stretch of court time. Independent of the latents, so a fair model should not learn it from behaviour. ASSUMPTION.",
    )
    income_shift: float = Field(
        0.0, ge=-2, le=2,
        description="Log shift of the tape's incomes against the history's (0 = same distribution), to simulate drift.",
    )
    hardship_share: float = Field(
        0.12, ge=0, le=1,
        description="Share of debtors in a temporary hardship (illness, job loss, accident, business failure): ability drops until it ends, willingness stays. ASSUMPTION.",
    )
    vulnerable_share: float = Field(
        0.03, ge=0, le=1,
        description="Share of debtors flagged vulnerable (serious illness, disability) besides everyone aged 70 or more. ASSUMPTION.",
    )
    notarised_share: float = Field(
        0.15, ge=0, le=1,
        description="Share of non-card contracts with a notarised enforceable instrument (公证赋强); such cases skip trial. ASSUMPTION.",
    )
    lost_contact_share: float = Field(
        0.15, ge=0, le=1, description="Share of debtors whose own phone is no longer reachable (失联). ASSUMPTION."
    )
    legal_basis_none_share: float = Field(
        0.06, ge=0, le=1,
        description="Share of external records without a lawful basis, which the pipeline must refuse. ASSUMPTION.",
    )
    horizon_months: int = Field(
        120, ge=24, le=240, description="Months after default over which recoveries are simulated."
    )
    recovery: RecoveryCalibration = Field(default_factory=RecoveryCalibration, description="Recovery intensities.")

    @model_validator(mode="after")
    def _check_consistency(self) -> DemoSettings:
        if self.tape_cutoff <= self.history_cutoff:
            raise ValueError(
                f"tape_cutoff ({self.tape_cutoff}) must be later than history_cutoff ({self.history_cutoff}); "
                "move the tape cut-off after the end of the history."
            )
        unknown = set(self.product_mix) - {"credit_card", "consumer_loan", "business_loan", "mortgage", "auto_loan"}
        if unknown:
            raise ValueError(f"product_mix has unknown products {sorted(unknown)}; use canonical product codes.")
        if sum(self.product_mix.values()) <= 0 or min(self.product_mix.values()) < 0:
            raise ValueError(f"product_mix must hold non-negative shares with a positive sum, got {self.product_mix}.")
        bad = {k: v for k, v in self.region_bias.items() if not 0 < v <= 1}
        if bad:
            raise ValueError(f"region_bias multipliers must lie in (0, 1], got {bad}.")
        return self


DEMO_CAPACITIES: dict[str, float] = {"officers": 6.0, "mediation": 60.0, "litigation": 150_000.0}
"""Monthly capacities of the demo run: a small team for the demo's 10,000 loans (ASSUMPTION), so
that case officers bind and the report shows a non-zero shadow price. The bank defaults of
``StrategySettings.capacity`` would leave the demo's capacities mostly unused."""
