"""Tests of the one-step file replacement used for run outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanhua.errors import InputFileError
from sanhua.report.files import replace_file


def test_replace_file_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    replace_file(target, lambda path: path.write_text("new", encoding="utf-8"))

    assert target.read_text(encoding="utf-8") == "new"
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]


def test_replace_file_failure_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"

    def fail(path: Path) -> None:
        path.write_text("partial", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(InputFileError, match="out.txt.*No space left on device"):
        replace_file(target, fail)
    assert list(tmp_path.iterdir()) == []
