"""sanhua.strategy: the action catalogue, the value of each action per loan and the chosen action."""

from sanhua.strategy.court_fees import court_fee
from sanhua.strategy.settings import (
    ACTIONS,
    ActionSettings,
    HoldSettings,
    LitigateSettings,
    MediateSettings,
    OutsourceSettings,
    RestructureSettings,
    ScheduledActionSettings,
    SettleSettings,
    StrategySettings,
    TransferSettings,
)
from sanhua.strategy.valuer import INPUT_COLUMNS, ActionResult, ActionValuer

__all__ = [
    "ACTIONS",
    "INPUT_COLUMNS",
    "ActionResult",
    "ActionSettings",
    "ActionValuer",
    "HoldSettings",
    "LitigateSettings",
    "MediateSettings",
    "OutsourceSettings",
    "RestructureSettings",
    "ScheduledActionSettings",
    "SettleSettings",
    "StrategySettings",
    "TransferSettings",
    "court_fee",
]
