"""sanhua.strategy: the action catalogue, the value of each action per loan and the plan under capacity."""

from sanhua.strategy.court_fees import court_fee
from sanhua.strategy.hardship import HardshipProgramme, HardshipResult
from sanhua.strategy.optimize import Assignment, AssignmentProblem, OptimiserSettings, PortfolioOptimiser
from sanhua.strategy.plan import PlanResult, build_problem, plan_actions, plan_run, write_values
from sanhua.strategy.restructure import RestructureTerms, restructure_terms
from sanhua.strategy.settings import (
    ACTIONS,
    RESOURCES,
    ActionSettings,
    CapacitySettings,
    HardshipSettings,
    HoldSettings,
    LitigateSettings,
    MediateSettings,
    OutsourceSettings,
    PolicySettings,
    RestructureSettings,
    ScheduledActionSettings,
    SettleSettings,
    StrategySettings,
    TransferSettings,
)
from sanhua.strategy.valuer import INPUT_COLUMNS, USAGE_COLUMNS, ActionResult, ActionValuer

__all__ = [
    "ACTIONS",
    "INPUT_COLUMNS",
    "RESOURCES",
    "USAGE_COLUMNS",
    "ActionResult",
    "ActionSettings",
    "ActionValuer",
    "Assignment",
    "AssignmentProblem",
    "CapacitySettings",
    "HardshipProgramme",
    "HardshipResult",
    "HardshipSettings",
    "HoldSettings",
    "LitigateSettings",
    "MediateSettings",
    "OptimiserSettings",
    "OutsourceSettings",
    "PlanResult",
    "PolicySettings",
    "PortfolioOptimiser",
    "RestructureSettings",
    "RestructureTerms",
    "ScheduledActionSettings",
    "SettleSettings",
    "StrategySettings",
    "TransferSettings",
    "build_problem",
    "court_fee",
    "plan_actions",
    "plan_run",
    "restructure_terms",
    "write_values",
]
