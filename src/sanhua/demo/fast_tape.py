"""Large single-file cn-bank loan tapes for benchmarks, optionally with defects.

:func:`generate_loan_tape` builds one table with the loan and borrower
columns of the ``cn-bank`` profile (the way many banks export a tape: one row
per loan, the borrower's columns repeated), every personal column filled with
a distinct synthetic value, and every value as text in the bank's formats
(see :mod:`sanhua.demo.cn_bank`). It is vectorised end to end, with no
simulated recovery history: a loan's state at the cut-off is drawn directly.

A ``broken_share`` of the rows gets exactly one defect each, one of
:data:`DEFECT_KINDS`; :func:`loan_tape_defects` returns which row got which.
:func:`write_loan_tape` writes tapes of any size in chunks.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from sanhua.demo import identity
from sanhua.demo.cn_bank import encode_text, format_table, reverse_columns
from sanhua.demo.geography import PROVINCES, province_weights
from sanhua.demo.loans import COLLATERAL_CODES, GRADES, PRODUCTS
from sanhua.errors import ConfigError

__all__ = ["DEFECT_KINDS", "TAPE_CUTOFF", "generate_loan_tape", "loan_tape_defects", "write_loan_tape"]

logger = logging.getLogger(__name__)

DEFECT_KINDS: tuple[str, ...] = ("bad_date", "bad_id_check", "bad_amount", "bad_code", "missing_id", "duplicate_id")
TAPE_CUTOFF = date(2026, 11, 30)
_PRODUCT_SHARES = np.array([0.55, 0.26, 0.12, 0.03, 0.04])
_MEDIAN_AMOUNT = np.array([30_000.0, 60_000.0, 250_000.0, 700_000.0, 120_000.0])
_TERMS = np.array([0, 36, 36, 300, 60])
_RATES = np.array([0.1825, 0.089, 0.055, 0.041, 0.052])
_LITIGATION = ("not_sued", "in_suit", "judged", "in_execution", "execution_ended_no_assets", "mediated")
_BAD_AMOUNTS = ("#N/A", "1.234.56", "约5000", "12,3O5.00")
_BAD_DATES = ("2023-02-30", "2023-13-01", "20230230", "2023年2月30日")


def _gather(values: tuple[str, ...], index: np.ndarray) -> pl.Series:
    """Return ``values[index]`` as a Polars string column (faster than NumPy unicode arrays)."""
    return pl.Series(values, dtype=pl.Utf8).gather(index)


def _chunk_rng(seed: int, chunk: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, chunk, stream]))


def loan_tape_defects(n: int, *, seed: int, broken_share: float = 0.0, chunk: int = 0) -> pl.DataFrame:
    """Return the rows that :func:`generate_loan_tape` breaks and the defect of each.

    Parameters
    ----------
    n : int
        Rows of the tape (or of the chunk).
    seed : int
        Seed of the tape.
    broken_share : float
        Fraction of rows with one defect, in [0, 1]; ``round(n * broken_share)``
        rows are broken.
    chunk : int
        Chunk number when the tape is written in chunks.

    Returns
    -------
    polars.DataFrame
        ``row`` (0-based row of the tape or chunk), ``defect`` (one of
        :data:`DEFECT_KINDS`) and ``source_row`` (for ``duplicate_id``: the row
        whose loan id is copied), sorted by row.
    """
    if not 0.0 <= broken_share <= 1.0:
        raise ConfigError(f"broken_share must lie in [0, 1], got {broken_share}.")
    rng = _chunk_rng(seed, chunk, 1)
    k = int(round(n * broken_share))
    rows = np.sort(rng.choice(n, size=k, replace=False)) if k else np.empty(0, dtype=np.int64)
    defect = rng.integers(0, len(DEFECT_KINDS), size=k)

    # A duplicate copies the id of a row that is not broken (when one exists).
    intact = np.setdiff1d(np.arange(n), rows, assume_unique=True)
    source = intact[rng.integers(0, intact.size, size=k)] if intact.size else rows
    duplicate = defect == DEFECT_KINDS.index("duplicate_id")
    if not intact.size:
        defect[duplicate] = DEFECT_KINDS.index("missing_id")
        duplicate[:] = False
    return pl.DataFrame(
        {
            "row": rows.astype(np.int64),
            "defect": np.array(DEFECT_KINDS)[defect] if k else np.empty(0, dtype=str),
            "source_row": np.where(duplicate, source, -1).astype(np.int64),
        },
        schema={"row": pl.Int64, "defect": pl.Utf8, "source_row": pl.Int64},
    ).with_columns(pl.when(pl.col("source_row") >= 0).then(pl.col("source_row")).alias("source_row"))


def _canonical_rows(rng: np.random.Generator, n: int, first_row: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """Draw canonical loans and borrowers (one borrower per loan) and the 18-digit resident IDs of all rows."""
    cutoff = np.datetime64(TAPE_CUTOFF.isoformat(), "D")
    number = pl.Series(np.arange(first_row, first_row + n, dtype=np.int64)).cast(pl.Utf8).str.zfill(12)
    product = rng.choice(len(PRODUCTS), size=n, p=_PRODUCT_SHARES)
    card = product == 0

    days_since = np.where(rng.random(n) < 0.3, rng.integers(1, 365, n), rng.integers(365, 2555, n))
    default = cutoff - days_since.astype("timedelta64[D]")
    paid = np.where(card, rng.integers(6, 97, n), rng.integers(1, np.maximum(_TERMS[product] - 4, 2)))
    origination = default - ((paid + 1) * 30 + 90).astype("timedelta64[D]")
    term = _TERMS[product]
    maturity = np.where(card, np.datetime64("NaT"), origination + (term * 30.44).astype(np.int64).astype("timedelta64[D]"))
    last_payment = default - rng.integers(60, 120, n).astype("timedelta64[D]")

    amount = np.maximum(np.round(_MEDIAN_AMOUNT[product] * np.exp(rng.normal(0.0, 0.55, n)), -3), 2000.0)
    share_left = np.where(card, rng.uniform(0.7, 1.1, n), 1.0 - paid / np.maximum(term, 1) * rng.uniform(0.6, 0.9, n))
    principal = np.round(amount * np.clip(share_left, 0.05, 1.1), 2)
    rate = _RATES[product]
    interest = np.round(principal * rate * 4.0 / 12.0, 2)
    fees = np.round(np.where(card, 0.015 * principal + 200.0, principal * rate * 0.1), 2)
    installment = np.round(np.where(card, 0.1 * principal, amount * (1.0 + rate * term / 24.0) / np.maximum(term, 1)), 2)
    dpd = 90 + days_since
    # Five-tier index 0 substandard, 1 doubtful, 2 loss: 2023 rules, the 2011 card rule for cards.
    loan_tier = np.select([dpd > 360, dpd > 270], [2, 1], default=0)
    card_tier = np.select([dpd > 180, dpd > 120], [2, 1], default=0)
    written_off = dpd > np.where(card, 270, 450) + rng.integers(0, 360, n)
    province = rng.choice(len(PROVINCES), size=n, p=province_weights())
    region = pl.Series([p.name for p in PROVINCES]).gather(province)
    litigation = np.where(dpd < 400, 0, rng.integers(0, len(_LITIGATION), n))
    collateral = np.where(product >= 3, 1, np.where(rng.random(n) < 0.1, 3, 0))
    note = np.where(written_off, 0, np.where(rng.random(n) < 0.5, 1, 2))

    loans = pl.DataFrame(
        {
            "loan_id": "DK" + number,
            "borrower_id": "KH" + number,
            "product": _gather(PRODUCTS, product),
            "currency": _gather(("CNY",), np.zeros(n, dtype=np.int64)),
            "origination_date": origination,
            "maturity_date": maturity,
            "default_date": default,
            "last_payment_date": last_payment,
            "as_of_date": np.full(n, cutoff),
            "principal_original": amount,
            "principal_outstanding": principal,
            "interest_outstanding": interest,
            "fees_outstanding": fees,
            "interest_rate": rate,
            "term_months": pl.Series(term).replace(0, None).cast(pl.Int32),
            "installment": installment,
            "dpd": dpd.astype(np.int32),
            "five_tier": _gather(("substandard", "doubtful", "loss"), np.where(written_off, 2, np.where(card, card_tier, loan_tier))),
            "written_off": written_off,
            "collateral": _gather(COLLATERAL_CODES, collateral),
            "region": region,
            "litigation_status": _gather(_LITIGATION, litigation),
            "grade": _gather(GRADES, rng.integers(0, len(GRADES), n)),
            "notarised": rng.random(n) < 0.1,
            "note": _gather(("已核销，账销案存，继续追偿", "正常催收中", "已委外催收"), note),
        }
    ).with_columns(pl.col("origination_date", "maturity_date", "default_date", "last_payment_date", "as_of_date").cast(pl.Date))

    male = rng.random(n) < 0.58
    age = np.clip(np.rint(rng.normal(38.0, 10.0, n)), 20, 78).astype(np.int64)
    birth = cutoff - (age * 365.25 + rng.integers(1, 365, n)).astype(np.int64).astype("timedelta64[D]")
    district = np.array([p.district_code for p in PROVINCES])[province]
    id_kind = rng.choice(3, size=n, p=[0.97, 0.02, 0.01])
    resident = identity.resident_ids(rng, district, birth, male)
    legacy = identity.legacy_ids(rng, district, birth, male)
    permit = identity.resident_ids(rng, np.full(n, 810000), birth, male)
    kind = pl.Series(id_kind)
    names, pinyin = identity.chinese_names(rng, male)
    employment = _gather(
        ("employed", "self_employed", "unemployed", "retired", "other"), rng.choice(5, size=n, p=[0.55, 0.2, 0.17, 0.05, 0.03])
    )
    borrowers = pl.DataFrame(
        {
            "borrower_id": "KH" + number,
            "name": names,
            "id_type": pl.Series(["resident_id", "resident_id_15", "residence_permit_hmt"]).gather(id_kind),
            "id_number": pl.select(pl.when(kind == 1).then(legacy).when(kind == 2).then(permit).otherwise(resident)).to_series(),
            "phone": identity.mobile_numbers(rng, n),
            "email": identity.emails(rng, pinyin, birth.astype("datetime64[Y]").astype(np.int64) + 1970),
            "address": identity.addresses(rng, province),
            "card_number": identity.card_numbers(rng, n),
            "gender": _gather(("female", "male"), male.astype(np.int64)),
            "birth_date": birth,
            "age": age.astype(np.int32),
            "income_annual": np.round(60_000.0 * np.exp(rng.normal(0.0, 0.5, n)), -2),
            "employment": employment,
            "employment_years": np.round(rng.random(n) * 15.0, 1),
            "employer": identity.employers(rng, province, employment),
            "region": region,
        }
    ).with_columns(pl.col("birth_date").cast(pl.Date))
    return loans, borrowers, resident


def _break_rows(frame: pl.DataFrame, defects: pl.DataFrame, resident: pl.Series) -> pl.DataFrame:
    """Apply one defect per listed row to the formatted tape."""
    if defects.height == 0:
        return frame
    headers = {**reverse_columns("loans"), **{f"b_{k}": v for k, v in reverse_columns("borrowers").items()}}
    row = defects["row"].to_numpy()
    defect = defects["defect"].to_numpy()
    variant = row % 4

    def column_with(header: str, mask: np.ndarray, values: np.ndarray) -> pl.Series:
        column = frame[header].clone()
        if mask.any():
            column.scatter(row[mask], pl.Series(values.tolist(), dtype=pl.Utf8))
        return column

    # A wrong check character: the next one in the MOD 11-2 alphabet.
    alphabet = identity.CHECK_CHARACTERS.tolist()
    following = {c: alphabet[(i + 1) % len(alphabet)] for i, c in enumerate(alphabet)}
    bad_id = defect == "bad_id_check"
    good = resident.gather(row[bad_id])
    wrong = (good.str.slice(0, 17) + good.str.slice(17, 1).replace_strict(following)).to_numpy()
    ids = frame[headers["loan_id"]].to_numpy()
    duplicate = defect == "duplicate_id"
    source = defects["source_row"].fill_null(0).to_numpy()

    return frame.with_columns(
        column_with(headers["default_date"], defect == "bad_date", np.array(_BAD_DATES, dtype=str)[variant[defect == "bad_date"]]),
        column_with(headers["b_id_number"], bad_id, wrong),
        column_with(headers["b_id_type"], bad_id, np.full(int(bad_id.sum()), "居民身份证")),
        column_with(headers["principal_outstanding"], defect == "bad_amount", np.array(_BAD_AMOUNTS, dtype=str)[variant[defect == "bad_amount"]]),
        column_with(headers["product"], defect == "bad_code", np.full(int((defect == "bad_code").sum()), "未知产品")),
        column_with(
            headers["loan_id"],
            (defect == "missing_id") | duplicate,
            np.where(duplicate[(defect == "missing_id") | duplicate], ids[source[(defect == "missing_id") | duplicate].clip(0)], ""),
        ),
    )


def generate_loan_tape(n: int, *, seed: int, broken_share: float = 0.0) -> pl.DataFrame:
    """Build a single-file cn-bank loan tape of ``n`` loans, every value as text.

    Parameters
    ----------
    n : int
        Number of loans (rows).
    seed : int
        Seed; the same arguments give the same frame.
    broken_share : float
        Fraction of rows that get exactly one defect each (see
        :func:`loan_tape_defects` for which).

    Returns
    -------
    polars.DataFrame
        The cn-bank loan headers, then the borrower headers (without the
        repeated 客户编号), all ``Utf8``.

    Examples
    --------
    >>> tape = generate_loan_tape(1000, seed=1, broken_share=0.01)
    >>> tape.height, tape.columns[0]
    (1000, '贷款编号')
    """
    return _tape_chunk(n, seed=seed, broken_share=broken_share, chunk=0, first_row=0)


def _tape_chunk(n: int, *, seed: int, broken_share: float, chunk: int, first_row: int) -> pl.DataFrame:
    """Build chunk ``chunk`` of a tape, whose loan numbers start at ``first_row``."""
    if n < 1:
        raise ConfigError(f"n must be a positive number of loans, got {n}.")
    defects = loan_tape_defects(n, seed=seed, broken_share=broken_share, chunk=chunk)
    rng = _chunk_rng(seed, chunk, 0)
    loans, borrowers, resident = _canonical_rows(rng, n, first_row)
    loan_text = format_table("loans", loans)
    borrower_text = format_table("borrowers", borrowers).drop(reverse_columns("borrowers")["borrower_id"])
    return _break_rows(pl.concat([loan_text, borrower_text], how="horizontal"), defects, resident)


def write_loan_tape(
    path: Path,
    n: int,
    *,
    seed: int,
    broken_share: float = 0.0,
    fmt: str = "csv",
    encoding: str = "gbk",
    chunk_rows: int = 1_000_000,
) -> Path:
    """Write a single-file cn-bank loan tape of ``n`` loans in chunks.

    Chunk ``c`` contains rows ``c * chunk_rows`` onwards and is generated as
    :func:`generate_loan_tape` with its own seed stream, so memory stays at
    about one chunk. Loan ids run on across chunks; defects (including
    duplicate ids) stay within their chunk.

    Parameters
    ----------
    path : pathlib.Path
        Output file.
    n : int
        Number of loans.
    seed : int
        Seed.
    broken_share : float
        Fraction of rows with one defect.
    fmt : {"csv", "parquet"}
        ``parquet`` writes the same text columns, one row group per chunk.
    encoding : str
        Encoding of the CSV file (``gbk``, ``gb18030``, ``utf-8``).
    chunk_rows : int
        Rows per chunk.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"fmt must be 'csv' or 'parquet', got {fmt!r}.")
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be positive, got {chunk_rows}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    writer = None
    with path.open("wb") as handle:
        for chunk, first in enumerate(range(0, n, chunk_rows)):
            rows = min(chunk_rows, n - first)
            frame = _tape_chunk(rows, seed=seed, broken_share=broken_share, chunk=chunk, first_row=first)
            if fmt == "csv":
                handle.write(encode_text(frame.write_csv(include_header=chunk == 0), encoding.lower(), path))
            else:
                table = frame.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(handle, table.schema)
                writer.write_table(table)
        if writer is not None:
            writer.close()
    logger.info("wrote loan tape %s: %d rows in %.2f s", path.name, n, time.perf_counter() - started)
    return path
