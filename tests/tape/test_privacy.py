"""Pseudonymiser: keyed hash against the RFC 2104 reference, masking rules, key handling."""

from __future__ import annotations

import logging

import polars as pl
import pytest

from sanhua.errors import PrivacyError
from sanhua.tape.privacy import DEMO_KEY, KEY_ENV, MaskingSettings, MaskRule, Pseudonymiser, hmac_sha256_hex

KEY = b"test-key-0123456789abcdef"


def test_hash_matches_hmac_reference():
    values = ["110105199003071234", "张三", "13812345678", "a@b.cn", "", "x" * 200]
    hashed = Pseudonymiser(KEY).hash(pl.Series(values)).to_list()
    assert hashed == [hmac_sha256_hex(KEY, v) for v in values]


def test_hash_long_key_follows_rfc2104():
    key = b"k" * 100  # longer than the SHA-256 block: hashed first
    assert Pseudonymiser(key).hash(pl.Series(["v"])).item() == hmac_sha256_hex(key, "v")


def test_hash_is_deterministic_and_keyed():
    series = pl.Series(["a", "b", "a"])
    first = Pseudonymiser(KEY).hash(series).to_list()
    assert first == Pseudonymiser(KEY).hash(series).to_list()
    assert first[0] == first[2]
    assert first[0] != first[1]
    other = Pseudonymiser(KEY + b"!").hash(series).to_list()
    assert set(first).isdisjoint(other)


def test_hash_nulls_stay_null_and_order_kept():
    series = pl.Series("id", [None, "b", None, "a"], dtype=pl.String)
    hashed = Pseudonymiser(KEY).hash(series)
    assert hashed.name == "id"
    assert hashed.to_list() == [None, hmac_sha256_hex(KEY, "b"), None, hmac_sha256_hex(KEY, "a")]


def test_hash_distinct_values_with_a_null():
    values = [f"6222{i:012d}" for i in range(12)]
    series = pl.Series("card", [*values[:5], None, *values[5:]], dtype=pl.String)
    hashed = Pseudonymiser(KEY).hash(series)
    assert hashed.name == "card"
    assert hashed.to_list() == [None if v is None else hmac_sha256_hex(KEY, v) for v in series.to_list()]


def test_hash_computed_once_per_distinct_value(monkeypatch):
    pseudonymiser = Pseudonymiser(KEY)
    seen: list[int] = []
    original = pseudonymiser._digest

    def spy(distinct: pl.Series) -> pl.DataFrame:
        seen.append(distinct.len())
        return original(distinct)

    monkeypatch.setattr(pseudonymiser, "_digest", spy)
    series = pl.Series(["a", "b", "a", None, "b", "c"] * 1000)
    hashed = pseudonymiser.hash(series)
    assert seen == [3]
    assert hashed.len() == series.len()


def test_hash_empty_series():
    assert Pseudonymiser(KEY).hash(pl.Series([], dtype=pl.String)).len() == 0


def test_key_id_is_stable_and_not_the_key():
    first = Pseudonymiser(KEY).key_id
    assert first == Pseudonymiser(KEY).key_id
    assert first != Pseudonymiser(KEY + b"x").key_id
    assert KEY.hex() not in first
    assert len(first) == 16


def test_short_key_rejected():
    with pytest.raises(PrivacyError, match="at least 16 bytes"):
        Pseudonymiser(b"short")


def test_from_environment_prefers_env(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "env-key-0123456789abcdef")
    assert Pseudonymiser.from_environment(config_key="config-key-0123456789").key_id == Pseudonymiser(b"env-key-0123456789abcdef").key_id


def test_from_environment_config_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert Pseudonymiser.from_environment(config_key="config-key-0123456789").key_id == Pseudonymiser(b"config-key-0123456789").key_id


def test_from_environment_demo_warns(monkeypatch, caplog):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with caplog.at_level(logging.WARNING):
        pseudonymiser = Pseudonymiser.from_environment(demo=True)
    assert pseudonymiser.key_id == Pseudonymiser(DEMO_KEY).key_id
    assert "demo pseudonym key" in caplog.text


def test_from_environment_without_key_says_how(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PrivacyError, match=KEY_ENV):
        Pseudonymiser.from_environment()


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("id_number", "110105199003071234", "110105********1234"),
        ("id_number", "110105900307123", "110105*****7123"),
        ("phone", "13812345678", "138****5678"),
        ("card", "6222020200112233445", "622202*********3445"),
        ("name", "张三", "张*"),
        ("name", "欧阳明", "欧**"),
        ("email", "wangli@bank.cn", "w*****@bank.cn"),
        ("address", "广东省深圳市南山区科技园路1号", "广东省深圳市******"),
        ("free_text", "客户称近期失业，电话13812345678", "******"),
        ("customer_id", "C0001234", "****1234"),
        ("phone", "123", "***"),
    ],
)
def test_mask_defaults(kind, value, masked):
    assert Pseudonymiser(KEY).mask(pl.Series([value]), kind).item() == masked


def test_mask_settings_are_settable():
    settings = MaskingSettings(phone=MaskRule(keep_first=3, keep_last=2, mask_char="#"))
    assert Pseudonymiser(KEY, settings).mask(pl.Series(["13812345678"]), "phone").item() == "138######78"


def test_mask_keeps_nulls():
    assert Pseudonymiser(KEY).mask(pl.Series([None, "13812345678"], dtype=pl.String), "phone").to_list() == [None, "138****5678"]
