"""The action catalogue page lists every parameter of the segment, curve and strategy settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanhua.segment import SegmentSettings
from sanhua.strategy import StrategySettings
from sanhua.value import CurveSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "actions.md"


@pytest.mark.parametrize("settings", [SegmentSettings(), CurveSettings(), StrategySettings()], ids=["segment", "curve", "strategy"])
def test_docs_list_every_parameter(settings):
    text = DOC.read_text(encoding="utf-8")

    for row in settings.assumptions():
        section, _, name = row["name"].partition(".")
        assert f"### `[{section}]`" in text, section
        assert f"| `{name}` |" in text, row["name"]
