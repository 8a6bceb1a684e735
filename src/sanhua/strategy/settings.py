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
    "CapacitySettings",
    "PolicySettings",
    "HardshipSettings",
    "StrategySettings",
    "OptimiserSettings",
    "SOLVERS",
    "RESOURCES",
    "RESOURCE_UNITS",
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
    officer_hours: float = param(
        0.0, "Case-officer hours the action takes per loan (capacity resource `officers`).", unit="hours per loan", ge=0, le=1000
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
    """Restructuring: a new schedule (term extension, rate relief, principal deferral, trial period).

    The new schedule is built per loan by :func:`sanhua.strategy.restructure.restructure_terms`:
    the financed balance ``principal + (1 - interest_waiver) * interest + fee``
    is paid at the relieved annual rate over ``trial_months`` reduced
    instalments and then ``spread_months`` (``short_plan_months`` for willing
    and able debtors flagged ``short_plan``) level instalments, with
    ``principal_deferral`` of the principal paid as a balloon at the end. The
    term is extended up to ``max_term_months`` when the instalment would exceed
    ``max_instalment_to_income`` of a known monthly income; a loan whose
    instalment stays unaffordable is not offered a restructuring.

    ``p_success = willingness * ((1 - p_redefault) + p_redefault * paid_before_redefault)``
    with ``p_redefault = 1 - ability_after_relief`` and
    ``ability_after_relief = ability + relief_ability_gain * (1 - ability)``.
    """

    delay_months: float = param(1.0, "Months from the decision to the first instalment of the new schedule.", unit="months", ge=0, le=240)
    spread_months: int = param(36, "Level instalments after the trial period (the extended term).", unit="months", ge=1, le=480)
    short_plan_months: int = param(12, "Level instalments of the short plan for willing and able debtors.", unit="months", ge=1, le=480)
    max_term_months: int = param(
        60, "Longest term (trial plus level instalments) the affordability check may extend to.", unit="months", ge=1, le=480
    )
    relief_ability_gain: float = param(
        0.5, "Share of the gap to full ability that the new terms close (lower instalments).", unit="fraction", ge=0, le=1
    )
    interest_waiver: float = param(0.5, "Share of outstanding interest waived under the new terms.", unit="fraction of interest", ge=0, le=1)
    rate_relief: float = param(
        0.5, "Share of the contract interest rate waived on the new schedule (step-rate or interest relief).", unit="fraction of the contract rate", ge=0, le=1
    )
    default_contract_rate: float = param(
        0.0,
        "Contract annual rate used when a loan has no `interest_rate`: 0 charges no interest on the new schedule (the conservative case).",
        unit="annual fraction",
        ge=0,
        le=1,
    )
    principal_deferral: float = param(
        0.0, "Share of the principal deferred to a balloon paid with the last instalment.", unit="fraction of principal", ge=0, le=1
    )
    trial_months: int = param(3, "Months of the trial period, which runs before the level instalments.", unit="months", ge=0, le=24)
    trial_payment_share: float = param(
        0.5, "Trial instalment as a share of the level instalment of the whole financed balance.", unit="fraction of instalment", ge=0, le=1
    )
    restructure_fee_rate: float = param(
        0.0,
        "Fee on the financed balance, added to the debt and disclosed in the schedule and its annual rate (0: no fee).",
        unit="fraction of balance",
        policy=True,
        ge=0,
        le=0.1,
    )
    max_instalment_to_income: float = param(
        0.5,
        "Largest new instalment as a share of monthly income when the income is known (a common debt-service cap in retail lending).",
        unit="fraction of monthly income",
        ge=0.01,
        le=1,
    )
    paid_before_redefault: float = param(
        0.25, "Share of the scheduled cash paid before a re-default (re-defaults come early in the schedule).", unit="fraction of scheduled cash", ge=0, le=1
    )
    observation_min_periods: int = param(
        2,
        "The observation period covers at least this many consecutive repayment periods.",
        unit="repayment periods",
        source="2023 risk-classification rules for financial assets (restructured loans)",
        ge=1,
        le=24,
    )
    observation_min_months: int = param(
        12,
        "The observation period lasts at least this many months, counted from the first repayment date after the change.",
        unit="months",
        source="2023 risk-classification rules for financial assets (restructured loans)",
        ge=1,
        le=60,
    )
    fixed_cost_cny: float = param(300.0, "Negotiation, contract and approval cost per restructured loan.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.02, "Servicing cost of the new schedule.", unit="fraction of cash collected", ge=0, le=1)
    officer_hours: float = param(6.0, "Case-officer hours to assess, negotiate and approve a restructuring.", unit="hours per loan", ge=0, le=1000)


class SettleSettings(ScheduledActionSettings):
    """Settlement: a discounted lump-sum payoff, with an acceptance model of the offered share.

    Acceptance of an offer of share ``s`` of principal plus interest::

        p(s) = min(1, base * ((1 - s) / (1 - settlement_share)) ** acceptance_elasticity)
        base = willingness * (ability_floor + (1 - ability_floor) * ability)

    so ``p(settlement_share) = base``. With ``optimise_share`` the offer per
    loan is the share of ``offer_shares`` that maximises
    ``s * p(s)``; otherwise it is ``settlement_share``. Amount
    ``= s * (principal_outstanding + interest_outstanding)``.
    With elasticity 1 the uncapped optimum is ``s = 0.5``, the LendingClub median.
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
    acceptance_elasticity: float = param(
        1.0,
        "Elasticity of acceptance to the share the debtor keeps (1 - s): LendingClub shows only accepted settlements, "
        "so the slope cannot be calibrated from it.",
        unit="ratio",
        ge=0,
        le=10,
    )
    optimise_share: bool = param(True, "Choose the offered share per loan from offer_shares (else offer settlement_share).", unit="flag", policy=True)
    offer_shares: tuple[float, ...] = param(
        (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8), "Shares of principal plus interest the bank may offer.", unit="fraction of principal + interest", policy=True
    )
    fixed_cost_cny: float = param(200.0, "Offer, negotiation and agreement cost per loan.", unit="CNY per loan", ge=0)
    officer_hours: float = param(3.0, "Case-officer hours to make, negotiate and close an offer.", unit="hours per loan", ge=0, le=1000)

    @model_validator(mode="after")
    def _check_shares(self) -> SettleSettings:
        bad = [share for share in self.offer_shares if not 0 < share <= 1]
        if not self.offer_shares or bad:
            raise ValueError(f"settle.offer_shares must be a non-empty list of shares in (0, 1], got {list(self.offer_shares)}.")
        if self.settlement_share >= 1:
            raise ValueError("settle.settlement_share must be below 1: the acceptance model divides by 1 - settlement_share.")
        return self


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
    max_recovery_multiple: float = param(
        1.3,
        "Ceiling on the expected gross recovery of a mediation, as a multiple of the assessment's expected recovery of the "
        "loan: a court-confirmed agreement raises what an engaged debtor pays, within what the debtor can pay.",
        unit="multiple of expected recovery",
        ge=0,
        le=100,
    )
    fixed_cost_cny: float = param(500.0, "Mediation centre fee and court confirmation per loan.", unit="CNY per loan", ge=0)
    officer_hours: float = param(2.0, "Case-officer hours to prepare the referral and follow the agreement.", unit="hours per loan", ge=0, le=1000)
    slots_per_case: float = param(1.0, "Mediation-centre slots one referral takes (capacity resource `mediation`).", unit="slots per loan", ge=0, le=100)


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
    officer_hours: float = param(0.5, "Case-officer hours to hand a case over and audit the agency.", unit="hours per loan", ge=0, le=1000)
    commission_by_dpd: dict[str, float] = param(
        {},
        "Commission tiers by days past due, as {'<lowest dpd of the tier>': rate}, for example {'0': 0.15, '365': 0.25, '1095': 0.35}; "
        "empty uses collection_cost_rate. Written-off loans always pay written_off_cost_rate.",
        unit="fraction of cash collected",
        policy=True,
    )
    written_off_cost_rate: float = param(
        0.50,
        "Commission on cash collected for written-off debt: reported above 50%.",
        unit="fraction of cash collected",
        source="reported outsourced-collection commission rates for written-off debt (above 50%)",
        ge=0,
        le=1,
    )

    @model_validator(mode="after")
    def _check_tiers(self) -> OutsourceSettings:
        for key, rate in self.commission_by_dpd.items():
            if not key.isdigit():
                raise ValueError(f"outsource.commission_by_dpd keys are the lowest dpd of each tier as whole days, got {key!r}.")
            if not 0 <= rate <= 1:
                raise ValueError(f"outsource.commission_by_dpd[{key!r}] must lie in [0, 1], got {rate}.")
        return self


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
    max_recovery_multiple: float = param(
        1.5,
        "Ceiling on the expected gross recovery of a suit, as a multiple of the assessment's expected recovery of the loan: a "
        "judgement adds enforcement against assets and wages, but cannot collect what the debtor does not have. The ability "
        "score is the probability of paying a share of the balance, not all of it, so without the ceiling ability x claim "
        "overstates what enforcement brings.",
        unit="multiple of expected recovery",
        ge=0,
        le=100,
    )
    summary_procedure: bool = param(
        True, "Batch suits of small retail claims are heard under the summary procedure (fee halved, art. 16).", unit="flag"
    )
    stack_fee_reductions: bool = param(
        False, "Halve the court fee twice when both the summary procedure and mediation apply.", unit="flag"
    )
    fixed_cost_cny: float = param(800.0, "Filing, service, preservation and notary costs per case.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.08, "Lawyer's contingent fee.", unit="fraction of cash collected", ge=0, le=1)
    officer_hours: float = param(4.0, "Case-officer hours to prepare evidence and follow a batch suit.", unit="hours per loan", ge=0, le=1000)

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
    officer_hours: float = param(0.25, "Case-officer hours to prepare the loan file for due diligence.", unit="hours per loan", ge=0, le=1000)


class HoldSettings(ActionSettings):
    """Keep the loan in in-house collection.

    ``p_success = 1`` on ``expected_recovery_rate * EAD``, timed by the
    recovery curve from the loan's months since default. The expected
    recovery already reflects the in-house process, so no other factor
    applies.
    """

    fixed_cost_cny: float = param(100.0, "In-house handling cost per loan over the collection life.", unit="CNY per loan", ge=0)
    collection_cost_rate: float = param(0.08, "In-house collection cost (staff, calls, letters).", unit="fraction of cash collected", ge=0, le=1)
    officer_hours: float = param(
        0.0,
        "Must be 0: hold is the automated baseline (letters, SMS, AI voice) and the fallback of the optimiser, "
        "so it uses no constrained capacity.",
        unit="hours per loan",
        policy=True,
        ge=0,
        le=0,
    )


RESOURCES: tuple[str, ...] = ("officers", "mediation", "litigation", "transfer", "outsourcing")
"""Capacity resources of the optimiser, in the order of its arrays."""

RESOURCE_UNITS: dict[str, str] = {
    "officers": "case officers (full-time)",
    "mediation": "mediation slots a month",
    "litigation": "CNY of court fees and case costs a month",
    "transfer": "CNY of EAD transferred a month",
    "outsourcing": "CNY of EAD placed with agencies a month",
}
"""Unit of each resource's monthly capacity."""


class CapacitySettings(BaseModel):
    """Monthly capacities of the five resources and the plan's horizon.

    The plan assigns one action to every loan; the actions start during the
    next ``horizon_months``, so resource ``r`` may use at most
    ``monthly capacity * horizon_months`` (``officers`` times
    ``officer_hours_per_month`` for hours). A capacity of ``None`` is
    unlimited. Per-loan use: officer hours of each action's
    ``officer_hours``; one mediation referral takes ``mediate.slots_per_case``
    slots; litigation uses its fixed cost and the court fee in CNY;
    transfer and outsourcing use the loan's EAD in CNY.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    officers: float | None = param(50.0, "Case officers working the plan (full-time equivalents).", unit="officers", ge=0)
    officer_hours_per_month: float = param(
        160.0, "Productive case-work hours of one officer a month (about 21 working days, 7.5 hours each).", unit="hours per month", gt=0, le=744
    )
    mediation: float | None = param(200.0, "Referrals the mediation centres accept a month.", unit="slots per month", ge=0)
    litigation: float | None = param(500_000.0, "Budget for court fees and case costs a month.", unit="CNY per month", ge=0)
    transfer: float | None = param(
        50_000_000.0, "EAD the bank may sell in bulk-transfer packages a month.", unit="CNY of EAD per month", ge=0
    )
    outsourcing: float | None = param(
        30_000_000.0, "EAD the contracted agencies accept a month.", unit="CNY of EAD per month", ge=0
    )
    horizon_months: int = param(12, "Months over which the planned actions start; capacities count over this horizon.", unit="months", ge=1, le=120)

    def monthly(self) -> dict[str, float]:
        """Return the monthly capacity of each resource in its unit (``inf`` when unlimited)."""
        return {name: float("inf") if getattr(self, name) is None else float(getattr(self, name)) for name in RESOURCES}

    def totals(self) -> dict[str, float]:
        """Return the capacity of each resource over the horizon, in the unit of the per-loan use (hours for officers)."""
        monthly = self.monthly()
        totals = {name: value * self.horizon_months for name, value in monthly.items()}
        totals["officers"] *= self.officer_hours_per_month
        return totals

    def with_capacities(self, capacities: dict[str, float]) -> CapacitySettings:
        """Return a copy with some monthly capacities replaced.

        Raises
        ------
        ConfigError
            A name is not a resource, or a value is negative or not a number.
        """
        from sanhua.errors import ConfigError

        unknown = sorted(set(capacities) - set(RESOURCES))
        if unknown:
            raise ConfigError(f"unknown capacity resource(s) {unknown}: use one of {list(RESOURCES)}.")
        for name, value in capacities.items():
            if not isinstance(value, int | float) or value != value or value < 0:
                raise ConfigError(f"capacity {name}={value!r} is invalid: give a number >= 0 in {RESOURCE_UNITS[name]}.")
        return self.model_copy(update={name: float(value) for name, value in capacities.items()})


class PolicySettings(BaseModel):
    """Which actions the bank allows for which debtors, whatever they are worth.

    Rules (every solution of the optimiser respects them; they enter the
    value table as infeasible actions):

    - an action is allowed for a category only when listed in ``category_actions``;
    - a debtor in hardship is not litigated until relief has been offered
      (``relief_offered`` true on the loan) when ``hardship_relief_first``;
    - a vulnerable debtor never gets an action of ``vulnerable_forbidden_actions``.
      A debtor is vulnerable when the loan's ``vulnerable`` flag is true, its
      ``vulnerability`` text is filled and not one of ``not_vulnerable_values``,
      its ``hardship_event`` is one of ``vulnerable_hardship_events``, or its
      ``age`` is at least ``vulnerable_age``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    category_actions: dict[str, tuple[str, ...]] = param(
        {
            "A": ("restructure", "settle", "litigate", "transfer", "hold"),
            "B": ("settle", "mediate", "outsource", "litigate", "transfer", "hold"),
            "C": ("outsource", "litigate", "transfer", "hold"),
        },
        "Actions allowed per category: A repair, B transform, C quick exit (hold is always allowed).",
        unit="action codes",
        policy=True,
    )
    hardship_relief_first: bool = param(
        True, "A debtor in hardship is offered relief before any litigation.", unit="flag", policy=True
    )
    vulnerable_forbidden_actions: tuple[str, ...] = param(
        ("litigate",), "Actions never taken against a vulnerable debtor.", unit="action codes", policy=True
    )
    vulnerable_age: int | None = param(
        70, "Age from which a debtor counts as vulnerable (None: age is not used).", unit="years", policy=True, ge=16, le=120
    )
    not_vulnerable_values: tuple[str, ...] = param(
        ("", "none", "no", "无", "否"), "Values of the `vulnerability` text that mean not vulnerable.", unit="text values", policy=True
    )
    vulnerable_hardship_events: tuple[str, ...] = param(
        ("serious_illness", "disability"), "Hardship events that also make the debtor vulnerable.", unit="event codes", policy=True
    )

    @model_validator(mode="after")
    def _check_actions(self) -> PolicySettings:
        missing = {"A", "B", "C"} - set(self.category_actions)
        if missing:
            raise ValueError(f"policy.category_actions lacks categories {sorted(missing)}.")
        for category, actions in self.category_actions.items():
            unknown = set(actions) - set(ACTIONS)
            if unknown:
                raise ValueError(f"policy.category_actions[{category!r}] has unknown actions {sorted(unknown)}; use {list(ACTIONS)}.")
        unknown = set(self.vulnerable_forbidden_actions) - set(ACTIONS)
        if unknown:
            raise ValueError(f"policy.vulnerable_forbidden_actions has unknown actions {sorted(unknown)}; use {list(ACTIONS)}.")
        if "hold" in self.vulnerable_forbidden_actions:
            raise ValueError("policy.vulnerable_forbidden_actions may not contain hold: hold is the fallback of every loan.")
        return self


class HardshipSettings(BaseModel):
    """Rules that detect hardship and the relief each one triggers (see :mod:`sanhua.strategy.hardship`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    income_collapse_share: float = param(
        0.5,
        "Income fall, as a share of the previous income, that counts as an income collapse (from `income_previous` and `income_annual`).",
        unit="fraction of income",
        ge=0.05,
        le=1,
    )
    social_insurance_lapse_is_job_loss: bool = param(
        True, "A lapsed or stopped social-insurance status counts as a job loss.", unit="flag", policy=True
    )
    consumption_collapse_index: float = param(
        20.0, "Consumption index (0-100) at or below which spending counts as collapsed.", unit="index points", ge=0, le=100
    )
    relief_interest_waiver: dict[str, float] = param(
        {"illness": 1.0, "serious_illness": 1.0, "disability": 1.0, "job_loss": 0.5, "accident": 1.0, "business_failure": 0.5, "income_collapse": 0.5},
        "Share of outstanding interest waived by the relief offer, by hardship kind.",
        unit="fraction of interest",
        policy=True,
    )
    relief_deferral_months: dict[str, int] = param(
        {"illness": 6, "serious_illness": 12, "disability": 12, "job_loss": 6, "accident": 6, "business_failure": 3, "income_collapse": 3},
        "Months of payment holiday before the new schedule starts, by hardship kind.",
        unit="months",
        policy=True,
    )
    relief_term_months: dict[str, int] = param(
        {"illness": 48, "serious_illness": 60, "disability": 60, "job_loss": 36, "accident": 48, "business_failure": 36, "income_collapse": 36},
        "Term of the relief schedule, by hardship kind.",
        unit="months",
        policy=True,
    )
    bank_name_zh: str = param("本行", "Name of the bank in the zh-CN debtor notice.", unit="text", policy=True)
    bank_name_en: str = param("The bank", "Name of the bank in the English debtor notice.", unit="text", policy=True)
    hotline: str = param("95xxx", "Service hotline printed in the debtor notice.", unit="text", policy=True)


SOLVERS: tuple[str, ...] = ("auto", "highs", "highs-lp", "lagrangian", "greedy")
"""Solver names accepted by :class:`OptimiserSettings`."""


class OptimiserSettings(BaseModel):
    """Settings of :class:`PortfolioOptimiser`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    solver: Literal["auto", "highs", "highs-lp", "lagrangian", "greedy"] = param(
        "auto", "Solver: auto uses the HiGHS MIP up to highs_max_loans loans and the Lagrangian solver above.", unit="name", policy=True
    )
    highs_max_loans: int = param(
        2_000, "Largest portfolio that auto hands to the HiGHS MIP (its branch and bound slows down fast with size).", unit="loans", policy=True, ge=0
    )
    mip_rel_gap: float = param(1e-4, "Relative MIP gap at which HiGHS stops.", unit="fraction", policy=True, gt=0, le=0.1)
    time_limit_s: float = param(60.0, "Time limit of one HiGHS solve; the best plan found by then is repaired and returned.", unit="seconds", policy=True, gt=0)
    tolerance: float = param(
        5e-5, "Relative gap to the dual bound at which the Lagrangian solver stops.", unit="fraction", policy=True, gt=0, le=0.1
    )
    max_iterations: int = param(80, "Cutting-plane iterations of the Lagrangian solver on the full portfolio.", unit="iterations", policy=True, ge=1, le=10_000)
    seed: int = param(20261204, "Seed of the warm-start subsamples.", unit="seed", policy=True)


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
    capacity: CapacitySettings = CapacitySettings()
    policy: PolicySettings = PolicySettings()
    hardship: HardshipSettings = HardshipSettings()
    optimiser: OptimiserSettings = OptimiserSettings()

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
