"""sanhua.value: recovery curves, cash flows, prices, packages and their disclosure."""

from sanhua.value.curves import CurveSettings, RecoveryCurve
from sanhua.value.mack import MackResult, mack_chain_ladder
from sanhua.value.segments import SegmentedCurves
from sanhua.value.settings import ValuationSettings
from sanhua.value.survival import kaplan_meier, time_to_first_payment
from sanhua.value.valuer import ValuationResult, Valuer

__all__ = [
    "CurveSettings",
    "RecoveryCurve",
    "MackResult",
    "mack_chain_ladder",
    "SegmentedCurves",
    "ValuationSettings",
    "kaplan_meier",
    "time_to_first_payment",
    "ValuationResult",
    "Valuer",
]
