"""Securitization: deal definition, waterfall engine, stress tests, tranche sizing and the deal report.

Entry points: :func:`load_deal` / :class:`Deal` (the deal definition), :class:`WaterfallEngine`
(runs a deal for a set of :class:`Scenarios`), :mod:`sanhua.securitize.stress` (grids,
break-evens, liquidity stress), :func:`size_senior` (tranche sizing), :func:`analyse_deal` (every
table of the deal report) and :func:`build_abs_proposal` (the main job's ABS proposal). The HTML
and Excel writer, :func:`sanhua.securitize.report.write_deal_report`, is imported from its module
so that this package loads without Plotly.
"""

from sanhua.securitize.analysis import DealAnalysis, analyse_deal
from sanhua.securitize.deal import Deal, deal_from_dict, load_deal
from sanhua.securitize.engine import WaterfallEngine
from sanhua.securitize.proposal import AbsProposal, build_abs_proposal, propose_deal, target_stress
from sanhua.securitize.results import DealResult
from sanhua.securitize.scenarios import Scenarios
from sanhua.securitize.settings import SecuritizeSettings
from sanhua.securitize.sizing import SizingResult, size_senior

__all__ = [
    "AbsProposal",
    "Deal",
    "DealAnalysis",
    "DealResult",
    "Scenarios",
    "SecuritizeSettings",
    "SizingResult",
    "WaterfallEngine",
    "analyse_deal",
    "build_abs_proposal",
    "deal_from_dict",
    "load_deal",
    "propose_deal",
    "size_senior",
    "target_stress",
]
