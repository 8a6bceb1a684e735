"""Tests of the settings file reader."""

from __future__ import annotations

import pytest

from sanhua.config import Settings, load_settings
from sanhua.errors import ConfigError
from sanhua.pipeline import _assess_settings
from sanhua.tape.profile import load_profile


def test_example_file_overrides_defaults(tmp_path):
    path = tmp_path / "bank.toml"
    path.write_text(
        "[segment]\nwilling_high = 0.6\n\n[strategy]\ndiscount_rate = 0.06\n\n[assess.targets]\nability_share = 0.15\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.segment.willing_high == 0.6
    assert settings.strategy.discount_rate == 0.06
    assert settings.assess.targets.ability_share == 0.15
    assert settings.backtest.cap == Settings().backtest.cap


def test_unknown_key_names_the_setting(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[segment]\nwilling_hi = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"segment\.willing_hi"):
        load_settings(path)


def test_missing_file_rejected(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_not_toml_rejected(tmp_path):
    path = tmp_path / "bank.toml"
    path.write_text("[segment\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid UTF-8 TOML"):
        load_settings(path)


def test_pseudonym_key_never_dumped(tmp_path):
    path = tmp_path / "bank.toml"
    path.write_text('[privacy]\npseudonym_key = "a-very-secret-key-123456"\n', encoding="utf-8")
    dumped = str(load_settings(path).public_dump())
    assert "a-very-secret-key-123456" not in dumped
    assert "(set)" in dumped


def test_profile_targets_apply_unless_configured(tmp_path):
    profile = load_profile("cn-bank")
    assert _assess_settings(Settings(), profile).targets.willingness == "engaged"
    path = tmp_path / "bank.toml"
    path.write_text('[assess.targets]\nwillingness = "engaged_or_above_median"\n', encoding="utf-8")
    assert _assess_settings(load_settings(path), profile).targets.willingness == "engaged_or_above_median"
