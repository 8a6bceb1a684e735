"""Batch HMAC: the split across helper processes returns the reference digests in order."""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys

import pytest

from sanhua.tape import hmac_batch
from sanhua.tape.privacy import Pseudonymiser

KEY = b"test-key-0123456789abcdef"


def _pads() -> tuple[bytes, bytes]:
    pseudonymiser = Pseudonymiser(KEY)
    return pseudonymiser._ipad, pseudonymiser._opad


def _reference(values: list[bytes]) -> bytes:
    return b"".join(hmac.digest(KEY, v, hashlib.sha256) for v in values)


def _values(n: int) -> list[bytes]:
    return [f"1101051990{i:08d}".encode() for i in range(n)] + ["张三".encode(), b""]


def test_batch_matches_hmac():
    values = _values(50)
    assert hmac_batch.hmac_sha256_batch(*_pads(), values) == _reference(values)


@pytest.fixture
def three_cores(monkeypatch):
    monkeypatch.setattr(hmac_batch, "PARALLEL_MIN_VALUES", 10)
    monkeypatch.setattr(hmac_batch, "_available_cores", lambda: 3)


@pytest.mark.usefixtures("three_cores")
def test_parallel_matches_hmac_in_order():
    values = _values(101)
    assert hmac_batch.hmac_sha256_parallel(*_pads(), values) == _reference(values)


@pytest.mark.usefixtures("three_cores")
def test_parallel_falls_back_when_helper_fails(monkeypatch, caplog):
    monkeypatch.setattr(hmac_batch, "_helper_command", lambda: [sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.exit(3)"])
    values = _values(60)
    with caplog.at_level(logging.WARNING, logger="sanhua.tape.hmac_batch"):
        result = hmac_batch.hmac_sha256_parallel(*_pads(), values)
    assert result == _reference(values)
    assert "hashing helper failed (exit code 3" in caplog.text
