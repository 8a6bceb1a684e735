"""Write canonical tables as a Chinese bank exports them (the ``cn-bank`` profile, reversed).

Headers and codes come from ``src/sanhua/tape/profiles/cn-bank.toml`` read
with :mod:`tomllib`: each ``[tables.<name>.columns]`` map (canonical column ->
header) and each ``[tables.<name>.codes.<column>]`` map (source value ->
canonical value) is reversed, so the writer and the profile cannot drift.
Canonical columns the profile does not map (such as ``exposure_at_default``,
which the profile derives) are not written. The 15-digit legacy ID type
``resident_id_15`` has no code of its own in the profile: it is written as
the resident-ID code, and the reader recognises it by its length.

CSV values are written the way bank exports look (ASSUMPTION on the shares):

- dates ``YYYY-MM-DD``, with 5 % as ``2023年5月1日`` and 5 % as ``2023/5/1``;
- timestamps ``YYYY-MM-DD HH:MM:SS``;
- amounts with two decimals, 25 % with thousands separators (``12,345.67``)
  and 2 % with a trailing ``元``;
- interest rates in percent (``18.25``), 10 % with a ``%`` sign;
- booleans and codes as the profile's Chinese values.

The choice of format per cell is seeded by the table and column name, so the
same tables give byte-identical files. Parquet output keeps native types
(dates, numbers) with the same headers, codes and percent rates.
"""

from __future__ import annotations

import logging
import tomllib
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sanhua.errors import ConfigError, ProfileError
from sanhua.tape.schema import TABLES

__all__ = ["PROFILE_PATH", "cn_bank_profile", "reverse_columns", "reverse_codes", "format_table", "encode_text", "write_cn_bank"]

logger = logging.getLogger(__name__)

PROFILE_PATH = Path(__file__).resolve().parents[1] / "tape" / "profiles" / "cn-bank.toml"
_CODE_ALIASES = {"id_type": {"resident_id_15": "resident_id"}}
_DATE_VARIANT_SHARE = 0.05
_SEPARATOR_SHARE = 0.25
_YUAN_SHARE = 0.02
_PERCENT_SIGN_SHARE = 0.10
_ENCODINGS = ("gbk", "gb18030", "utf-8", "utf-8-sig")


@lru_cache(maxsize=1)
def cn_bank_profile() -> dict[str, Any]:
    """Read the shipped ``cn-bank`` profile TOML."""
    try:
        with PROFILE_PATH.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"cannot read the cn-bank profile at {PROFILE_PATH}: {exc}; reinstall sanhua.") from exc


def _table_spec(table: str) -> dict[str, Any]:
    tables = cn_bank_profile().get("tables", {})
    if table not in tables:
        raise ProfileError(f"the cn-bank profile has no table {table!r}; known tables: {sorted(tables)}.")
    return tables[table]


def reverse_columns(table: str) -> dict[str, str]:
    """Return canonical column -> cn-bank header for ``table``, in the profile's order."""
    return dict(_table_spec(table).get("columns", {}))


def reverse_codes(table: str) -> dict[str, dict[Any, str]]:
    """Return canonical column -> {canonical value: cn-bank value} for ``table``.

    When several source values map to one canonical value (``人民币`` and
    ``CNY``), the first one in the profile is written.
    """
    reversed_maps: dict[str, dict[Any, str]] = {}
    for column, mapping in _table_spec(table).get("codes", {}).items():
        reverse: dict[Any, str] = {}
        for source, canonical in mapping.items():
            reverse.setdefault(canonical, source)
        for alias, target in _CODE_ALIASES.get(column, {}).items():
            if target in reverse:
                reverse.setdefault(alias, reverse[target])
        reversed_maps[column] = reverse
    return reversed_maps


def _cell_draws(table: str, column: str, n: int) -> np.ndarray:
    """Uniform draws per cell, seeded by the table and column name."""
    seed = zlib.crc32(f"{table}.{column}".encode())
    return np.random.default_rng(seed).random(n)


def _format_amount(values: pl.Series, draws: np.ndarray) -> pl.Series:
    """Format amounts with two decimals, some with thousands separators or a trailing 元."""
    cents = (values.cast(pl.Float64) * 100).round(0).cast(pl.Int64)
    sign = pl.select(pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))).to_series()
    whole = cents.abs() // 100
    fraction = "." + (cents.abs() % 100).cast(pl.Utf8).str.zfill(2)
    text = sign + whole.cast(pl.Utf8) + fraction

    # Separators and the 元 suffix only on their share of rows, formatted on that subset.
    present = cents.is_not_null().to_numpy()
    grouped = np.flatnonzero(present & (draws < _SEPARATOR_SHARE))
    suffixed = np.flatnonzero(present & (draws >= _SEPARATOR_SHARE) & (draws < _SEPARATOR_SHARE + _YUAN_SHARE))
    if grouped.size:
        text.scatter(grouped, sign.gather(grouped) + _group_thousands(whole.gather(grouped)) + fraction.gather(grouped))
    if suffixed.size:
        text.scatter(suffixed, text.gather(suffixed) + "元")
    return text.fill_null("")


def _group_thousands(whole: pl.Series) -> pl.Series:
    """Format non-negative integers with comma thousands separators."""
    text = whole.cast(pl.Utf8)
    values = whole.to_numpy()
    for power in (3, 6, 9, 12, 15):
        # Rows with more than `power` digits get a comma before their last `power` digits.
        rows = np.flatnonzero(values >= 10**power)
        if rows.size == 0:
            break
        current = text.gather(rows)
        cut = current.str.len_chars() - (power + power // 3 - 1)
        text.scatter(rows, current.str.slice(0, cut) + "," + current.str.slice(cut))
    return text


def _format_date(values: pl.Series, draws: np.ndarray) -> pl.Series:
    """Format dates as ``YYYY-MM-DD``, a share as ``2023年5月1日`` or ``2023/5/1``."""
    text = values.dt.strftime("%Y-%m-%d")
    present = values.is_not_null().to_numpy()
    chinese = np.flatnonzero(present & (draws < _DATE_VARIANT_SHARE))
    slashed = np.flatnonzero(present & (draws >= _DATE_VARIANT_SHARE) & (draws < 2 * _DATE_VARIANT_SHARE))
    if chinese.size:
        text.scatter(chinese, values.gather(chinese).dt.strftime("%Y年%-m月%-d日"))
    if slashed.size:
        text.scatter(slashed, values.gather(slashed).dt.strftime("%Y/%-m/%-d"))
    return text.fill_null("")


def _format_rate(values: pl.Series, draws: np.ndarray) -> pl.Series:
    percent = (values.cast(pl.Float64) * 100).round(4)
    text = pl.select(pl.format("{}", percent)).to_series().str.replace(r"\.0$", "")
    choice = pl.Series(draws)
    return pl.select(
        pl.when(values.is_null()).then(pl.lit("")).when(choice < _PERCENT_SIGN_SHARE).then(text + "%").otherwise(text)
    ).to_series()


def _encode_codes(table: str, column: str, values: pl.Series, mapping: dict[Any, str]) -> pl.Series:
    unknown = values.drop_nulls().unique().filter(~values.drop_nulls().unique().is_in(list(mapping))).to_list()
    if unknown:
        raise ProfileError(
            f"table {table!r}, column {column!r}: values {unknown[:5]} have no code in the cn-bank profile; "
            f"add them to [tables.{table}.codes.{column}] of {PROFILE_PATH.name} or fix the data."
        )
    if values.dtype == pl.Boolean:
        return values.replace_strict({True: mapping[True], False: mapping[False]}, default=None, return_dtype=pl.Utf8)
    return values.replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def format_table(table: str, frame: pl.DataFrame, *, fmt: str = "csv") -> pl.DataFrame:
    """Turn a canonical table into the cn-bank layout: headers, codes and value formats.

    Parameters
    ----------
    table : str
        Canonical table name (a key of :data:`sanhua.tape.schema.TABLES`).
    frame : polars.DataFrame
        The canonical table.
    fmt : {"csv", "parquet"}
        ``csv`` formats every value as text the way bank exports do;
        ``parquet`` keeps native types.

    Returns
    -------
    polars.DataFrame
        Columns named by the cn-bank headers, in the profile's order.
    """
    if table not in TABLES:
        raise ConfigError(f"unknown canonical table {table!r}; use one of {list(TABLES)}.")
    schema = TABLES[table]
    headers = reverse_columns(table)
    codes = reverse_codes(table)
    missing = [c for c in headers if c not in frame.columns]
    if missing:
        raise ConfigError(f"table {table!r} lacks canonical columns {missing} that the cn-bank profile maps.")

    columns = []
    for canonical, header in headers.items():
        values = frame[canonical]
        kind = schema.column(canonical).kind
        if canonical in codes:
            values = _encode_codes(table, canonical, values, codes[canonical])
            if fmt == "csv":
                values = values.fill_null("")
        elif fmt == "parquet":
            if kind == "rate":
                values = (values.cast(pl.Float64) * 100).round(4)
        else:
            values = _format_text(table, canonical, kind, values)
        columns.append(values.alias(header))
    return pl.DataFrame(columns)


def _format_text(table: str, column: str, kind: str, values: pl.Series) -> pl.Series:
    draws = _cell_draws(table, column, values.len())
    if values.dtype == pl.Date:
        return _format_date(values, draws)
    if isinstance(values.dtype, pl.Datetime):
        return values.dt.strftime("%Y-%m-%d %H:%M:%S").fill_null("")
    if kind == "amount":
        return _format_amount(values, draws)
    if kind == "rate":
        return _format_rate(values, draws)
    if values.dtype == pl.Float64:
        return pl.select(pl.format("{}", values.round(1))).to_series().fill_null("")
    return values.cast(pl.Utf8).fill_null("")


def encode_text(text: str, encoding: str, path: Path) -> bytes:
    """Encode CSV text, naming the line and character that the encoding cannot hold."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path.name}: line {line} contains the character {text[exc.start]!r}, which {encoding} cannot encode; "
            "write with encoding='gb18030' or 'utf-8'."
        ) from exc


def write_cn_bank(
    tables: dict[str, pl.DataFrame], folder: Path, *, encoding: str = "gbk", fmt: str = "csv"
) -> list[Path]:
    """Write canonical tables as cn-bank files, one per table.

    Parameters
    ----------
    tables : dict of str to polars.DataFrame
        Canonical tables by name (``loans``, ``borrowers``, ...).
    folder : pathlib.Path
        Output folder, created when missing. Files are named by the profile's
        file stems (``loans.csv``, ``borrowers.csv``, ...).
    encoding : {"gbk", "gb18030", "utf-8", "utf-8-sig"}
        Text encoding of CSV files.
    fmt : {"csv", "parquet"}
        File format.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``tables``.
    """
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"fmt must be 'csv' or 'parquet', got {fmt!r}.")
    if encoding.lower() not in _ENCODINGS:
        raise ConfigError(f"encoding must be one of {list(_ENCODINGS)}, got {encoding!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    written = []
    for table, frame in tables.items():
        stem = _table_spec(table).get("file", table)
        formatted = format_table(table, frame, fmt=fmt)
        path = folder / f"{stem}.{fmt}"
        if fmt == "parquet":
            formatted.write_parquet(path)
        else:
            path.write_bytes(encode_text(formatted.write_csv(), encoding.lower(), path))
        logger.info("wrote %s: %d rows, %d columns", path.name, formatted.height, formatted.width)
        written.append(path)
    return written
