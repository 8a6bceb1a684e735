"""Parsers: tables of source forms and the values they must give."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from sanhua.tape import parsers


def _run(expr_of, values: list[str | None]) -> list:
    frame = pl.DataFrame({"t": values}, schema={"t": pl.String})
    return frame.select(expr_of(parsers.normalise(pl.col("t")))).to_series().to_list()


DATES = [
    ("2023-05-01", date(2023, 5, 1)),
    ("2023-5-1", date(2023, 5, 1)),
    ("2023/5/1", date(2023, 5, 1)),
    ("2023.5.1", date(2023, 5, 1)),
    ("2023年5月1日", date(2023, 5, 1)),
    ("２０２３年５月１日", date(2023, 5, 1)),
    ("２０２３－０５－０１", date(2023, 5, 1)),
    ("20230501", date(2023, 5, 1)),
    ("45047", date(2023, 5, 1)),  # Excel serial day
    ("45047.75", date(2023, 5, 1)),
    ("2023-05-01 00:00:00", date(2023, 5, 1)),
    (" 2023-05-01 ", date(2023, 5, 1)),
    ("2023-02-30", None),
    ("2023-13-01", None),
    ("20231301", None),
    ("五月一日", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_parse_date(text, expected):
    assert _run(parsers.parse_date, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-01 14:30:05", datetime(2023, 5, 1, 14, 30, 5)),
        ("2023/5/1 9:05", datetime(2023, 5, 1, 9, 5)),
        ("2023-05-01T14:30:00", datetime(2023, 5, 1, 14, 30)),
        ("2023年5月1日", datetime(2023, 5, 1)),
        ("45047.5", datetime(2023, 5, 1, 12, 0)),
        ("2023-05-01 25:00", None),
        ("tomorrow", None),
    ],
)
def test_parse_datetime(text, expected):
    assert _run(parsers.parse_datetime, [text]) == [expected]


AMOUNTS = [
    ("1234.5", 1234.5),
    ("1,234.50", 1234.5),
    ("1,234.50元", 1234.5),
    ("¥1,234", 1234.0),
    ("￥1,234", 1234.0),
    ("１２３４５", 12345.0),
    ("１，２３４．５０元", 1234.5),
    ("1.2万", 12000.0),
    ("(1,234.50)", -1234.5),
    ("-5", -5.0),
    ("1e3", 1000.0),
    ("约五千元", None),
    ("nan", None),
    ("inf", None),
    ("1.2.3", None),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS)
def test_parse_amount(text, expected):
    assert _run(parsers.parse_amount, [text]) == [expected]


def test_parse_amount_ten_thousand_yuan():
    assert _run(lambda t: parsers.parse_amount(t, "ten_thousand_yuan"), ["1.5"]) == [15000.0]


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("5.6%", None, 0.056),
        ("5.6%", "percent", 0.056),
        ("５．６％", "fraction", 0.056),
        ("5.6", "percent", 0.056),
        ("0.056", "fraction", 0.056),
        ("0.056", None, 0.056),
        ("abc", "percent", None),
    ],
)
def test_parse_rate(text, unit, expected):
    result = _run(lambda t: parsers.parse_rate(t, unit), [text])[0]
    assert result == pytest.approx(expected) if expected is not None else result is None


@pytest.mark.parametrize(
    ("text", "expected"), [("36", 36), ("36.0", 36), ("1,200", 1200), ("３６", 36), ("36.5", None), ("x", None)]
)
def test_parse_int(text, expected):
    assert _run(parsers.parse_int, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("maybe", None),
    ],
)
def test_parse_bool(text, expected):
    assert _run(parsers.parse_bool, [text]) == [expected]


def test_normalise_folds_and_strips():
    assert _run(lambda t: t, ["　ＡＢＣ１２３　", "  ", None]) == ["ABC123", None, None]


def test_normalise_without_fold_keeps_width():
    frame = pl.DataFrame({"t": ["ＡＢ "]})
    assert frame.select(parsers.normalise(pl.col("t"), fold=False)).item() == "ＡＢ"
