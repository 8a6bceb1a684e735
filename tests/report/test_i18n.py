"""Tests of the message catalogues and locale formatting."""

from __future__ import annotations

import pytest

from sanhua.errors import ConfigError
from sanhua.report import i18n


def test_catalogues_have_same_keys() -> None:
    zh = i18n.catalogue("zh-CN")
    en = i18n.catalogue("en")

    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


def test_catalogues_have_same_placeholders() -> None:
    zh = i18n.catalogue("zh-CN")
    en = i18n.catalogue("en")

    mismatched = {key: (i18n.placeholders(zh[key]), i18n.placeholders(en[key])) for key in zh if i18n.placeholders(zh[key]) != i18n.placeholders(en[key])}

    assert mismatched == {}


def test_catalogue_has_no_empty_message() -> None:
    for language in i18n.LANGUAGES:
        empty = [key for key, text in i18n.catalogue(language).items() if not text.strip()]
        assert empty == [], language


@pytest.mark.parametrize(
    "key",
    [
        "stage.read",
        "stage.validate",
        "stage.pseudonymise",
        "stage.features",
        "stage.score",
        "stage.segment",
        "stage.value",
        "stage.report",
        "cli.summary",
        "cli.run_finished",
        "cli.fit_finished",
        "cli.error_prefix",
    ],
)
def test_cli_messages_exist(key: str) -> None:
    for language in i18n.LANGUAGES:
        assert i18n.has_message(key, language)


def test_stage_names_in_both_languages() -> None:
    expected_zh = {
        "read": "读取数据",
        "validate": "校验",
        "pseudonymise": "去标识化",
        "features": "特征",
        "score": "评分",
        "segment": "分类",
        "value": "估值",
        "report": "报告",
    }

    for stage, label in expected_zh.items():
        assert i18n.translate(f"stage.{stage}", "zh-CN") == label
    assert i18n.translate("stage.read", "en") == "reading tape"


def test_summary_line_filled() -> None:
    fields = {"input_rows": 10, "scored": 7, "quarantined": 2, "excluded": 1}

    assert i18n.translate("cli.summary", "en", **fields) == "10 rows read: 7 scored, 2 quarantined, 1 excluded"
    assert i18n.translate("cli.summary", "zh-CN", **fields) == "读取 10 行：评分 7 行，隔离 2 行，排除 1 行"


def test_translate_unknown_key_names_it() -> None:
    with pytest.raises(KeyError, match="no.such.key"):
        i18n.translate("no.such.key", "en")


def test_translate_missing_field_names_it() -> None:
    with pytest.raises(KeyError, match="scored"):
        i18n.translate("cli.summary", "en", input_rows=1, quarantined=0, excluded=0)


def test_translate_ignores_extra_fields() -> None:
    assert i18n.translate("stage.read", "en", unused=1) == "reading tape"


def test_translate_code_falls_back_to_code() -> None:
    assert i18n.translate_code("action", "transfer", "zh-CN") == "批量转让"
    assert i18n.translate_code("action", "brand_new_action", "zh-CN") == "brand_new_action"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zh", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("zh_CN.UTF-8", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("en", "en"),
        ("en_US", "en"),
        ("en-US", "en"),
        ("en_GB.UTF-8", "en"),
    ],
)
def test_resolve_language_aliases(value: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)

    assert i18n.resolve_language(value) == expected


def test_resolve_language_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    assert i18n.resolve_language(None) == "zh-CN"

    monkeypatch.setenv(i18n.ENV_VAR, "en_US")
    assert i18n.resolve_language(None) == "en"
    assert i18n.resolve_language("") == "en"
    assert i18n.resolve_language("zh") == "zh-CN"

    monkeypatch.setenv(i18n.ENV_VAR, "  ")
    assert i18n.resolve_language(None) == "zh-CN"


def test_resolve_language_invalid_lists_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)

    with pytest.raises(ConfigError, match="'fr'.*zh-CN.*en"):
        i18n.resolve_language("fr")


def test_resolve_language_invalid_env_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(i18n.ENV_VAR, "de_DE")

    with pytest.raises(ConfigError, match="SANHUA_LANG.*'de_DE'"):
        i18n.resolve_language(None)


def test_format_money_per_locale() -> None:
    # Expected strings follow CLDR as shipped with Babel 2.19: the zh_Hans_CN
    # symbol of CNY is "¥", the en symbol is "CN¥".
    assert i18n.format_money(1234567.5, "CNY", "zh-CN") == "¥1,234,567.50"
    assert i18n.format_money(1234567.5, "CNY", "en") == "CN¥1,234,567.50"
    assert i18n.format_money(12, "USD", "en", decimals=0) == "$12"
    assert i18n.format_money(None, "CNY", "en") == i18n.MISSING


def test_format_numbers_per_locale() -> None:
    assert i18n.format_count(1_000_000, "zh-CN") == "1,000,000"
    assert i18n.format_percent(0.1234, "en") == "12.3%"
    assert i18n.format_percent(float("nan"), "en") == i18n.MISSING
    assert i18n.format_number(0.12345, "en", decimals=3) == "0.123"
    assert i18n.format_seconds(12.34, "zh-CN") == "12.3 秒"
    assert i18n.format_seconds(12.34, "en") == "12.3 s"


def test_format_dates_per_locale() -> None:
    assert i18n.format_date("2026-03-01", "zh-CN") == "2026年3月1日"
    assert i18n.format_date("2026-03-01", "en") == "Mar 1, 2026"
    assert i18n.format_datetime("2026-03-01T08:05:00+08:00", "en").endswith("UTC+08:00")
    assert i18n.format_date("not a date", "en") == "not a date"


def test_tape_codes_have_labels() -> None:
    reasons = pytest.importorskip("sanhua.tape.reasons")

    codes = [("reason_code", item.value) for item in (*reasons.Reason, *reasons.Exclusion)]
    codes += [("flag", item.value) for item in reasons.Flag]

    for language in i18n.LANGUAGES:
        unlabelled = [code for prefix, code in codes if not i18n.has_message(f"{prefix}.{code}", language)]
        assert unlabelled == [], language


def test_strategy_actions_have_labels() -> None:
    settings = pytest.importorskip("sanhua.strategy.settings")

    for language in i18n.LANGUAGES:
        unlabelled = [action for action in settings.ACTIONS if not i18n.has_message(f"action.{action}", language)]
        assert unlabelled == [], language


def test_format_decimal_drops_trailing_zeros() -> None:
    assert i18n.format_decimal(12.0, "en") == "12"
    assert i18n.format_decimal(0.08, "zh-CN") == "0.08"
    assert i18n.format_decimal(1234.56789, "en") == "1,234.5679"
    assert i18n.format_decimal(float("inf"), "en") == "∞"
    assert i18n.format_decimal(None, "en") == i18n.MISSING
