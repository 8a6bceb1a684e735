"""Settings of the securitization stage: how the main job turns a projected pool into a proposed deal.

Every number carries its unit and either its source or the tag ``ASSUMPTION``;
:meth:`SecuritizeSettings.assumptions` lists them for ``run.json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sanhua.securitize.deal import RETENTION_SOURCE
from sanhua.value.params import assumption_rows, param

__all__ = ["SecuritizeSettings"]

_SHORTFALL = "average shortfall of unsecured NPL ABS recoveries against the first rating forecast, about 11% (secondary market reports)"


class SecuritizeSettings(BaseModel):
    """Structure, fees and stresses of the ABS proposal built from a projected pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = param(True, "Build an ABS proposal for the restructured pool.", unit="flag", policy=True)
    frequency: Literal["monthly", "quarterly"] = Field(default="monthly", description="Collection period and payment frequency.")
    closing_lag_months: int = param(2, "Months from the cut-off to closing.", unit="months", ge=0, le=24)
    payment_day: int = param(26, "Day of the month of every payment date.", unit="day of month", ge=1, le=28)
    issue_share: float = param(
        0.90, "Issued notes as a share of the pool's undiscounted expected collections.", unit="fraction of expected collections", gt=0, le=1.5
    )
    initial_senior_share: float = param(0.80, "Senior share of the issue before sizing.", unit="fraction of issue", gt=0, lt=1)
    senior_coupon: float = param(0.03, "Senior coupon.", unit="annual fraction", ge=0, le=0.5)
    subordinated_return: float = param(0.0, "Subordinated fixed return before the excess.", unit="annual fraction", ge=0, le=0.5)
    base_redefault_rate: float = param(
        0.10, "Annual re-default rate already inside the pool's expected collections (scaled by the re-default stress).", unit="annual fraction", ge=0, lt=1
    )
    tax_rate: float = param(0.001, "Taxes (VAT and surcharges on the notes' interest).", unit="annual fraction of notes balance", ge=0, le=0.1)
    trustee_rate: float = param(0.0005, "Trustee fee.", unit="annual fraction of notes balance", ge=0, le=0.1)
    custodian_rate: float = param(0.0001, "Custodian fee.", unit="annual fraction of notes balance", ge=0, le=0.1)
    rating_fee_per_year: float = param(300_000.0, "Rating surveillance, audit and registration.", unit="CNY per year", ge=0)
    servicer_base_rate: float = param(0.01, "Servicer base fee.", unit="fraction of collections", ge=0, le=0.5)
    incentive_share: float = param(0.2, "Servicer's excess-performance incentive fee.", unit="fraction of excess", ge=0, le=1)
    reserve_target_periods: int = param(3, "Liquidity reserve target: periods of senior interest and fees.", unit="periods", ge=0, le=24)
    reserve_funded_at_closing: bool = param(
        True, "Fund the liquidity reserve at closing to its target at the initial senior size (from issue proceeds).", unit="flag", policy=True
    )
    recovery_trigger: float = param(
        0.80, "Recovery-shortfall trigger: cumulative collections below this share of the forecast switch the waterfall.", unit="fraction", ge=0, le=1
    )
    cleanup_threshold: float = param(0.10, "Clean-up call threshold.", unit="fraction of base-case collections", ge=0, le=1)
    retained_share: float = param(0.05, "Share of every class the originator retains (vertical slice).", unit="fraction", source=RETENTION_SOURCE, ge=0.05, le=1)
    target_haircut: float = param(
        0.25, f"Sizing target: recovery haircut the senior class must survive (more than twice the {_SHORTFALL}).", unit="fraction", ge=0, le=1
    )
    target_delay_months: int = param(3, "Sizing target: months every collection is delayed.", unit="months", ge=0, le=60)
    target_redefault_multiple: float = param(1.5, "Sizing target: multiple of the base re-default rate.", unit="multiple", ge=0, le=100)
    grid_haircuts: tuple[float, ...] = Field(default=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), description="Stress matrix rows: recovery haircuts.")
    grid_delays: tuple[int, ...] = Field(default=(0, 3, 6, 9, 12), description="Stress matrix columns: delays in months.")

    @model_validator(mode="after")
    def _check_grid(self) -> SecuritizeSettings:
        if not self.grid_haircuts or not self.grid_delays:
            raise ValueError("grid_haircuts and grid_delays need at least one value each")
        if any(not 0 <= h <= 1 for h in self.grid_haircuts) or any(d < 0 for d in self.grid_delays):
            raise ValueError("grid_haircuts must lie in [0, 1] and grid_delays be >= 0")
        return self

    def assumptions(self) -> list[dict[str, Any]]:
        """List every numeric setting with its unit, source and tag."""
        return assumption_rows(self, prefix="securitize.")
