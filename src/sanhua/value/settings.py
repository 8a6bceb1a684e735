"""Settings of the valuation stage: curves, pricing, Monte Carlo, packaging and disclosure.

Every number carries its unit and a source or the tag ``ASSUMPTION`` (see
:mod:`sanhua.value.params`); ``ValuationSettings.assumptions()`` lists them for
``run.json``. Rates are annual fractions compounded monthly; fixed costs are
CNY and are converted into a loan's currency with ``fx_cny_per_unit``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from sanhua.tape.schema import CODES
from sanhua.value.params import assumption_rows, param

__all__ = [
    "CurveModelSettings",
    "PricingSettings",
    "MonteCarloSettings",
    "PackagingSettings",
    "DisclosureSettings",
    "ValuationSettings",
]

_PILOT = "bulk-transfer pilot for personal NPLs (credit-asset registration and transfer centre, 2021; extended to 2026-12-31)"
_COMMISSION = "reported outsourced-collection commission rates of Chinese banks (typically 15-30%; tenders quote 5-37%)"


class CurveModelSettings(BaseModel):
    """Recovery curves by segment (:class:`sanhua.value.segments.SegmentedCurves`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_month: int = param(60, "Last development month of the curves.", unit="months", ge=2, le=600)
    cohort: Literal["month", "quarter", "year"] = param("quarter", "Default-date period that forms the triangle's origins.", unit="period")
    tail: float | Literal["exponential"] = param(
        1.0, "Development factor beyond max_month: a number >= 1, or 'exponential' for a fitted decay of the link ratios.", unit="factor"
    )
    band_level: float = param(0.90, "Two-sided confidence level of the curve bands.", unit="probability", gt=0, lt=1, policy=True)
    min_cohort_loans: int = param(30, "Cohorts with fewer loans are left out of the link ratios (still completed).", unit="loans", ge=1)
    min_segment_loans: int = param(500, "Segments with fewer loans use their parent segment's curve.", unit="loans", ge=1)
    segment_by: tuple[Literal["product", "category", "dpd_band", "region"], ...] = param(
        ("product", "dpd_band"), "Segment columns, outermost first; each level nests in the previous one.", unit="column names", policy=True
    )
    dpd_band_edges: tuple[int, ...] = param(
        (365, 730, 1095),
        "Days-past-due edges of the DPD bands: under one year, one to two, two to three and over three years, the bands that "
        "the bulk-transfer market reports prices by.",
        unit="days",
        source="reported bulk-transfer market figures for personal NPLs, 2025 Q1",
    )
    recovery_cap: float = param(
        1.0,
        "Largest cumulative recovery of one loan as a fraction of its EAD; cash beyond it is cut (latest months first) and reported. "
        "1.0 because recovered cash above the exposure is interest and fees accrued after default that the tape's EAD leaves out.",
        unit="fraction of EAD",
        gt=0,
        le=5,
    )

    @model_validator(mode="after")
    def _check(self) -> CurveModelSettings:
        if isinstance(self.tail, float) and self.tail < 1:
            raise ValueError(f"curves.tail must be >= 1 or 'exponential', got {self.tail}.")
        if list(self.dpd_band_edges) != sorted(set(self.dpd_band_edges)) or not self.dpd_band_edges:
            raise ValueError(f"curves.dpd_band_edges must be strictly increasing and not empty, got {self.dpd_band_edges}.")
        if len(set(self.segment_by)) != len(self.segment_by):
            raise ValueError(f"curves.segment_by repeats a column: {self.segment_by}.")
        return self


class PricingSettings(BaseModel):
    """Discounted cash flow, the buyer's bid and the bank's hold value (:mod:`sanhua.value.pricing`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    discount_rate: float = param(
        0.08, "Bank's annual discount rate for its own expected cash, compounded monthly (as strategy.discount_rate).", unit="annual fraction", ge=0, le=1
    )
    target_irr: float = param(
        0.15, "Buyer's target internal rate of return on a package (annual, compounded monthly).", unit="annual fraction", ge=0, le=2
    )
    buyer_recovery_factor: float = param(
        1.0, "Buyer's expected recovery relative to the bank's expected_recovery_rate.", unit="ratio", ge=0, le=5
    )
    servicing_cost_rate: float = param(
        0.25,
        "Buyer's servicing cost (outsourced collection commission) on cash collected: mid-upper point of 15-30%.",
        unit="fraction of cash collected",
        source=_COMMISSION,
        ge=0,
        le=1,
    )
    due_diligence_cost_cny: float = param(
        50_000.0, "Buyer's due-diligence cost per package (legal review, data checks), deducted from the bid.", unit="CNY per package", ge=0
    )
    due_diligence_cost_per_loan_cny: float = param(
        20.0, "Buyer's due-diligence cost per loan (file review, sampling).", unit="CNY per loan", ge=0
    )
    hold_cost_rate: float = param(
        0.08, "Bank's in-house collection cost on cash collected when it holds (as strategy.hold).", unit="fraction of cash collected", ge=0, le=1
    )
    hold_fixed_cost_cny: float = param(100.0, "Bank's in-house handling cost per held loan.", unit="CNY per loan", ge=0)
    sale_delay_months: float = param(
        4.0, "Months from the cut-off to the sale's settlement (packaging, announcement, bidding).", unit="months", ge=0, le=60
    )
    sale_cost_rate: float = param(0.01, "Platform, legal and advisory fees on the price.", unit="fraction of price", ge=0, le=1)
    sell_margin: float = param(
        0.0, "Sell a package only when its net proceeds exceed its hold value by this share of the hold value.", unit="fraction of hold value", ge=0, le=1, policy=True
    )
    fx_cny_per_unit: dict[str, float] = param(
        {"CNY": 1.0, "USD": 7.1}, "CNY per unit of each tape currency, to convert CNY costs (USD about the 2024-2025 level).", unit="CNY per unit"
    )


class MonteCarloSettings(BaseModel):
    """One-factor Monte Carlo of package prices (:func:`sanhua.value.pricing.simulate_package_pv`).

    Loan ``i``'s expected cash in month ``t`` is multiplied in scenario ``s`` by
    ``exp(b Z[s, t] - b^2 / 2) * exp(e E[i, s] - e^2 / 2)``: ``Z`` is a
    stationary AR(1) standard normal factor shared by all loans (persistence
    ``phi``), ``E`` an independent standard normal per loan and scenario. Both
    multipliers have mean 1, so the simulated mean equals the DCF value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_scenarios: int = param(10_000, "Scenarios per run.", unit="scenarios", ge=10, le=1_000_000)
    seed: int = param(20261204, "Seed of the scenario draws; the same seed and chunk size give the same prices.", unit="seed", ge=0, policy=True)
    systematic_sd: float = param(0.30, "Log-volatility b of the systematic factor per month.", unit="log units", ge=0, le=3)
    systematic_persistence: float = param(
        0.9, "AR(1) coefficient phi of the systematic factor from one month to the next.", unit="correlation", ge=0, lt=1
    )
    idiosyncratic_sd: float = param(0.8, "Log-volatility e of a loan's lifetime recovery around its expectation.", unit="log units", ge=0, le=3)
    tail_level: float = param(0.05, "Probability level of the expected shortfall and the low percentile.", unit="probability", gt=0, lt=0.5, policy=True)
    chunk_loans: int = param(
        2048, "Loans simulated together; memory is about 10 bytes x chunk_loans x n_scenarios per thread.", unit="loans", ge=1, le=1_000_000
    )
    threads: int = param(2, "Worker threads over chunks (NumPy releases the GIL in BLAS and the generators).", unit="threads", ge=1, le=64)


class PackagingSettings(BaseModel):
    """Transfer rules and package formation (:mod:`sanhua.value.packaging`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    eligible_products: tuple[str, ...] = param(
        ("credit_card", "consumer_loan", "business_loan"),
        "Products eligible for bulk transfer: unsecured personal consumer loans, credit-card overdrafts and unsecured personal business loans.",
        unit="product codes",
        source=_PILOT,
    )
    require_unsecured: bool = param(True, "Only unsecured loans (collateral 'none') are eligible.", unit="flag", source=_PILOT)
    unsecured_when_collateral_unknown: tuple[str, ...] = param(
        ("credit_card",), "Products counted as unsecured when the collateral column is empty.", unit="product codes"
    )
    only_chosen_transfer: bool = param(
        False,
        "Package only loans whose chosen action is transfer; otherwise every eligible loan whose sale beats holding.",
        unit="flag",
        policy=True,
    )
    candidate_categories: tuple[Literal["A", "B", "C"], ...] = param(
        ("C",),
        "Categories whose eligible loans are packaged and priced even when a loan's sale alone is below its hold value: the "
        "quick-exit category, so that the bank sees the market price of what it may sell, and decides per package.",
        unit="categories",
        policy=True,
    )
    min_debtors: int = param(
        10,
        "Minimum distinct debtors per package. No minimum is confirmed for the personal pilot (10, later 3, is the corporate "
        "batch-transfer definition).",
        unit="debtors",
        ge=1,
    )
    min_package_principal_cny: float = param(
        5_000_000.0, "Smallest package bidders take, by principal outstanding.", unit="CNY", ge=0
    )
    max_package_principal_cny: float = param(
        500_000_000.0, "Largest package, by principal outstanding; larger cells are split.", unit="CNY", gt=0
    )
    homogeneity: tuple[Literal["region", "dpd_band", "balance_band", "litigation_status", "product"], ...] = param(
        ("product", "region", "dpd_band", "balance_band", "litigation_status"),
        "Columns a package should be homogeneous in, most important first; the last ones are dropped first when a cell is too small.",
        unit="column names",
        policy=True,
    )
    balance_band_edges_cny: tuple[float, ...] = param(
        (10_000.0, 50_000.0, 200_000.0), "Principal-outstanding edges of the balance bands.", unit="CNY"
    )
    dpd_band_edges: tuple[int, ...] = param(
        (365, 730, 1095),
        "Days-past-due edges of the DPD bands of packages.",
        unit="days",
        source="reported bulk-transfer market figures for personal NPLs, 2025 Q1",
    )

    @model_validator(mode="after")
    def _check(self) -> PackagingSettings:
        unknown = sorted(set(self.eligible_products) - set(CODES["product"]))
        if unknown:
            raise ValueError(f"packaging.eligible_products has unknown product codes {unknown}; use {list(CODES['product'])}.")
        if self.max_package_principal_cny <= self.min_package_principal_cny:
            raise ValueError("packaging.max_package_principal_cny must exceed min_package_principal_cny.")
        for name in ("balance_band_edges_cny", "dpd_band_edges"):
            edges = getattr(self, name)
            if not edges or list(edges) != sorted(set(edges)):
                raise ValueError(f"packaging.{name} must be strictly increasing and not empty, got {edges}.")
        return self


class DisclosureSettings(BaseModel):
    """Announcement summary and de-identified loan table (:mod:`sanhua.value.disclosure`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k_anonymity: int = param(
        5, "Every combination of quasi-identifiers in a loan table covers at least k distinct debtors.", unit="debtors", ge=2, le=1000, policy=True
    )
    quasi_identifiers: tuple[Literal["region", "age", "principal_outstanding", "dpd", "product", "origination_date"], ...] = param(
        ("region", "age", "principal_outstanding", "dpd", "origination_date"),
        "Columns generalised until the k-anonymity holds; the origination date starts at its quarter, never the exact day.",
        unit="column names",
        policy=True,
    )
    max_suppressed_share: float = param(
        0.05, "Largest share of a package's rows that may be suppressed when the most general levels still violate k.", unit="fraction of rows", ge=0, le=1, policy=True
    )


class ValuationSettings(BaseModel):
    """Every setting of the valuation stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    curves: CurveModelSettings = CurveModelSettings()
    pricing: PricingSettings = PricingSettings()
    monte_carlo: MonteCarloSettings = MonteCarloSettings()
    packaging: PackagingSettings = PackagingSettings()
    disclosure: DisclosureSettings = DisclosureSettings()

    def assumptions(self) -> list[dict[str, object]]:
        """Return every parameter with its value, unit, source and tag (for run.json)."""
        return assumption_rows(self, prefix="valuation.")
