"""Settings of the action catalogue: one model per action, one model for the whole strategy stage.

Every number carries its unit and either a published source or the tag
``ASSUMPTION`` (see :mod:`sanhua.value.params`); ``StrategySettings.assumptions()``
lists them for ``run.json``. Fixed costs are CNY and are converted into a
loan's currency with ``fx_cny_per_unit``. Timing parameters are months from
the decision date.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from sanhua.tape.schema import CODES
from sanhua.value.params import assumption_rows, param

__all__ = [
    "ACTIONS",
    "ActionSettings",
    "ScheduledActionSettings",
    "RestructureSettings",
    "SettleSettings",
    "MediateSettings",
    "OutsourceSettings",
    "LitigateSettings",
    "TransferSettings",
    "HoldSettings",
    "StrategySettings",
]

ACTIONS: tuple[str, ...] = ("restructure", "settle", "mediate", "outsource", "litigate", "transfer", "hold")
"""The action catalogue, in the order used to break ties between equal values."""

_PILOT = "bulk-transfer pilot for personal NPLs (credit-asset registration and transfer centre, 2021; extended to 2026-12-31)"
_MARKET_2025Q1 = "reported bulk-transfer market figures for personal NPLs, 2025 Q1"
_COURT_FEES = "诉讼费用交纳办法 (State Council Decree No. 481, 2007)"


class ActionSettings(BaseModel):
    """Parameters every action has: whether it is offered and its costs.

    ``cost = fixed_cost_cny (converted to the loan's currency) +
    collection_cost_rate * expected cash collected (PV)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = param(True, "Offer this action at all (hold is always offered).", unit="flag", policy=True)
    fixed_cost_cny: float = param(0.0, "Cost per loan paid at the decision (handling, fees).", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(
        0.0, "Share of the cash collected that is paid out (commission, servicing, lawyer's fee).", unit="fraction of cash collected", ge=0, le=1
    )


class ScheduledActionSettings(ActionSettings):
    """An action whose cash follows its own schedule rather than the recovery curve.

    Cash arrives in ``spread_months`` equal monthly parts, the first
    ``delay_months`` after the decision; the discount factor is the mean of
    ``v ** (delay_months + j)`` for ``j = 0 .. spread_months - 1`` with
    ``v = 1 / (1 + discount_rate / 12)``.
    """

    delay_months: float = param(1.0, "Months from the decision until the first cash.", unit="months", ge=0, le=240)
    spread_months: int = param(1, "Number of equal monthly payments (1 = a lump sum).", unit="months", ge=1, le=480)


class RestructureSettings(ScheduledActionSettings):
    """Restructuring: new terms (term extension, interest relief) for a willing debtor.

    ``p_success = willingness * ability_after_relief`` with
    ``ability_after_relief = ability + relief_ability_gain * (1 - ability)``;
    amount ``= principal_outstanding + (1 - interest_waiver) * interest_outstanding``,
    paid over ``spread_months`` (``short_plan_months`` for willing and able
    debtors flagged ``short_plan``).
    """

    delay_months: float = param(1.0, "Months from the decision to the first instalment of the new schedule.", unit="months", ge=0, le=240)
    spread_months: int = param(36, "Term of the restructured schedule.", unit="months", ge=1, le=480)
    short_plan_months: int = param(12, "Term of the short plan for willing and able debtors.", unit="months", ge=1, le=480)
    relief_ability_gain: float = param(
        0.5, "Share of the gap to full ability that the new terms close (lower instalments).", unit="fraction", ge=0, le=1
    )
    interest_waiver: float = param(0.5, "Share of outstanding interest waived under the new terms.", unit="fraction of interest", ge=0, le=1)
    fixed_cost_cny: float = param(300.0, "Negotiation, contract and approval cost per restructured loan.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.02, "Servicing cost of the new schedule.", unit="fraction of cash collected", ge=0, le=1)


class SettleSettings(ScheduledActionSettings):
    """Settlement: a discounted lump-sum payoff.

    ``p_success = willingness * (ability_floor + (1 - ability_floor) * ability)``;
    amount ``= settlement_share * (principal_outstanding + interest_outstanding)``.
    """

    delay_months: float = param(2.0, "Months from the offer to the payment.", unit="months", ge=0, le=240)
    settlement_share: float = param(
        0.5,
        "Share of principal plus interest paid under a settlement: LendingClub settlements had a median of 50% of the balance.",
        unit="fraction of principal + interest",
        source="LendingClub loan book 2007-2010, settlement_percentage of settled charged-off loans",
        ge=0,
        le=1,
    )
    ability_floor: float = param(
        0.5, "Success probability factor of a willing debtor with ability 0 (a discounted lump sum is within reach of many).", unit="fraction", ge=0, le=1
    )
    fixed_cost_cny: float = param(200.0, "Offer, negotiation and agreement cost per loan.", unit="CNY per loan", ge=0)


class MediateSettings(ScheduledActionSettings):
    """Mediation by a financial mediation centre, usually confirmed by a court.

    ``p_success = willingness_after * (ability_floor + (1 - ability_floor) * ability)``
    with ``willingness_after = willingness + willingness_uplift * (1 - willingness)``;
    amount ``= agreed_share * (principal_outstanding + interest_outstanding)``.
    """

    delay_months: float = param(3.0, "Months from referral to the first payment under the agreement.", unit="months", ge=0, le=240)
    spread_months: int = param(12, "Months over which the mediated agreement is paid.", unit="months", ge=1, le=480)
    willingness_uplift: float = param(
        0.3, "Share of the gap to full willingness that a mediator closes.", unit="fraction", ge=0, le=1
    )
    ability_floor: float = param(0.4, "Success probability factor of a debtor with ability 0.", unit="fraction", ge=0, le=1)
    agreed_share: float = param(
        0.7, "Share of principal plus interest agreed in mediation (penalties and part of the interest waived).", unit="fraction of principal + interest", ge=0, le=1
    )
    fixed_cost_cny: float = param(500.0, "Mediation centre fee and court confirmation per loan.", unit="CNY per loan", ge=0)


class OutsourceSettings(ActionSettings):
    """Outsourced collection: an agency collects for a commission.

    ``p_success = 1`` on the expected amount
    ``min(claim, recovery_uplift * expected_recovery_rate * EAD)``, timed by
    the recovery curve after a handover delay of ``delay_months``.
    """

    delay_months: float = param(1.0, "Months to hand the case over to an agency.", unit="months", ge=0, le=240)
    recovery_uplift: float = param(
        1.15, "Agency recovery relative to the in-house expected recovery (more visits, more staff per case).", unit="ratio", ge=0, le=5
    )
    collection_cost_rate: float = param(
        0.25,
        "Commission on cash collected for debt still on the balance sheet: typically 15-30%, mid-upper point.",
        unit="fraction of cash collected",
        source="reported outsourced-collection commission rates of Chinese banks (typically 15-30%; tenders quote 5-37%)",
        ge=0,
        le=1,
    )
    written_off_cost_rate: float = param(
        0.50,
        "Commission on cash collected for written-off debt: reported above 50%.",
        unit="fraction of cash collected",
        source="reported outsourced-collection commission rates for written-off debt (above 50%)",
        ge=0,
        le=1,
    )


class LitigateSettings(ActionSettings):
    """Litigation and enforcement (batch suits, or enforcement of a notarised instrument).

    ``p_success = ability_eff * status_factor[litigation_status]`` with
    ``ability_eff = ability + collateral_gain[collateral] * (1 - ability)``;
    amount ``= claim_share * (principal_outstanding + interest_outstanding)``.
    Costs: the court acceptance fee on the claim when the case is not yet
    filed and the contract is not notarised (fees of cases already filed are
    sunk), the fixed cost and the lawyer's share of cash collected.
    """

    delay_by_status: dict[str, float] = param(
        {"not_sued": 15.0, "in_suit": 9.0, "judged": 6.0, "in_execution": 4.0, "mediated": 4.0},
        "Months until enforcement cash starts, by litigation status; 15 for a new suit is the mid-point of the "
        "12-18 months reported for complex cases, shorter stages are assumed.",
        unit="months",
    )
    notarised_delay_months: float = param(
        6.0, "Months until enforcement cash starts for a notarised enforceable instrument, which skips the trial.", unit="months", ge=0, le=240
    )
    spread_months: int = param(6, "Months over which enforcement cash arrives.", unit="months", ge=1, le=480)
    status_factor: dict[str, float] = param(
        {"not_sued": 1.0, "in_suit": 1.0, "judged": 0.9, "in_execution": 0.8, "mediated": 0.9},
        "Collectability by litigation status: later stages have already absorbed the easy cases. "
        "execution_ended_no_assets is infeasible.",
        unit="fraction",
    )
    collateral_gain: dict[str, float] = param(
        {"none": 0.0, "guarantee": 0.3, "pledge": 0.5, "mortgage": 0.6},
        "Share of the gap to full ability that collateral or a guarantor closes in enforcement; unknown collateral counts as none.",
        unit="fraction",
    )
    claim_share: float = param(
        0.8, "Share of principal plus interest collected when enforcement succeeds.", unit="fraction of principal + interest", ge=0, le=1
    )
    summary_procedure: bool = param(
        True, "Batch suits of small retail claims are heard under the summary procedure (fee halved, art. 16).", unit="flag"
    )
    stack_fee_reductions: bool = param(
        False, "Halve the court fee twice when both the summary procedure and mediation apply.", unit="flag"
    )
    fixed_cost_cny: float = param(800.0, "Filing, service, preservation and notary costs per case.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.08, "Lawyer's contingent fee.", unit="fraction of cash collected", ge=0, le=1)

    @model_validator(mode="after")
    def _check_maps(self) -> LitigateSettings:
        statuses = set(CODES["litigation_status"]) - {"execution_ended_no_assets"}
        for name in ("delay_by_status", "status_factor"):
            mapping = getattr(self, name)
            missing = statuses - set(mapping)
            if missing:
                raise ValueError(f"litigate.{name} lacks litigation statuses {sorted(missing)}.")
        if any(not 0 <= value <= 1 for value in self.status_factor.values()):
            raise ValueError(f"litigate.status_factor values must lie in [0, 1], got {self.status_factor}.")
        missing_collateral = set(CODES["collateral"]) - set(self.collateral_gain)
        if missing_collateral:
            raise ValueError(f"litigate.collateral_gain lacks collateral codes {sorted(missing_collateral)}.")
        if any(not 0 <= value <= 1 for value in self.collateral_gain.values()):
            raise ValueError(f"litigate.collateral_gain values must lie in [0, 1], got {self.collateral_gain}.")
        return self


class TransferSettings(ScheduledActionSettings):
    """Bulk transfer of eligible unsecured loans to an asset-management company.

    Price ``= principal_recovery * principal_outstanding`` with
    ``principal_recovery = product_rate[product] * band_rate[dpd band] / market_principal_recovery``:
    the product and past-due effects are assumed to multiply (ASSUMPTION:
    the market reports them only separately). ``p_success = 1``; the implied
    ``price_ratio`` (price / (principal + interest)) is reported.
    """

    eligible_products: tuple[str, ...] = param(
        ("credit_card", "consumer_loan", "business_loan"),
        "Products eligible in the pilot: unsecured personal consumer loans, credit-card overdrafts and unsecured personal business loans.",
        unit="product codes",
        source=_PILOT,
    )
    unsecured_when_collateral_unknown: tuple[str, ...] = param(
        ("credit_card",), "Products counted as unsecured when the collateral column is empty.", unit="product codes"
    )
    product_principal_recovery: dict[str, float] = param(
        {"business_loan": 0.093, "consumer_loan": 0.065, "credit_card": 0.058},
        "Price / principal by product.",
        unit="fraction of principal",
        source=_MARKET_2025Q1,
    )
    market_principal_recovery: float = param(
        0.069, "Price / principal over the whole market.", unit="fraction of principal", source=_MARKET_2025Q1, gt=0, le=1
    )
    band_under_1y: float = param(
        0.131, "Price / principal for loans under one year past due.", unit="fraction of principal", source=_MARKET_2025Q1, ge=0, le=1
    )
    band_1y_to_2y: float = param(
        0.087,
        "Price / principal for loans one to two years past due: geometric mean of the under-one-year and two-to-three-year figures.",
        unit="fraction of principal",
        ge=0,
        le=1,
    )
    band_2y_to_3y: float = param(
        0.058, "Price / principal for loans two to three years past due.", unit="fraction of principal", source=_MARKET_2025Q1, ge=0, le=1
    )
    band_over_3y: float = param(
        0.040, "Price / principal for loans more than three years past due (extrapolated).", unit="fraction of principal", ge=0, le=1
    )
    delay_months: float = param(4.0, "Months to package, announce, bid and settle a transfer.", unit="months", ge=0, le=240)
    fixed_cost_cny: float = param(20.0, "Data preparation and due-diligence support per loan.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.01, "Platform, legal and advisory fees on the price.", unit="fraction of price", ge=0, le=1)


class HoldSettings(ActionSettings):
    """Keep the loan in in-house collection.

    ``p_success = 1`` on ``expected_recovery_rate * EAD``, timed by the
    recovery curve from the loan's months since default. The expected
    recovery already reflects the in-house process, so no other factor
    applies.
    """

    fixed_cost_cny: float = param(100.0, "In-house handling cost per loan over the collection life.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.08, "In-house collection cost (staff, calls, letters).", unit="fraction of cash collected", ge=0, le=1)


class StrategySettings(BaseModel):
    """Settings of the strategy stage: discounting, currency conversion and one model per action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    discount_rate: float = param(
        0.08, "Annual discount rate for expected cash, compounded monthly (hurdle rate of NPL disposal).", unit="annual fraction", ge=0, le=1
    )
    default_months_since_default: float = param(
        12.0, "Months since default for loans with neither dpd nor default and as-of dates.", unit="months", ge=0, le=600
    )
    fx_cny_per_unit: dict[str, float] = param(
        {"CNY": 1.0, "USD": 7.1},
        "CNY per unit of each tape currency, to apply CNY fees and costs to loans in other currencies (USD about 2024-2025 level).",
        unit="CNY per currency unit",
    )
    restructure: RestructureSettings = RestructureSettings()
    settle: SettleSettings = SettleSettings()
    mediate: MediateSettings = MediateSettings()
    outsource: OutsourceSettings = OutsourceSettings()
    litigate: LitigateSettings = LitigateSettings()
    transfer: TransferSettings = TransferSettings()
    hold: HoldSettings = HoldSettings()

    @model_validator(mode="after")
    def _check_fx(self) -> StrategySettings:
        bad = {code: rate for code, rate in self.fx_cny_per_unit.items() if not rate > 0}
        if bad:
            raise ValueError(f"fx_cny_per_unit rates must be > 0, got {bad}.")
        return self

    def action(self, name: Literal["restructure", "settle", "mediate", "outsource", "litigate", "transfer", "hold"]) -> ActionSettings:
        """Return the settings of the action called ``name``."""
        return getattr(self, name)

    def assumptions(self) -> list[dict[str, object]]:
        """Return every parameter with its value, unit, source and tag (for run.json)."""
        return assumption_rows(self, prefix="strategy.")
