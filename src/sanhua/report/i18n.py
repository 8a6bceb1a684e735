"""Message catalogues (zh-CN and English) and locale-aware number formatting.

Every user-facing string of the report and the CLI comes from one of the two
catalogues in ``sanhua/report/locales/``: ``zh-CN.toml`` and ``en.toml``.

Catalogue format
----------------
Each file is TOML. Tables group the messages and a message's key is its dotted
path: ``[stage]`` with ``read = "读取数据"`` defines the key ``stage.read``.
Values are Python format strings whose fields (``{input_rows}``) are filled by
:func:`translate`. Both files hold the same keys with the same fields, which
the test suite checks. To add a message, add the key to both files.

Languages
---------
Two languages are supported, named by their BCP 47 tags ``zh-CN`` and ``en``.
:func:`resolve_language` accepts the usual spellings (``zh``, ``zh_CN``,
``zh-Hans``, ``en_US.UTF-8``...) and falls back on ``SANHUA_LANG``, then on
``zh-CN``.

Numbers, money, percentages and dates are formatted with Babel (CLDR data):
``zh-CN`` uses the ``zh_Hans_CN`` locale and ``en`` the ``en`` locale (US
conventions).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from babel.numbers import format_currency as _babel_currency
from babel.numbers import format_decimal as _babel_decimal
from babel.numbers import format_percent as _babel_percent
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime

from sanhua.errors import ConfigError

__all__ = [
    "Language",
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "ENV_VAR",
    "MISSING",
    "resolve_language",
    "normalise_language",
    "translate",
    "translate_code",
    "has_message",
    "catalogue",
    "placeholders",
    "babel_locale",
    "format_count",
    "format_number",
    "format_decimal",
    "format_percent",
    "format_money",
    "format_seconds",
    "format_date",
    "format_datetime",
]

logger = logging.getLogger(__name__)

Language = Literal["zh-CN", "en"]

LANGUAGES: Final[tuple[Language, ...]] = ("zh-CN", "en")
"""Supported languages, in the order the report shows them."""

DEFAULT_LANGUAGE: Final[Language] = "zh-CN"
"""Language used when neither an explicit value nor ``SANHUA_LANG`` is given."""

ENV_VAR: Final[str] = "SANHUA_LANG"
"""Environment variable that sets the language when no explicit value is given."""

MISSING: Final[str] = "—"
"""Text shown in place of a missing value (null, NaN) in every language."""

LOCALES_DIR: Final[Path] = Path(__file__).resolve().parent / "locales"

_BABEL_LOCALES: Final[dict[Language, str]] = {"zh-CN": "zh_Hans_CN", "en": "en"}

# Accepted spellings, compared after lower-casing, dropping a POSIX encoding
# suffix (".UTF-8") or modifier ("@euro") and turning "_" into "-".
_ALIASES: Final[dict[str, Language]] = {
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "cn": "zh-CN",
    "chinese": "zh-CN",
    "中文": "zh-CN",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "en-au": "en",
    "en-ca": "en",
    "en-hk": "en",
    "en-sg": "en",
    "english": "en",
}


def normalise_language(value: str) -> Language:
    """Map a spelling of a supported language to its canonical tag.

    Parameters
    ----------
    value : str
        A language tag or POSIX locale name, for example ``"zh"``,
        ``"zh_CN.UTF-8"``, ``"en-US"``.

    Returns
    -------
    {"zh-CN", "en"}
        The canonical tag.

    Raises
    ------
    ConfigError
        The value names no supported language; the message lists the
        accepted values.
    """
    key = value.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower()
    language = _ALIASES.get(key)
    if language is None:
        raise ConfigError(
            f"Invalid language {value!r}. Allowed: zh-CN (also zh, zh_CN, zh-Hans) or en "
            "(also en_US, en-GB). Pass one of them with --lang or set SANHUA_LANG."
        )
    return language


def resolve_language(value: str | None = None) -> Language:
    """Choose the language of messages and reports.

    The explicit ``value`` wins; when it is None or blank, the ``SANHUA_LANG``
    environment variable is used; when that is unset or blank, ``zh-CN``.

    Parameters
    ----------
    value : str or None
        Language requested by the caller (for example the CLI's ``--lang``).

    Returns
    -------
    {"zh-CN", "en"}
        The canonical language tag.

    Raises
    ------
    ConfigError
        The value, or ``SANHUA_LANG`` when it is used, names no supported
        language.

    Examples
    --------
    >>> resolve_language("zh_CN")
    'zh-CN'
    >>> resolve_language("en_US.UTF-8")
    'en'
    """
    if value is not None and value.strip():
        return normalise_language(value)

    from_env = os.environ.get(ENV_VAR, "")
    if from_env.strip():
        try:
            return normalise_language(from_env)
        except ConfigError as error:
            raise ConfigError(f"Environment variable {ENV_VAR}: {error}") from None

    return DEFAULT_LANGUAGE


def _flatten(table: Mapping[str, Any], prefix: str, path: Path, out: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            _flatten(value, f"{key}.", path, out)
        elif isinstance(value, str):
            out[key] = value
        else:
            raise ConfigError(
                f"Message catalogue {path}: key {key!r} holds a {type(value).__name__}, "
                "expected a string. Quote the message text."
            )


@lru_cache(maxsize=None)
def _load(language: Language) -> dict[str, str]:
    path = LOCALES_DIR / f"{language}.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"Message catalogue {path} not found. Reinstall sanhua so that its package data is present."
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Message catalogue {path} is not valid TOML: {error}. Fix the file.") from None

    messages: dict[str, str] = {}
    _flatten(data, "", path, messages)
    logger.debug("Loaded %d messages for %s from %s", len(messages), language, path)
    return messages


def catalogue(language: str) -> Mapping[str, str]:
    """Return every message of one language, keyed by dotted key.

    Parameters
    ----------
    language : str
        Any spelling accepted by :func:`normalise_language`.

    Returns
    -------
    Mapping[str, str]
        Read-only view of key to format string.
    """
    return MappingProxyType(_load(normalise_language(language)))


def placeholders(template: str) -> set[str]:
    """Return the names of the format fields in a message.

    >>> sorted(placeholders("{scored} of {input_rows}"))
    ['input_rows', 'scored']
    """
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def has_message(key: str, language: str) -> bool:
    """Tell whether ``key`` exists in the catalogue of ``language``."""
    return key in _load(normalise_language(language))


def translate(key: str, language: str, **fields: object) -> str:
    """Return the message ``key`` in ``language`` with its fields filled.

    Parameters
    ----------
    key : str
        Dotted message key, for example ``"cli.summary"``.
    language : str
        Any spelling accepted by :func:`normalise_language`.
    **fields
        Values of the message's format fields. Fields the message does not
        use are ignored, so one set of fields can serve both languages.

    Returns
    -------
    str
        The message text.

    Raises
    ------
    KeyError
        The key is not in the catalogue, or a field the message needs is not
        given. The message names the key, the language and the field.
    ConfigError
        The language is not supported.

    Examples
    --------
    >>> translate("cli.summary", "en", input_rows=10, scored=7, quarantined=2, excluded=1)
    '10 rows read: 7 scored, 2 quarantined, 1 excluded'
    """
    canonical = normalise_language(language)
    messages = _load(canonical)
    try:
        template = messages[key]
    except KeyError:
        raise KeyError(
            f"Message key {key!r} is not in the {canonical} catalogue ({LOCALES_DIR / (canonical + '.toml')}). "
            "Add it to every file in that folder."
        ) from None

    try:
        return template.format_map(fields)
    except KeyError as error:
        raise KeyError(
            f"Message {key!r} ({canonical}) needs the field {error.args[0]!r}; "
            f"given: {sorted(fields) or 'none'}."
        ) from None


def translate_code(prefix: str, code: str, language: str) -> str:
    """Return the label of a code (category, action, reason code), or the code itself.

    Codes come from settings that users can extend (actions, reason codes), so
    a code with no message under ``prefix`` is shown as it is instead of
    failing the report.

    Parameters
    ----------
    prefix : str
        Catalogue table, for example ``"action"``.
    code : str
        The code, for example ``"bulk_transfer"``.
    language : str
        Any spelling accepted by :func:`normalise_language`.
    """
    key = f"{prefix}.{code}"
    if has_message(key, language):
        return translate(key, language)
    return code


def babel_locale(language: str) -> str:
    """Return the Babel locale identifier used to format numbers in ``language``."""
    return _BABEL_LOCALES[normalise_language(language)]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_count(value: int | float | None, language: str) -> str:
    """Format a count with the locale's grouping, no decimals (``1,234,567``)."""
    if _is_missing(value):
        return MISSING
    return _babel_decimal(round(float(value)), format="#,##0", locale=babel_locale(language))


def _format_with_pattern(value: float | None, language: str, decimals: int, digit: str) -> str:
    # digit "0" keeps exactly `decimals` decimals; "#" keeps at most that many.
    if _is_missing(value):
        return MISSING
    if math.isinf(float(value)):
        return "∞" if float(value) > 0 else "-∞"
    pattern = "#,##0" + ("." + digit * decimals if decimals > 0 else "")
    return _babel_decimal(float(value), format=pattern, locale=babel_locale(language))


def format_number(value: float | None, language: str, decimals: int = 2) -> str:
    """Format a plain number with grouping and exactly ``decimals`` decimals."""
    return _format_with_pattern(value, language, decimals, "0")


def format_decimal(value: float | None, language: str, max_decimals: int = 4) -> str:
    """Format a number with grouping and at most ``max_decimals`` decimals, trailing zeros dropped.

    >>> format_decimal(12.0, "en"), format_decimal(0.08, "en")
    ('12', '0.08')
    """
    return _format_with_pattern(value, language, max_decimals, "#")


def format_percent(value: float | None, language: str, decimals: int = 1) -> str:
    """Format a fraction as a percentage: 0.1234 -> ``12.3%``.

    Parameters
    ----------
    value : float or None
        A fraction (0.5 is 50 %).
    decimals : int
        Decimals of the percentage.
    """
    if _is_missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    return _babel_percent(float(value), format=pattern, locale=babel_locale(language))


def format_money(value: float | None, currency: str, language: str, decimals: int = 2) -> str:
    """Format an amount with its currency symbol: ``¥1,234.50`` (zh-CN), ``CN¥1,234.50`` (en).

    Parameters
    ----------
    value : float or None
        Amount in ``currency`` (units, not thousands).
    currency : str
        ISO 4217 code, for example ``"CNY"``.
    decimals : int
        Decimals shown (2 for cents, 0 for whole units).
    """
    if _is_missing(value):
        return MISSING
    pattern = "¤#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return _babel_currency(
        float(value),
        currency,
        format=pattern,
        currency_digits=False,
        locale=babel_locale(language),
    )


def format_seconds(value: float | None, language: str) -> str:
    """Format a duration in seconds with its unit: ``12.3 秒`` / ``12.3 s``."""
    if _is_missing(value):
        return MISSING
    number = format_number(float(value), language, decimals=1 if value < 100 else 0)
    return f"{number} 秒" if normalise_language(language) == "zh-CN" else f"{number} s"


def _as_datetime(value: object) -> dt.date | dt.datetime | None:
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def format_date(value: object, language: str) -> str:
    """Format a date (``date``, ``datetime`` or ISO text): ``2026年3月1日`` / ``Mar 1, 2026``.

    Text that is not an ISO date is shown as it is.
    """
    parsed = _as_datetime(value)
    if parsed is None:
        return MISSING if _is_missing(value) or value == "" else str(value)
    if isinstance(parsed, dt.datetime):
        parsed = parsed.date()
    return _babel_date(parsed, format="medium", locale=babel_locale(language))


def format_datetime(value: object, language: str) -> str:
    """Format a timestamp (``datetime`` or ISO text) to the second, keeping its UTC offset.

    Text that is not an ISO timestamp is shown as it is.
    """
    parsed = _as_datetime(value)
    if parsed is None:
        return MISSING if _is_missing(value) or value == "" else str(value)
    if not isinstance(parsed, dt.datetime):
        return format_date(parsed, language)
    text = _babel_datetime(parsed.replace(tzinfo=None), format="medium", locale=babel_locale(language))
    offset = parsed.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        text += f" UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text
