"""The deal definition: one validated container for an ABS structure.

A :class:`Deal` is read from a TOML deal file (:func:`load_deal`) or built in
Python from the same sections (``Deal.model_validate({...})`` or the section
models directly). Every section is a pydantic model that rejects unknown keys.

Units and dates
---------------
- Amounts are in the deal's currency (CNY unless ``currency`` names another),
  in units, not thousands or millions.
- Rates named ``coupon``, ``rate`` on a balance, ``redefault_rate`` and
  ``prepayment_rate`` are annual fractions (0.03 is 3 %). A fee with
  ``basis = "collections"`` has a rate that is a fraction of the period's
  collections.
- Collateral cash is monthly: month ``j = 1, 2, ...`` is the j-th month after
  the cut-off date. The engine sums the months of each collection period into
  its payment date (see :mod:`sanhua.securitize.collateral`).
- Interest accrues from closing (first period) or the previous payment date
  to each payment date under ``dates.day_count``.

Waterfall steps
---------------
The ordered steps of :class:`WaterfallSpec` use these names:

``taxes``               fees of kind ``tax``, in declared order
``fees``                every other fee (trustee, custodian, rating, servicer base fee)
``senior_interest``     senior classes' interest, pro rata by amount due
``facility_repayment``  repays draws on the external liquidity facility
``reserve_topup``       tops the liquidity reserve up to its target; releases cash above it
``excess_spread_trap``  moves a share of the remaining cash to the excess-spread account
``senior_principal``    senior classes, sequentially in declared order
``sub_principal``       the subordinated class's principal
``sub_return``          the subordinated class's fixed return (accrued on its balance)
``excess``              the rest: the servicer's incentive share, then the subordinated class
``reserve_release``     moves every account balance into the available cash (post-trigger use)

Taxes, fees and senior interest left unpaid by collections are drawn from the
accounts and the facility in the order of ``WaterfallSpec.shortfall_sources``.
"""

from __future__ import annotations

import csv
import json
import logging
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sanhua.errors import ConfigError, InputFileError
from sanhua.securitize.conventions import DayCount, Frequency, add_months
from sanhua.value.params import param

__all__ = [
    "STEP_NAMES",
    "DEFAULT_STEPS",
    "DEFAULT_POST_TRIGGER_STEPS",
    "RETENTION_SOURCE",
    "RecoverySpec",
    "ProjectedPool",
    "LoanPool",
    "DealDates",
    "Fee",
    "LiquidityReserve",
    "ExcessSpreadAccount",
    "CashReserve",
    "Tranche",
    "Facility",
    "Trigger",
    "WaterfallSpec",
    "CleanUpCall",
    "RiskRetention",
    "Deal",
    "load_deal",
    "deal_from_dict",
]

logger = logging.getLogger(__name__)

DEFAULT_STEPS: Final[tuple[str, ...]] = (
    "taxes",
    "fees",
    "senior_interest",
    "facility_repayment",
    "reserve_topup",
    "excess_spread_trap",
    "senior_principal",
    "sub_principal",
    "sub_return",
    "excess",
)
"""Default order before any trigger: taxes and fees, senior interest, reserve top-up, senior
principal, subordinated principal, the subordinated fixed return, then the excess."""

STEP_NAMES: Final[frozenset[str]] = frozenset(DEFAULT_STEPS) | {"reserve_release"}
"""Names a waterfall step may take; see the module docstring for their meaning."""

DEFAULT_POST_TRIGGER_STEPS: Final[tuple[str, ...]] = (
    "reserve_release",
    "taxes",
    "fees",
    "senior_interest",
    "facility_repayment",
    "senior_principal",
    "sub_principal",
    "sub_return",
    "excess",
)
"""Default order once a trigger has fired: the accounts are released to repay the senior class
first, and nothing is trapped or reserved."""

RETENTION_SOURCE: Final[str] = (
    "PBOC/CBRC announcement [2013] No. 21: the originator retains at least 5% of the issue, "
    "including at least 5% of the most junior tranche, for each tranche's life"
)

_SHORTFALL_SOURCES = ("liquidity_reserve", "excess_spread_account", "cash_reserve", "facility")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecoverySpec(_Section):
    """Recovery on re-defaulted balances: ``rate`` of the defaulted balance, ``lag_months`` after
    the default month, spread over the following months by ``timing``.

    A balance ``D`` defaulting in month ``m`` recovers ``D * rate * timing[k]`` in month
    ``m + lag_months + k`` for ``k = 0 .. len(timing) - 1``.
    """

    rate: float = param(0.10, "Recovery on a re-defaulted balance.", unit="fraction of defaulted balance", ge=0, le=1)
    lag_months: int = param(6, "Months from the default month to the first recovery.", unit="months", ge=0, le=240)
    timing: list[float] = Field(default_factory=lambda: [0.5, 0.5], description="Share of the recovery received in each month from the lag on; sums to 1.")

    @field_validator("timing")
    @classmethod
    def _check_timing(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("timing is empty; give at least one share, for example [1.0]")
        if any(share < 0 for share in value):
            raise ValueError("timing has a negative share; every share must be >= 0")
        if abs(sum(value) - 1.0) > 1e-9:
            raise ValueError(f"timing sums to {sum(value):.6f}; the shares must sum to 1")
        return value


class ProjectedPool(_Section):
    """A pool given as projected monthly collections (for example the valuation stage's cash flows).

    Give either ``collections`` (CNY per month after the cut-off) or ``recovery_rate`` with
    ``timing`` (collections = ``outstanding_claims * recovery_rate * timing``). In a deal file
    ``collections_file`` or ``timing_file`` names a CSV with a ``collections`` or ``share`` column,
    one row per month, relative to the deal file.
    """

    kind: Literal["projected"] = "projected"
    outstanding_claims: float = Field(gt=0, description="Principal, interest and fees owed at the cut-off, CNY.")
    collections: list[float] | None = Field(default=None, description="Projected collections, CNY per month 1, 2, ... after the cut-off.")
    recovery_rate: float | None = Field(default=None, ge=0, le=1, description="Forecast lifetime recovery, fraction of outstanding claims.")
    timing: list[float] | None = Field(default=None, description="Share of the forecast recovery collected in month 1, 2, ...; sums to 1.")
    known_months: int = Field(
        default=0,
        ge=0,
        description="Leading months whose collections were already received when the deal was priced; stresses leave them unchanged.",
    )
    base_redefault_rate: float = param(
        0.0,
        "Annual default rate already inside the projected collections; a re-default stress scales the "
        "collections by the ratio of survival at the stressed and at this rate (0 disables that stress).",
        unit="annual fraction",
        ge=0,
        lt=1,
    )

    @model_validator(mode="after")
    def _check_source(self) -> ProjectedPool:
        if self.collections is None and (self.recovery_rate is None or self.timing is None):
            raise ValueError("give collections, or recovery_rate with timing")
        if self.collections is not None and (self.recovery_rate is not None or self.timing is not None):
            raise ValueError("give collections or recovery_rate with timing, not both")
        if self.collections is not None:
            if not self.collections or any(value < 0 for value in self.collections):
                raise ValueError("collections must be a non-empty list of amounts >= 0")
        if self.timing is not None:
            if any(share < 0 for share in self.timing) or abs(sum(self.timing) - 1.0) > 1e-6:
                raise ValueError(f"timing shares must be >= 0 and sum to 1 (they sum to {sum(self.timing):.6f})")
        return self

    def monthly_collections(self) -> list[float]:
        """Return the base-case collections, CNY per month after the cut-off."""
        if self.collections is not None:
            return list(self.collections)
        assert self.recovery_rate is not None and self.timing is not None
        return [self.outstanding_claims * self.recovery_rate * share for share in self.timing]


class LoanPool(_Section):
    """Restructured loans given by their aggregate contractual schedule.

    ``scheduled_principal[j-1]`` and ``scheduled_interest[j-1]`` are the pool's contractual
    payments in month ``j`` if no loan re-defaulted or prepaid. Re-defaults and prepayments
    reduce the performing balance pro rata (see :mod:`sanhua.securitize.collateral`).
    """

    kind: Literal["loans"] = "loans"
    opening_balance: float = Field(gt=0, description="Performing principal at the cut-off, CNY.")
    outstanding_claims: float | None = Field(default=None, gt=0, description="Claims at the cut-off for reporting, CNY; defaults to opening_balance.")
    scheduled_principal: list[float] = Field(min_length=1, description="Contractual principal per month after the cut-off, CNY.")
    scheduled_interest: list[float] = Field(min_length=1, description="Contractual interest per month after the cut-off, CNY.")
    redefault_rate: float = param(0.10, "Annual re-default rate (CDR) of restructured loans.", unit="annual fraction", ge=0, lt=1)
    prepayment_rate: float = param(0.02, "Annual prepayment rate (CPR).", unit="annual fraction", ge=0, lt=1)
    recovery: RecoverySpec = Field(default_factory=RecoverySpec)

    @model_validator(mode="after")
    def _check_schedule(self) -> LoanPool:
        if len(self.scheduled_principal) != len(self.scheduled_interest):
            raise ValueError(
                f"scheduled_principal has {len(self.scheduled_principal)} months and scheduled_interest "
                f"{len(self.scheduled_interest)}; give both for the same months"
            )
        if any(v < 0 for v in self.scheduled_principal) or any(v < 0 for v in self.scheduled_interest):
            raise ValueError("scheduled amounts must be >= 0")
        total = sum(self.scheduled_principal)
        if abs(total - self.opening_balance) > 1e-6 * max(1.0, self.opening_balance):
            raise ValueError(f"scheduled_principal sums to {total:,.2f} but opening_balance is {self.opening_balance:,.2f}; they must agree")
        return self

    @property
    def claims(self) -> float:
        """Claims at the cut-off, CNY."""
        return self.outstanding_claims or self.opening_balance


Collateral = Annotated[Union[ProjectedPool, LoanPool], Field(discriminator="kind")]


class DealDates(_Section):
    """Key dates and conventions. Collection period 1 runs from the cut-off to ``first_collection_end``."""

    cutoff: date = Field(description="Cut-off date of the pool (封包日).")
    closing: date = Field(description="Closing (issue) date; interest accrues from it.")
    first_payment: date = Field(description="First payment date.")
    first_collection_end: date | None = Field(
        default=None, description="End of collection period 1; default: the last whole month after the cut-off before the first payment date."
    )
    frequency: Frequency = Field(default=Frequency.MONTHLY, description="monthly, quarterly or semiannual collection periods and payment dates.")
    day_count: DayCount = Field(default=DayCount.ACT_365F, description="Accrual convention; ACT/365F is the Chinese interbank convention.")

    @field_validator("day_count", mode="before")
    @classmethod
    def _parse_day_count(cls, value: Any) -> DayCount:
        try:
            return DayCount.parse(value)
        except ConfigError as error:
            raise ValueError(str(error)) from None

    @model_validator(mode="after")
    def _check_order(self) -> DealDates:
        if not self.cutoff <= self.closing < self.first_payment:
            raise ValueError(f"dates must satisfy cutoff <= closing < first_payment (got {self.cutoff}, {self.closing}, {self.first_payment})")
        if self.first_collection_end is not None and not self.cutoff < self.first_collection_end < self.first_payment:
            raise ValueError("first_collection_end must fall after the cut-off and before the first payment date")
        return self

    def first_period_months(self) -> int:
        """Whole months after the cut-off collected into period 1 (at least 1)."""
        end = self.first_collection_end
        months = 1
        if end is None:
            while add_months(self.cutoff, months + 1) < self.first_payment:
                months += 1
            return months
        while add_months(self.cutoff, months + 1) <= end:
            months += 1
        return months


class Fee(_Section):
    """A tax or fee paid from the waterfall.

    ``basis`` sets how it is computed each period: ``collections`` (``rate`` x the period's
    collections), ``notes_balance`` (annual ``rate`` x outstanding notes x accrual fraction) or
    ``fixed`` (``amount_per_year`` x accrual fraction). Unpaid amounts are carried to the next period.
    """

    name: str = Field(min_length=1, description="Unique name, e.g. trustee.")
    kind: Literal["tax", "fee"] = Field(default="fee", description="tax: paid by the taxes step; fee: by the fees step.")
    basis: Literal["collections", "notes_balance", "fixed"]
    rate: float = Field(default=0.0, ge=0, le=1, description="Fraction of collections, or annual fraction of the notes balance.")
    amount_per_year: float = Field(default=0.0, ge=0, description="Fixed amount per year, CNY (basis fixed).")


class LiquidityReserve(_Section):
    """Liquidity reserve: pays taxes, fees and senior interest that collections cannot.

    Target = ``target_periods`` x (senior interest + balance-based and fixed fees of one period,
    at the current senior balance, coupon and mean accrual fraction).
    """

    initial: float = Field(default=0.0, ge=0, description="Balance funded at closing, CNY.")
    target_periods: int = param(3, "Periods of senior interest and fees the reserve targets.", unit="periods", ge=0, le=24)


class ExcessSpreadAccount(_Section):
    """Excess-spread account: traps a share of the cash left after senior interest and the reserve."""

    trap_share: float = Field(default=0.0, ge=0, le=1, description="Share of the remaining cash trapped each period.")
    cap: float | None = Field(default=None, ge=0, description="Maximum balance, CNY; no limit when omitted.")


class CashReserve(_Section):
    """Cash reserve funded at closing; drawn after the liquidity reserve, released when the seniors are repaid."""

    initial: float = Field(default=0.0, ge=0, description="Balance funded at closing, CNY.")


class Tranche(_Section):
    """A class of notes. Seniors pay ``coupon`` each period; the subordinated class earns ``coupon``
    as its fixed return after its principal, then the excess."""

    name: str = Field(min_length=1)
    seniority: Literal["senior", "subordinated"]
    balance: float = Field(gt=0, description="Issued principal, CNY.")
    coupon: float = Field(default=0.0, ge=0, le=1, description="Annual coupon (senior) or fixed return (subordinated).")
    floating: bool = Field(default=False, description="The rate stress moves this coupon.")
    retained_share: float = Field(default=0.0, ge=0, le=1, description="Share of this class the originator retains.")


class Facility(_Section):
    """External guarantee or liquidity facility: lends up to ``limit`` to pay taxes, fees and senior
    interest; the ``facility_repayment`` step's position in the waterfall is its repayment rank."""

    limit: float = Field(gt=0, description="Maximum outstanding draws, CNY.")
    provider: str = Field(default="guarantor", description="Name shown in the report.")


class Trigger(_Section):
    """A performance trigger that switches the waterfall to ``post_trigger_steps``.

    - ``cumulative_default``: cumulative re-defaulted balance / opening balance > ``threshold``
      (loan pools only).
    - ``recovery_shortfall``: cumulative collections / cumulative base-case collections <
      ``threshold``, tested from period ``from_period``.

    A curable trigger switches back when its condition stops holding; a non-curable one stays on.
    """

    name: str = Field(min_length=1)
    kind: Literal["cumulative_default", "recovery_shortfall"]
    threshold: float = Field(ge=0, description="Fraction (see kind).")
    curable: bool = False
    from_period: int = Field(default=1, ge=1, description="First payment period the trigger is tested in.")


class WaterfallSpec(_Section):
    """Ordered steps before and after a trigger, the draw order for senior shortfalls and the incentive fee."""

    steps: list[str] = Field(default_factory=lambda: list(DEFAULT_STEPS))
    post_trigger_steps: list[str] = Field(default_factory=lambda: list(DEFAULT_POST_TRIGGER_STEPS))
    shortfall_sources: list[str] = Field(default_factory=lambda: list(_SHORTFALL_SOURCES))
    incentive_share: float = param(
        0.2, "Share of the excess paid to the servicer as its excess-performance incentive fee.", unit="fraction of excess", ge=0, le=1
    )
    incentive_after_trigger: bool = Field(default=False, description="Pay the incentive fee after a trigger has fired.")
    interest_on_arrears: bool = Field(
        default=True,
        description="Unpaid interest (and unpaid subordinated return) accrues at the class's coupon until paid, so a class paid in full, "
        "however late, yields its coupon.",
    )

    @field_validator("steps", "post_trigger_steps")
    @classmethod
    def _check_steps(cls, value: list[str]) -> list[str]:
        unknown = [step for step in value if step not in STEP_NAMES]
        if unknown:
            raise ValueError(f"unknown step(s) {unknown}; allowed: {sorted(STEP_NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("a step appears twice; list each step once")
        for required in ("senior_interest", "senior_principal", "sub_principal", "excess"):
            if required not in value:
                raise ValueError(f"step {required!r} is missing; every waterfall needs it")
        if value[-1] != "excess":
            raise ValueError("the last step must be 'excess' so that every yuan collected is allocated")
        if value.index("senior_principal") > value.index("sub_principal"):
            raise ValueError("senior_principal must come before sub_principal")
        return value

    @field_validator("shortfall_sources")
    @classmethod
    def _check_sources(cls, value: list[str]) -> list[str]:
        unknown = [source for source in value if source not in _SHORTFALL_SOURCES]
        if unknown or len(set(value)) != len(value):
            raise ValueError(f"shortfall_sources must list distinct names from {list(_SHORTFALL_SOURCES)}; got {value}")
        return value


class CleanUpCall(_Section):
    """Clean-up call: the originator buys the remaining pool once the remaining projected collections
    fall to ``threshold`` of the deal's base-case total, at ``price_share`` of them."""

    enabled: bool = True
    threshold: float = param(0.10, "Remaining projected collections that allow the call.", unit="fraction of base-case total collections", ge=0, le=1)
    price_share: float = param(1.0, "Call price.", unit="fraction of the scenario's remaining projected collections", ge=0, le=1.5)


class RiskRetention(_Section):
    """Originator risk retention, checked when the deal is validated."""

    min_share: float = param(0.05, "Minimum retained share.", unit="fraction", source=RETENTION_SOURCE, ge=0, le=1)


class Deal(_Section):
    """An ABS deal: collateral, dates, fees, accounts, tranches, facility, triggers and waterfall.

    Examples
    --------
    >>> from datetime import date
    >>> deal = Deal.model_validate({
    ...     "name": "demo",
    ...     "collateral": {"kind": "projected", "outstanding_claims": 1000.0, "collections": [60.0, 40.0]},
    ...     "dates": {"cutoff": date(2025, 1, 1), "closing": date(2025, 1, 15), "first_payment": date(2025, 2, 26)},
    ...     "tranches": [
    ...         {"name": "A", "seniority": "senior", "balance": 70.0, "coupon": 0.03, "retained_share": 0.05},
    ...         {"name": "Sub", "seniority": "subordinated", "balance": 20.0, "retained_share": 0.05},
    ...     ],
    ... })
    >>> deal.issue_balance
    90.0
    """

    name: str = Field(min_length=1)
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    collateral: Collateral
    dates: DealDates
    fees: list[Fee] = Field(default_factory=list)
    liquidity_reserve: LiquidityReserve = Field(default_factory=LiquidityReserve)
    excess_spread_account: ExcessSpreadAccount = Field(default_factory=ExcessSpreadAccount)
    cash_reserve: CashReserve = Field(default_factory=CashReserve)
    tranches: list[Tranche] = Field(min_length=2)
    facility: Facility | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    waterfall: WaterfallSpec = Field(default_factory=WaterfallSpec)
    cleanup_call: CleanUpCall = Field(default_factory=CleanUpCall)
    retention: RiskRetention = Field(default_factory=RiskRetention)

    @model_validator(mode="after")
    def _check_structure(self) -> Deal:
        seniorities = [tranche.seniority for tranche in self.tranches]
        if seniorities.count("subordinated") != 1 or seniorities[-1] != "subordinated":
            raise ValueError("tranches: list the senior classes first and exactly one subordinated class last")
        names = [tranche.name for tranche in self.tranches]
        if len(set(names)) != len(names):
            raise ValueError(f"tranches: names must be unique, got {names}")
        fee_names = [fee.name for fee in self.fees]
        if len(set(fee_names)) != len(fee_names):
            raise ValueError(f"fees: names must be unique, got {fee_names}")
        for trigger in self.triggers:
            if trigger.kind == "cumulative_default" and self.collateral.kind != "loans":
                raise ValueError(f"triggers: {trigger.name!r} is a cumulative_default trigger, which needs a loans collateral")
        for steps in (self.waterfall.steps, self.waterfall.post_trigger_steps):
            if self.facility is not None and "facility_repayment" not in steps:
                raise ValueError("waterfall: a facility is defined, so both step lists need 'facility_repayment' (its repayment rank)")
        self._check_retention()
        return self

    def _check_retention(self) -> None:
        minimum = self.retention.min_share
        issue = self.issue_balance
        retained = sum(t.balance * t.retained_share for t in self.tranches)
        junior = self.tranches[-1]
        if retained < minimum * issue - 1e-9:
            raise ValueError(
                f"risk retention: the originator retains {retained / issue:.2%} of the issue; at least {minimum:.0%} is required. "
                "Raise retained_share on the tranches"
            )
        if junior.retained_share < minimum - 1e-12:
            raise ValueError(
                f"risk retention: the originator retains {junior.retained_share:.2%} of the most junior class {junior.name!r}; "
                f"at least {minimum:.0%} is required"
            )
        # NOTE: "the same share of every tranche if it holds any higher one" is read here as a
        # vertical slice of at least the minimum share in every class.
        held_higher = [t for t in self.tranches[:-1] if t.retained_share > 0]
        short = [t.name for t in self.tranches if t.retained_share < minimum - 1e-12]
        if held_higher and short:
            raise ValueError(
                f"risk retention: the originator holds part of a senior class, so it must retain at least {minimum:.0%} of every class; "
                f"{short} fall short"
            )

    @property
    def issue_balance(self) -> float:
        """Total issued principal of all classes, CNY."""
        return float(sum(tranche.balance for tranche in self.tranches))

    @property
    def seniors(self) -> list[Tranche]:
        """Senior classes in payment order."""
        return [tranche for tranche in self.tranches if tranche.seniority == "senior"]

    @property
    def subordinated(self) -> Tranche:
        """The subordinated class."""
        return self.tranches[-1]

    @property
    def claims(self) -> float:
        """Outstanding claims of the pool at the cut-off, CNY."""
        collateral = self.collateral
        return collateral.outstanding_claims if isinstance(collateral, ProjectedPool) else collateral.claims

    def with_senior_share(self, share: float) -> Deal:
        """Return a copy with the seniors resized to ``share`` of the same total issue (pro rata among seniors)."""
        issue = self.issue_balance
        senior_total = sum(t.balance for t in self.seniors)
        tranches = []
        for tranche in self.tranches:
            if tranche.seniority == "senior":
                balance = issue * share * tranche.balance / senior_total
            else:
                balance = issue * (1.0 - share)
            tranches.append(tranche.model_copy(update={"balance": max(balance, 1e-6)}))
        data = self.model_dump()
        data["tranches"] = [t.model_dump() for t in tranches]
        return Deal.model_validate(data)


def _format_location(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("projected", "loans"):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _validation_message(error: ValidationError, source: str) -> str:
    lines = [f"Deal file {source} is invalid ({error.error_count()} problem(s)):"]
    for item in error.errors():
        key = _format_location(item["loc"])
        value = item.get("input")
        if item["type"] == "missing":
            shown = "missing"
        elif isinstance(value, dict):
            shown = "{...}"
        else:
            shown = repr(value)[:80]
        message = item["msg"].removeprefix("Value error, ")
        fix = "add the key" if item["type"] == "missing" else "change the value"
        if item["type"] == "extra_forbidden":
            fix = "remove the key or correct its spelling"
        lines.append(f"  - key {key}: value {shown}: {message}. Fix: {fix} in the deal file.")
    return "\n".join(lines)


def _read_column(path: Path, column: str, key: str, source: Path) -> list[float]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise ConfigError(
                    f"Deal file {source}: key {key}: {path} has no column {column!r} (columns: {reader.fieldnames}). "
                    f"Add a {column!r} column, one row per month."
                )
            values = []
            for row_number, row in enumerate(reader, start=2):
                text = (row[column] or "").strip()
                try:
                    values.append(float(text))
                except ValueError:
                    raise ConfigError(
                        f"Deal file {source}: key {key}: {path} row {row_number}, column {column!r}: value {text!r} is not a number. "
                        "Write a plain decimal number."
                    ) from None
            return values
    except FileNotFoundError:
        raise InputFileError(f"Deal file {source}: key {key}: file {path} not found. Give a path relative to the deal file.") from None


def deal_from_dict(data: dict[str, Any], source: str = "<python>", base_dir: Path | None = None) -> Deal:
    """Validate a deal given as nested dicts (the parsed TOML), resolving CSV references.

    Parameters
    ----------
    data : dict
        Sections as in a deal file; ``collateral.collections_file`` and
        ``collateral.timing_file`` are read relative to ``base_dir``.
    source : str
        Name of the file or object, used in error messages.
    base_dir : Path or None
        Folder that relative file names are resolved against (default: the
        working folder).

    Raises
    ------
    ConfigError
        A value is invalid; the message names every failing key, its value and the fix.
    InputFileError
        A referenced CSV file does not exist.
    """
    data = dict(data)
    collateral = dict(data.get("collateral") or {})
    base = base_dir or Path.cwd()
    for key, target, column in (("collections_file", "collections", "collections"), ("timing_file", "timing", "share")):
        if key in collateral:
            path = base / str(collateral.pop(key))
            collateral[target] = _read_column(path, column, f"collateral.{key}", Path(source))
    if collateral:
        data["collateral"] = collateral
    try:
        deal = Deal.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_validation_message(error, source)) from None
    logger.info("Validated deal %r: %d tranches, issue %.2f", deal.name, len(deal.tranches), deal.issue_balance)
    return deal


def load_deal(path: str | Path) -> Deal:
    """Read and validate a deal file: TOML, or the JSON a run writes (``abs/deal.json``).

    Parameters
    ----------
    path : str or Path
        The deal file. CSV files it names are read relative to its folder.

    Returns
    -------
    Deal
        The validated deal.

    Raises
    ------
    InputFileError
        The file does not exist or cannot be read.
    ConfigError
        The file is not valid TOML or a key has an invalid value; the message
        names the file, the key, the value and the fix.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            # A run writes its proposal as deal.json; a deal written by hand is TOML.
            data = json.load(handle) if path.suffix.lower() == ".json" else tomllib.load(handle)
    except FileNotFoundError:
        raise InputFileError(f"Deal file {path} not found. Check the path.") from None
    except IsADirectoryError:
        raise InputFileError(f"Deal file {path} is a folder. Give the TOML or JSON file itself.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Deal file {path} is not valid TOML: {error}. Fix the syntax at that line.") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"Deal file {path} is not valid JSON: {error}. Fix the syntax at that line.") from None

    return deal_from_dict(data, source=str(path), base_dir=path.parent)
