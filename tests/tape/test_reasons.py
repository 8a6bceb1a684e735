"""Reason codes: the enums and docs/quarantine.md list the same codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sanhua.tape.reasons import Exclusion, Flag, Reason, message

DOC = Path(__file__).resolve().parents[2] / "docs" / "quarantine.md"


def _section_codes(title: str) -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize(("title", "enum"), [("Quarantine reasons", Reason), ("Exclusion reasons", Exclusion), ("Flags", Flag)])
def test_doc_lists_every_code(title, enum):
    assert _section_codes(title) == {member.value for member in enum}


def test_message_is_bilingual_and_names_column():
    text = message(Reason.INVALID_DATE, "发放日期")
    english, chinese = text.split(" | ")
    assert "发放日期" in english and "发放日期" in chinese
    assert "2023年5月1日" in english


def test_every_reason_has_a_message():
    for reason in Reason:
        assert " | " in message(reason, "col", " (detail)")
