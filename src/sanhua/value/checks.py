"""Input checks on the per-loan frames that the segment, value and strategy stages take.

Each check raises :class:`InputDataError` with the stage, the column, how many
rows fail, one example loan id and what to do. The canonical schema does not mark loan ids
as personal columns, so an example id may appear in a message.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from sanhua.errors import InputDataError

__all__ = [
    "InputDataError",
    "require_columns",
    "check_no_nulls",
    "check_unit_interval",
    "check_non_negative",
    "check_codes",
    "fill_false",
]


def require_columns(frame: pl.DataFrame, columns: Iterable[str], stage: str) -> None:
    """Raise when ``frame`` lacks any of ``columns``."""
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputDataError(
            f"{stage}: input frame is missing column(s) {missing}; it has {frame.columns}. "
            "Add the missing columns (see the stage's docstring for their meaning and units)."
        )


def _example_id(frame: pl.DataFrame, mask: pl.Expr) -> str:
    if "loan_id" not in frame.columns:
        return "<no loan_id column>"
    example = frame.filter(mask).select(pl.col("loan_id").cast(pl.Utf8)).head(1)
    return str(example.item()) if example.height else "<none>"


def _raise_if_any(frame: pl.DataFrame, mask: pl.Expr, stage: str, column: str, problem: str, fix: str) -> None:
    count = frame.select(mask.sum()).item()
    if count:
        example = _example_id(frame, mask)
        raise InputDataError(
            f"{stage}: column {column!r} {problem} in {count} of {frame.height} row(s), "
            f"for example loan_id {example!r}. {fix}"
        )


def check_no_nulls(frame: pl.DataFrame, columns: Iterable[str], stage: str) -> None:
    """Raise when any of ``columns`` contains a null (or a NaN for float columns)."""
    for name in columns:
        mask = pl.col(name).is_null()
        if frame.schema[name].is_float():
            mask = mask | pl.col(name).is_nan()
        _raise_if_any(frame, mask, stage, name, "is null or NaN", "Fill or drop these rows before this stage.")


def check_unit_interval(frame: pl.DataFrame, columns: Iterable[str], stage: str) -> None:
    """Raise when any of ``columns`` is not numeric, is null or NaN, or lies outside [0, 1]."""
    for name in columns:
        if not frame.schema[name].is_numeric():
            raise InputDataError(
                f"{stage}: column {name!r} must be numeric in [0, 1], got type {frame.schema[name]}. "
                "Cast it to Float64."
            )

    check_no_nulls(frame, columns, stage)

    for name in columns:
        mask = (pl.col(name) < 0) | (pl.col(name) > 1)
        _raise_if_any(
            frame, mask, stage, name, "lies outside [0, 1]", "Scores and rates are fractions: rescale percentages by 1/100."
        )


def check_non_negative(frame: pl.DataFrame, columns: Iterable[str], stage: str, *, allow_null: bool = False) -> None:
    """Raise when any of ``columns`` is not numeric, is negative or NaN, or null unless ``allow_null``."""
    for name in columns:
        if not frame.schema[name].is_numeric():
            raise InputDataError(
                f"{stage}: column {name!r} must be a non-negative number, got type {frame.schema[name]}. "
                "Cast it to Float64."
            )

        if not allow_null:
            check_no_nulls(frame, [name], stage)
        elif frame.schema[name].is_float():
            _raise_if_any(frame, pl.col(name).is_nan(), stage, name, "is NaN", "Use null for an unknown amount.")

        _raise_if_any(frame, pl.col(name) < 0, stage, name, "is negative", "Amounts and counts cannot be negative.")


def check_codes(
    frame: pl.DataFrame,
    column: str,
    allowed: Iterable[str],
    stage: str,
    *,
    allow_null: bool = True,
    fix: str = "Map the source codes to the canonical codes.",
) -> None:
    """Raise when ``column`` holds a value outside ``allowed`` (nulls pass when ``allow_null``)."""
    allowed = list(allowed)
    mask = ~pl.col(column).is_in(allowed)
    mask = mask & pl.col(column).is_not_null() if allow_null else mask | pl.col(column).is_null()
    count = frame.select(mask.sum()).item()
    if count:
        values = frame.filter(mask).select(pl.col(column)).unique().head(5).to_series().to_list()
        _raise_if_any(frame, mask, stage, column, f"contains values {values} outside {allowed}", fix)


def fill_false(frame: pl.DataFrame, columns: Iterable[str], stage: str) -> pl.DataFrame:
    """Return ``frame`` with the boolean ``columns`` null-filled with False; raise on a non-boolean type."""
    for name in columns:
        if frame.schema[name] != pl.Boolean and frame.schema[name] != pl.Null:
            raise InputDataError(
                f"{stage}: column {name!r} must be Boolean (true/false, null = false), got type {frame.schema[name]}. "
                "Cast it to Boolean."
            )

    return frame.with_columns([pl.col(name).cast(pl.Boolean).fill_null(False) for name in columns])


def bin_left_closed(values: pl.Expr, edges: list[float], labels: list[str]) -> pl.Expr:
    """Label each value with its bin ``[edge_i, edge_i+1)``; ``labels`` has one more entry than ``edges``.

    Polars 2 deprecates ``Expr.cut`` for ``Expr.bin_intervals``; older Polars
    has only ``cut``. Both give the same left-closed bins.
    """
    if hasattr(values, "bin_intervals"):
        return values.bin_intervals(list(edges), labels=list(labels)).cast(pl.Utf8)
    return values.cut(list(edges), labels=list(labels), left_closed=True).cast(pl.Utf8)
