"""Row exclusions: blank lines, total rows and SQL conditions over the source columns.

Excluded rows are not errors: a blank line, a 合计 (total) row at the bottom of
an export, a loan the caller's ``where`` leaves out, or a performing loan in a
tape of non-performing ones. They are counted per reason so that
``input_rows = loaded + quarantined + excluded`` holds for every table.

SQL conditions run in DuckDB over the source columns as read. A column the
condition names is typed for it when every non-empty value is a number (then
``DOUBLE``) or an ISO date ``YYYY-MM-DD`` (then ``DATE``), so both
``loan_amnt > 5000`` and ``issue_d < '2010-01-01'`` compare as a user expects;
other columns stay text, empty text being NULL.
"""

from __future__ import annotations

import re

import duckdb
import polars as pl

from sanhua.errors import SanhuaError

__all__ = ["TOTAL_WORDS", "blank_rows", "total_rows", "sql_keep"]

# Words marking a subtotal or total line in Chinese and English exports.
TOTAL_WORDS = ("合计", "总计", "小计", "total")

_TOTAL_PATTERN = r"(?i)^(合\s*计|总\s*计|小\s*计|total)"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _empty(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")


def blank_rows(frame: pl.DataFrame) -> pl.Series:
    """Return a boolean mask of rows whose every source column is empty."""
    columns = [c for c in frame.columns if c != "source_row"]
    if not columns:
        return pl.Series([False] * frame.height)
    # Cheap length test first; whitespace is stripped only on the few short rows.
    short = frame.select(pl.all_horizontal([pl.col(c).str.len_bytes().fill_null(0) <= 8 for c in columns])).to_series()
    if not short.any():
        return short
    blank = frame.filter(short).select(pl.col("source_row"), pl.all_horizontal([_empty(c) for c in columns]).alias("b"))
    rows = blank.filter(pl.col("b")).get_column("source_row")
    return frame.get_column("source_row").is_in(rows.implode())


def total_rows(frame: pl.DataFrame, id_header: str | None) -> pl.Series:
    """Return a boolean mask of total rows.

    A total row has a total word (合计, 总计, 小计, Total) in the id column, or
    an empty id and a total word in the first column.
    """
    columns = [c for c in frame.columns if c != "source_row"]
    if not columns:
        return pl.Series([False] * frame.height)
    first = pl.col(columns[0]).str.strip_chars().str.contains(_TOTAL_PATTERN).fill_null(False)
    if id_header is None or id_header not in frame.columns:
        return frame.select(first).to_series()
    in_id = pl.col(id_header).str.strip_chars().str.contains(_TOTAL_PATTERN).fill_null(False)
    return frame.select(in_id | (_empty(id_header) & first)).to_series()


def sql_keep(frame: pl.DataFrame, condition: str, *, what: str, error: type[SanhuaError]) -> pl.Series:
    """Evaluate a DuckDB SQL condition per row; NULL counts as false.

    Parameters
    ----------
    frame : pl.DataFrame
        Source columns as text plus ``source_row``.
    condition : str
        SQL boolean expression over the source headers.
    what : str
        Where the condition comes from, for messages (``--where`` or the
        profile's ``non_performing``).
    error : type
        Error class raised when the condition is not valid SQL for these columns.

    Returns
    -------
    pl.Series
        Boolean mask, true for rows that satisfy the condition.
    """
    referenced = [c for c in frame.columns if c != "source_row" and _mentions(condition, c)]
    typed = frame.select(pl.col("source_row"), *[_typed(frame, c) for c in referenced])
    con = duckdb.connect()
    try:
        con.register("src", typed.to_arrow())
        try:
            kept = con.sql(f"SELECT source_row FROM src WHERE coalesce(({condition}), false)").to_arrow_table()
        except duckdb.Error as exc:
            names = ", ".join(c for c in frame.columns if c != "source_row")[:600]
            raise error(
                f"{what} condition {condition!r} is not valid for this file: {str(exc).splitlines()[0]}; "
                f"quote non-ASCII headers with double quotes; columns: {names}"
            ) from exc
    finally:
        con.close()
    rows = pl.Series(kept.column(0)).cast(pl.Int64)
    return frame.get_column("source_row").is_in(rows.implode()) if rows.len() else pl.Series([False] * frame.height)


def undecidable(frame: pl.DataFrame, condition: str) -> pl.Series:
    """Return a mask of the rows on which every column ``condition`` mentions is empty.

    Such a row (a line cut short, say) cannot be judged by the condition, so
    it must not be excluded by it: validation then quarantines it with the
    missing columns named.
    """
    referenced = [c for c in frame.columns if c != "source_row" and _mentions(condition, c)]
    if not referenced:
        return pl.Series("undecidable", [False] * frame.height, dtype=pl.Boolean)
    return frame.select(pl.all_horizontal([_empty(c) for c in referenced]).alias("undecidable"))["undecidable"]


def _mentions(condition: str, column: str) -> bool:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
        return re.search(rf"(?<![A-Za-z0-9_]){re.escape(column)}(?![A-Za-z0-9_])", condition, re.IGNORECASE) is not None
    return column in condition


def _typed(frame: pl.DataFrame, column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    text = pl.when(text != "").then(text)
    values = frame.select(text.alias("v")).to_series().drop_nulls()
    if values.len() and values.str.contains(_NUMBER).all():
        return text.cast(pl.Float64).alias(column)
    if values.len() and values.str.contains(_ISO_DATE).all():
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        if frame.select(parsed.is_null().sum()).item() == frame.select(text.is_null().sum()).item():
            return parsed.alias(column)
    return text.alias(column)
