"""The main job's entry point: an ABS proposal for the restructured pool, sized by the engine.

:func:`propose_deal` turns the pool's projected monthly collections into a :class:`Deal` with
the structure of :class:`SecuritizeSettings`; :func:`build_abs_proposal` sizes it against the
settings' target stress and analyses it; :meth:`AbsProposal.write` writes the deal report, the
Excel export and the deal file into a folder and returns the report's path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from sanhua.errors import InputDataError
from sanhua.securitize.analysis import DealAnalysis, analyse_deal
from sanhua.securitize.conventions import add_months
from sanhua.securitize.deal import Deal, deal_from_dict
from sanhua.securitize.scenarios import Scenarios
from sanhua.securitize.settings import SecuritizeSettings

__all__ = ["POOL_COLUMNS", "AbsProposal", "propose_deal", "target_stress", "build_abs_proposal"]

logger = logging.getLogger(__name__)

POOL_COLUMNS = ("period", "expected_collections")
"""Required columns of the pool cash-flow table: month after the cut-off (1, 2, ...) and expected collections (CNY)."""


def _check_pool(pool_cashflows: pl.DataFrame) -> np.ndarray:
    missing = [column for column in POOL_COLUMNS if column not in pool_cashflows.columns]
    if missing:
        raise InputDataError(
            f"Pool cash flows lack column(s) {missing}; found {pool_cashflows.columns}. "
            "Give one row per month after the cut-off with period (1, 2, ...) and expected_collections (CNY)."
        )
    frame = pool_cashflows.select(pl.col("period").cast(pl.Int64, strict=False), pl.col("expected_collections").cast(pl.Float64, strict=False))
    for column in POOL_COLUMNS:
        nulls = frame[column].null_count()
        if nulls:
            row = int(frame.with_row_index().filter(pl.col(column).is_null())["index"][0])
            raise InputDataError(f"Pool cash flows: column {column!r} row {row} is null or not a number ({nulls} such rows). Fill it.")
    bad = frame.with_row_index().filter((pl.col("period") < 1) | (pl.col("expected_collections") < 0) | ~pl.col("expected_collections").is_finite())
    if bad.height:
        row = bad.row(0, named=True)
        raise InputDataError(
            f"Pool cash flows row {row['index']}: period {row['period']} and expected_collections {row['expected_collections']} are invalid; "
            "periods start at 1 and collections are finite and >= 0."
        )
    if frame["period"].n_unique() != frame.height:
        raise InputDataError("Pool cash flows: a period appears twice; sum the collections of each month into one row.")
    months = int(frame["period"].max())
    collections = np.zeros(months)
    collections[frame["period"].to_numpy() - 1] = frame["expected_collections"].to_numpy()
    if collections.sum() <= 0:
        raise InputDataError("Pool cash flows: expected collections sum to 0; there is nothing to securitize.")
    return collections


def propose_deal(
    pool_cashflows: pl.DataFrame,
    cutoff_date: date,
    settings: SecuritizeSettings | None = None,
    *,
    name: str = "sanhua-restructured-pool",
    outstanding_claims: float | None = None,
    currency: str = "CNY",
) -> Deal:
    """Build a senior/subordinated deal on a projected pool.

    Parameters
    ----------
    pool_cashflows : pl.DataFrame
        One row per month after the cut-off: ``period`` (1, 2, ...) and
        ``expected_collections`` (CNY, undiscounted, re-defaults already netted at
        ``settings.base_redefault_rate``). Missing months count as zero.
    cutoff_date : date
        Cut-off date of the pool.
    settings : SecuritizeSettings or None
        Structure, fees and stresses; defaults when None.
    name : str
        Deal name shown in the report.
    outstanding_claims : float or None
        Claims owed at the cut-off, CNY (defaults to the expected collections' total).
    currency : str
        ISO 4217 code of the amounts.

    Returns
    -------
    Deal
        The proposed deal before sizing: ``settings.issue_share`` of expected collections
        issued, ``settings.initial_senior_share`` of it senior.

    Raises
    ------
    InputDataError
        The pool table lacks a column or contains invalid values.
    """
    settings = settings or SecuritizeSettings()
    collections = _check_pool(pool_cashflows)
    total = float(collections.sum())
    issue = settings.issue_share * total
    closing = add_months(cutoff_date, settings.closing_lag_months)
    period_years = (1 if settings.frequency == "monthly" else 3) / 12.0
    senior_balance = issue * settings.initial_senior_share
    per_period = (senior_balance * settings.senior_coupon + issue * (settings.tax_rate + settings.trustee_rate + settings.custodian_rate)) * period_years
    per_period += settings.rating_fee_per_year * period_years
    reserve = settings.reserve_target_periods * per_period if settings.reserve_funded_at_closing else 0.0
    first_payment = add_months(closing, 1 if settings.frequency == "monthly" else 3).replace(day=settings.payment_day)

    data = {
        "name": name,
        "currency": currency,
        "dates": {"cutoff": cutoff_date, "closing": closing, "first_payment": first_payment, "frequency": settings.frequency, "day_count": "ACT/365F"},
        "collateral": {
            "kind": "projected",
            "outstanding_claims": outstanding_claims or total,
            "collections": collections.tolist(),
            "base_redefault_rate": settings.base_redefault_rate,
        },
        "fees": [
            {"name": "vat", "kind": "tax", "basis": "notes_balance", "rate": settings.tax_rate},
            {"name": "trustee", "basis": "notes_balance", "rate": settings.trustee_rate},
            {"name": "custodian", "basis": "notes_balance", "rate": settings.custodian_rate},
            {"name": "rating_audit", "basis": "fixed", "amount_per_year": settings.rating_fee_per_year},
            {"name": "servicer_base", "basis": "collections", "rate": settings.servicer_base_rate},
        ],
        "liquidity_reserve": {"initial": reserve, "target_periods": settings.reserve_target_periods},
        "tranches": [
            {"name": "senior", "seniority": "senior", "balance": senior_balance, "coupon": settings.senior_coupon, "retained_share": settings.retained_share},
            {
                "name": "subordinated",
                "seniority": "subordinated",
                "balance": issue * (1 - settings.initial_senior_share),
                "coupon": settings.subordinated_return,
                "retained_share": settings.retained_share,
            },
        ],
        "triggers": [{"name": "recovery_shortfall", "kind": "recovery_shortfall", "threshold": settings.recovery_trigger, "curable": False, "from_period": 3}],
        "waterfall": {"incentive_share": settings.incentive_share},
        "cleanup_call": {"enabled": True, "threshold": settings.cleanup_threshold, "price_share": 1.0},
    }
    deal = deal_from_dict(data, source=f"proposal {name}")
    logger.info("Proposed deal %r on %d months of collections (%.2f %s)", name, collections.shape[0], total, currency)
    return deal


def target_stress(settings: SecuritizeSettings) -> Scenarios:
    """Return the sizing target of ``settings`` as one scenario."""
    return Scenarios.from_values(
        1,
        recovery_haircut=settings.target_haircut,
        delay_months=settings.target_delay_months,
        redefault_multiple=settings.target_redefault_multiple,
    )


@dataclass(frozen=True)
class AbsProposal:
    """A proposed, sized and analysed deal for the main job.

    Attributes
    ----------
    proposed : Deal
        The deal before sizing.
    analysis : DealAnalysis
        The analysis of the sized deal (``analysis.deal``), with ``analysis.sizing`` set.
    """

    proposed: Deal
    analysis: DealAnalysis

    @property
    def deal(self) -> Deal:
        """The sized deal."""
        return self.analysis.deal

    def summary(self) -> dict[str, object]:
        """Key figures for ``run.json``: issue, sized senior share and balances, break-evens."""
        sizing = self.analysis.sizing
        breaks = {f"{row['tranche']}.{row['parameter']}": row["break_even"] for row in self.analysis.tables["break_even"].iter_rows(named=True)}
        return {
            "deal": self.deal.name,
            "issue_balance": self.deal.issue_balance,
            "senior_share": sizing.senior_share if sizing else None,
            "senior_balance": sizing.senior_balance if sizing else None,
            "subordinated_balance": sizing.subordinated_balance if sizing else None,
            "break_even": breaks,
        }

    def write(self, out_dir: Path, language: str | None = None) -> Path:
        """Write the deal report, the Excel export and the deal file into ``out_dir``; return the report's path."""
        from sanhua.securitize.report import write_deal_report

        return write_deal_report(self.analysis, out_dir, language)


def build_abs_proposal(
    pool_cashflows: pl.DataFrame,
    cutoff_date: date,
    settings: SecuritizeSettings | None = None,
    *,
    name: str = "sanhua-restructured-pool",
    outstanding_claims: float | None = None,
    currency: str = "CNY",
) -> AbsProposal:
    """Propose, size and analyse a deal on the restructured pool (the main job's one call).

    Parameters are those of :func:`propose_deal`. The senior class is sized to the largest
    share of the issue that survives :func:`target_stress` with full and timely interest; the
    analysis (stress matrix, break-evens, liquidity stress) is of the sized deal.
    """
    settings = settings or SecuritizeSettings()
    proposed = propose_deal(pool_cashflows, cutoff_date, settings, name=name, outstanding_claims=outstanding_claims, currency=currency)
    analysis = analyse_deal(
        proposed,
        target=target_stress(settings),
        grid_haircuts=settings.grid_haircuts,
        grid_delays=settings.grid_delays,
        resize=True,
        assumptions=settings.assumptions(),
    )
    return AbsProposal(proposed=proposed, analysis=analysis)
