"""Securitization: deal definition, waterfall engine, stress tests, tranche sizing and the deal report.

Entry points: :func:`load_deal` / :class:`Deal` (the deal definition), :class:`WaterfallEngine`
(runs a deal for a set of :class:`Scenarios`), :mod:`sanhua.securitize.stress` (grids,
break-evens, liquidity stress), :func:`size_senior` (tranche sizing) and
:func:`propose_deal` / :func:`write_deal_report` (the main job's ABS proposal).
"""

from sanhua.securitize.deal import Deal, deal_from_dict, load_deal
from sanhua.securitize.engine import WaterfallEngine
from sanhua.securitize.results import DealResult
from sanhua.securitize.scenarios import Scenarios

__all__ = ["Deal", "DealResult", "Scenarios", "WaterfallEngine", "deal_from_dict", "load_deal"]
