"""Vectorised parsers from source text to typed values.

Each parser takes a Polars expression over *normalised* text (see
:func:`normalise`) and returns an expression of the parsed value, null where
the text cannot be parsed. The validator compares "text present" with "value
null" to find failures, so a parser never raises on bad data and never loops
in Python over rows.

Accepted forms
--------------
date
    ``2023-05-01``, ``2023-5-1``, ``2023/5/1``, ``2023.5.1``, ``2023年5月1日``,
    ``20230501``, an Excel serial day number (5 digits, optional fraction:
    ``45047`` is 2023-05-01) and any of these followed by a time, which is
    dropped (``2023-05-01 00:00:00`` as an Excel cell reads).
datetime
    A date as above followed by ``HH:MM`` or ``HH:MM:SS`` (separator space or
    ``T``), or an Excel serial with a day fraction.
amount
    Digits with optional thousands separators, a leading ``¥``/``$`` (full-width
    forms are folded by NFKC), a trailing ``元``, ``万``/``万元`` (times 10,000)
    and accounting negatives ``(1,234.50)``.
rate
    A number; ``5.6%`` is always 0.056; a bare number is divided by 100 when
    the profile's unit is ``percent``.
bool
    是/否, Y/N, yes/no, true/false, T/F, 1/0 (case-insensitive).
"""

from __future__ import annotations

from datetime import date

import polars as pl

__all__ = [
    "normalise",
    "parse_date",
    "parse_datetime",
    "parse_amount",
    "parse_rate",
    "parse_float",
    "parse_int",
    "parse_bool",
    "TRUE_WORDS",
    "FALSE_WORDS",
    "EXCEL_EPOCH",
]

# Excel's day 0 in the 1900 date system, counting its fictitious 1900-02-29:
# serial 45047 is 2023-05-01 (serials after 1900-03-01 are exact).
EXCEL_EPOCH = date(1899, 12, 30)

TRUE_WORDS = ("是", "y", "yes", "true", "t", "1")
FALSE_WORDS = ("否", "n", "no", "false", "f", "0")

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_EXCEL_SERIAL = r"^\d{5}(\.\d+)?$"


def normalise(expr: pl.Expr, *, fold: bool = True) -> pl.Expr:
    """Strip whitespace and turn empty text into null; with ``fold``, first fold full-width forms (NFKC).

    NFKC costs about as much as all other parsing together, so the validator
    passes ``fold=False`` for columns that hold no compatibility character.
    """
    text = expr.cast(pl.String)
    if fold:
        text = text.str.normalize("NFKC")
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text).otherwise(pl.lit(None, dtype=pl.String))


def _excel_days(text: pl.Expr) -> pl.Expr:
    return text.cast(pl.Float64, strict=False)


def parse_date(text: pl.Expr) -> pl.Expr:
    """Parse normalised text to ``pl.Date`` (null when it is not a date)."""
    is_serial = text.str.contains(_EXCEL_SERIAL)
    serial = pl.lit(EXCEL_EPOCH) + pl.duration(days=_excel_days(text).floor().cast(pl.Int64))

    is_compact = text.str.contains(r"^\d{8}$")
    compact = text.str.to_date("%Y%m%d", strict=False)

    first = text.str.replace(r"[T ].*$", "")
    dashed = first.str.replace_all(r"[年月/.]", "-").str.replace(r"日$", "")
    general = (
        pl.when(dashed.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$"))
        .then(dashed.str.to_date("%Y-%m-%d", strict=False))
        .otherwise(pl.lit(None, dtype=pl.Date))
    )
    return pl.when(is_serial).then(serial.cast(pl.Date)).when(is_compact).then(compact).otherwise(general)


def parse_datetime(text: pl.Expr) -> pl.Expr:
    """Parse normalised text to ``pl.Datetime("us")`` (null when it is not one)."""
    is_serial = text.str.contains(_EXCEL_SERIAL)
    serial = pl.lit(EXCEL_EPOCH).cast(pl.Datetime("us")) + pl.duration(
        microseconds=(_excel_days(text) * 86_400_000_000).round(0).cast(pl.Int64)
    )

    date_part = text.str.extract(r"^([^T ]+)", 1)
    time_part = text.str.extract(r"^[^T ]+[T ]+(\d{1,2}:\d{2}(:\d{2})?)$", 1)
    day = parse_date(date_part)
    seconds = time_part.str.split(":").list.eval(pl.element().cast(pl.Int64, strict=False))
    offset = pl.duration(
        hours=seconds.list.get(0, null_on_oob=True),
        minutes=seconds.list.get(1, null_on_oob=True),
        seconds=seconds.list.get(2, null_on_oob=True).fill_null(0),
    )
    valid_time = (
        (seconds.list.get(0, null_on_oob=True) < 24)
        & (seconds.list.get(1, null_on_oob=True) < 60)
        & (seconds.list.get(2, null_on_oob=True).fill_null(0) < 60)
    )
    only_date = text.str.contains(r"^[^T ]+$")
    with_time = pl.when(valid_time).then(day.cast(pl.Datetime("us")) + offset)
    return (
        pl.when(is_serial)
        .then(serial)
        .when(only_date)
        .then(day.cast(pl.Datetime("us")))
        .when(time_part.is_not_null())
        .then(with_time)
        .otherwise(pl.lit(None, dtype=pl.Datetime("us")))
    )


def parse_amount(text: pl.Expr, unit: str | None = None) -> pl.Expr:
    """Parse normalised text to an amount (``Float64``) in the currency's unit.

    Parameters
    ----------
    text : pl.Expr
        Normalised text.
    unit : str or None
        ``"ten_thousand_yuan"`` multiplies by 10,000; ``"yuan"`` or None keeps
        the value.
    """
    negative = text.str.contains(r"^\(.*\)$")
    bare = text.str.replace_all(r"[(),\s¥$]|元$|^人民币|^RMB", "")
    wan = bare.str.contains(r"万$")
    digits = bare.str.replace(r"万$", "")
    value = pl.when(digits.str.contains(_NUMBER)).then(digits.cast(pl.Float64, strict=False))
    value = pl.when(wan).then(value * 10_000).otherwise(value)
    value = pl.when(negative).then(-value).otherwise(value)
    if unit == "ten_thousand_yuan":
        value = value * 10_000
    return value


def parse_float(text: pl.Expr) -> pl.Expr:
    """Parse normalised text to ``Float64``; thousands separators are allowed."""
    digits = text.str.replace_all(",", "")
    return pl.when(digits.str.contains(_NUMBER)).then(digits.cast(pl.Float64, strict=False))


def parse_rate(text: pl.Expr, unit: str | None = None) -> pl.Expr:
    """Parse normalised text to an annual fraction.

    ``5.6%`` is 0.056 whatever the unit; a bare number is divided by 100 when
    ``unit == "percent"`` and kept as a fraction otherwise.
    """
    has_percent = text.str.ends_with("%")
    value = parse_float(text.str.strip_chars_end("%").str.strip_chars())
    if unit == "percent":
        return value / 100
    return pl.when(has_percent).then(value / 100).otherwise(value)


def parse_int(text: pl.Expr) -> pl.Expr:
    """Parse normalised text to ``Int64``; ``36`` and ``36.0`` are 36, ``36.5`` is null."""
    value = parse_float(text)
    return pl.when((value == value.floor()) & (value.abs() < 2**53)).then(value.cast(pl.Int64, strict=False))


def parse_bool(text: pl.Expr) -> pl.Expr:
    """Parse normalised text to ``Boolean`` (null for any other word)."""
    lower = text.str.to_lowercase()
    return (
        pl.when(lower.is_in(TRUE_WORDS))
        .then(pl.lit(True))
        .when(lower.is_in(FALSE_WORDS))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
