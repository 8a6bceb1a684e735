"""sanhua.value: recovery timing (curves), and later cash flows, prices and packages."""

from sanhua.value.curves import CurveSettings, RecoveryCurve

__all__ = ["CurveSettings", "RecoveryCurve"]
