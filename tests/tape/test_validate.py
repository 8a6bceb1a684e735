"""Validation: parsing per distinct value gives the same tape as parsing every row."""

from __future__ import annotations

from datetime import date

from fixtures.defect_tape import build_defect_tape
from sanhua.tape import validate
from sanhua.tape.load import load_tape
from sanhua.tape.privacy import Pseudonymiser
from sanhua.tape.profile import load_profile

AS_OF = date(2024, 6, 30)


def _repeated_defect_tape(tmp_path, copies: int):
    """Return the defect tape with its data rows written ``copies`` times (few distinct values per column)."""
    source = build_defect_tape(tmp_path, "csv")["path"]
    raw = source.read_bytes()
    header_end = 0
    for _ in range(3):  # two title rows, then the header
        header_end = raw.index(b"\n", header_end) + 1
    body = raw[header_end:]
    if not body.endswith(b"\n"):
        body += b"\n"
    path = tmp_path / "repeated.csv"
    path.write_bytes(raw[:header_end] + body * copies)
    return path


def test_distinct_parse_matches_rowwise(tmp_path, monkeypatch):
    path = _repeated_defect_tape(tmp_path, 8)
    profile = load_profile("cn-bank")
    pseudonymiser = Pseudonymiser(b"validate-test-key-0123456789")

    monkeypatch.setattr(validate, "DISTINCT_MIN_ROWS", 10**12)
    rowwise = load_tape(path, profile, pseudonymiser=pseudonymiser, as_of=AS_OF)
    monkeypatch.setattr(validate, "DISTINCT_MIN_ROWS", 0)
    distinct = load_tape(path, profile, pseudonymiser=pseudonymiser, as_of=AS_OF)

    assert distinct.counts == rowwise.counts
    assert distinct.flags == rowwise.flags
    assert distinct.quarantine.equals(rowwise.quarantine)
    for name, table in rowwise.tables.items():
        assert distinct.tables[name].equals(table), name


def test_distinct_parse_is_used(tmp_path, monkeypatch):
    path = _repeated_defect_tape(tmp_path, 8)
    monkeypatch.setattr(validate, "DISTINCT_MIN_ROWS", 0)
    calls = []
    original = validate._apply_parsers

    def spy(work, planned):
        eligible = [name for name, kind, _ in planned if kind in validate._DISTINCT_KINDS]
        calls.append(sum(1 for name in eligible if work.get_column(name).n_unique() * 4 <= work.height))
        return original(work, planned)

    monkeypatch.setattr(validate, "_apply_parsers", spy)
    load_tape(path, load_profile("cn-bank"), pseudonymiser=Pseudonymiser(b"validate-test-key-0123456789"), as_of=AS_OF)
    assert calls
    assert max(calls) >= 5
