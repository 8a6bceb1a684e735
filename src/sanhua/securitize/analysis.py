"""One documented container with every table of a deal's analysis: the input of the deal report.

:func:`analyse_deal` runs the base case, the stress matrix, the break-evens, the liquidity
stress and (given a target stress) the sizing, and returns :class:`DealAnalysis`, whose
``tables`` the HTML report, the Excel export and the CLI render.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from sanhua.securitize.deal import Deal, LoanPool
from sanhua.securitize.engine import WaterfallEngine
from sanhua.securitize.results import DealResult
from sanhua.securitize.scenarios import PARAMETERS, Scenarios
from sanhua.securitize.sizing import SizingResult, size_senior
from sanhua.securitize.stress import break_even, liquidity_stress, stress_grid

__all__ = ["DealAnalysis", "analyse_deal", "structure_table", "waterfall_table"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DealAnalysis:
    """Every table of a deal's analysis.

    Attributes
    ----------
    deal : Deal
        The deal as analysed (the sized deal when sizing ran).
    base : DealResult
        The unstressed run.
    sizing : SizingResult or None
        The sizing, when a target stress was given.
    tables : dict of str to pl.DataFrame
        ``structure`` (one row per class), ``waterfall`` (the ordered steps before and after
        a trigger), ``periods`` (base-case flows per period, rounded to the fen),
        ``tranche_metrics`` (base case), ``stress_matrix`` (one row per haircut, delay and
        class), ``break_even`` (per class and parameter), ``liquidity`` (per delay),
        ``sizing`` and ``target`` (when sizing ran).
    assumptions : list of dict
        Provenance of the numbers that built the deal (empty for a deal file).
    """

    deal: Deal
    base: DealResult
    sizing: SizingResult | None
    tables: dict[str, pl.DataFrame]
    assumptions: list[dict[str, object]] = field(default_factory=list)


def structure_table(deal: Deal) -> pl.DataFrame:
    """Tabulate the classes: name, seniority, balance, share of the issue, coupon, retained share and amount."""
    issue = deal.issue_balance
    return pl.DataFrame(
        {
            "tranche": [t.name for t in deal.tranches],
            "seniority": [t.seniority for t in deal.tranches],
            "balance": [t.balance for t in deal.tranches],
            "issue_share": [t.balance / issue for t in deal.tranches],
            "coupon_rate": [t.coupon for t in deal.tranches],
            "retained_share": [t.retained_share for t in deal.tranches],
            "retained_amount": [t.balance * t.retained_share for t in deal.tranches],
        }
    )


def waterfall_table(deal: Deal) -> pl.DataFrame:
    """Tabulate both waterfalls: ``order`` (1-based), ``before_trigger`` and ``after_trigger`` step names."""
    pre = list(deal.waterfall.steps)
    post = list(deal.waterfall.post_trigger_steps)
    length = max(len(pre), len(post))
    return pl.DataFrame(
        {
            "order": list(range(1, length + 1)),
            "before_trigger": pre + [None] * (length - len(pre)),
            "after_trigger": post + [None] * (length - len(post)),
        },
        schema={"order": pl.Int64, "before_trigger": pl.Utf8, "after_trigger": pl.Utf8},
    )


def analyse_deal(
    deal: Deal,
    *,
    target: Scenarios | None = None,
    grid_haircuts: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
    grid_delays: Sequence[int] = (0, 3, 6, 9, 12),
    resize: bool = False,
    assumptions: list[dict[str, object]] | None = None,
) -> DealAnalysis:
    """Run the base case, the stress matrix, break-evens, the liquidity stress and, given ``target``, the sizing.

    Parameters
    ----------
    deal : Deal
        The deal.
    target : Scenarios or None
        Target stress of the sizing; None skips sizing.
    grid_haircuts, grid_delays : sequences
        Axes of the stress matrix (fractions and whole months).
    resize : bool
        Analyse the deal resized to the sized senior share instead of the deal as given.
    assumptions : list of dict or None
        Provenance rows to carry into the report.

    Returns
    -------
    DealAnalysis
    """
    sizing = size_senior(deal, target) if target is not None else None
    if resize and sizing is not None and sizing.senior_share > 0:
        deal = sizing.deal

    base = WaterfallEngine(deal).run(Scenarios.base())
    matrix = stress_grid(deal, {"recovery_haircut": list(grid_haircuts), "delay_months": [float(d) for d in grid_delays]})

    parameters = ["recovery_haircut", "delay_months"]
    if isinstance(deal.collateral, LoanPool) or getattr(deal.collateral, "base_redefault_rate", 0.0) > 0:
        parameters.append("redefault_multiple")
    if any(t.floating for t in deal.tranches):
        parameters.append("rate_shift")
    breaks = pl.concat([break_even(deal, parameter) for parameter in parameters])

    tables = {
        "structure": structure_table(deal),
        "waterfall": waterfall_table(deal),
        "periods": base.period_table(0, rounded=True),
        "tranche_metrics": base.tranche_summary().drop("scenario"),
        "stress_matrix": matrix.select(
            "recovery_haircut", "delay_months", "tranche", "yield", "principal_loss_rate", "interest_shortfall_max", "full_and_timely", "trigger_period"
        ),
        "break_even": breaks,
        "liquidity": liquidity_stress(deal, tuple(sorted(set(range(0, 13)) | set(grid_delays)))),
    }
    if sizing is not None:
        tables["sizing"] = sizing.to_frame()
        tables["target"] = sizing.target.select(p for p in PARAMETERS if p != "senior_share")

    logger.info("Analysed deal %r: %d tables", deal.name, len(tables))
    return DealAnalysis(deal=deal, base=base, sizing=sizing, tables=tables, assumptions=list(assumptions or []))
