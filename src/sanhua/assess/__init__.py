"""Willingness, ability and expected-recovery models, reason codes and backtest."""

from sanhua.assess.backtest import BacktestResult, BacktestSettings, backtest
from sanhua.assess.model import Assessor
from sanhua.assess.settings import AssessSettings, BoosterSettings, TargetSettings
from sanhua.assess.targets import Targets, build_targets

__all__ = [
    "AssessSettings",
    "Assessor",
    "BacktestResult",
    "BacktestSettings",
    "BoosterSettings",
    "TargetSettings",
    "Targets",
    "backtest",
    "build_targets",
]
