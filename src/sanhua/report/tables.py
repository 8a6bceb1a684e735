"""Summary tables of a run: the data behind every figure of the report.

Each function takes the scored loans (``RUN_DIR/loans.parquet``) or the run
record (``run.json``) and returns a Polars frame of aggregates; rendering lives
in :mod:`sanhua.report.html` and :mod:`sanhua.report.charts`. No table holds a
row per loan or any personal data: loan ids are never read, and reason texts
are cut to their label (model, direction, feature) before they are counted.

Amounts are sums in the currency of the ``currency`` column and are never
added across currencies: money tables are grouped by currency. Scores are
probabilities in [0, 1]. Shares are fractions (0.25 is 25 %).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, Final

import polars as pl

from sanhua.errors import SanhuaError

__all__ = [
    "ReportDataError",
    "REQUIRED_LOAN_COLUMNS",
    "CATEGORIES",
    "CURVE_SOURCES",
    "check_loans",
    "currency_totals",
    "primary_currency",
    "category_mix",
    "value_by_category_action",
    "score_grid",
    "top_reasons",
    "segment_thresholds",
    "row_counts",
    "reason_counts",
    "flag_counts",
    "check_curve",
]

logger = logging.getLogger(__name__)

# NOTE: this error belongs in sanhua.errors with the other typed errors; it
# lives here until that module gains it.
class ReportDataError(SanhuaError):
    """The data given to the report (loans frame, run record, curve) is invalid."""


REQUIRED_LOAN_COLUMNS: Final[dict[str, str]] = {
    "currency": "ISO 4217 currency of the row's amounts",
    "willingness": "willingness score, probability in [0, 1]",
    "ability": "ability score, probability in [0, 1]",
    "category": "disposal category A, B or C",
    "expected_recovery": "expected gross lifetime recovery, amount",
    "expected_recovery_pv": "present value of expected_recovery, amount",
    "action": "chosen action code",
    "action_value": "value of the chosen action net of cost, present value",
    "reasons_zh": "reason codes in Chinese",
    "reasons_en": "reason codes in English",
    "exposure_at_default": "exposure at default, amount",
    "hardship": "hardship flag, bool",
    "lost_contact": "lost-contact flag, bool",
}
"""Columns of ``loans.parquet`` that the report reads, with their meaning.

``loan_id`` and ``product`` are in the file too but the report does not need
them: it never shows a loan id.
"""

CATEGORIES: Final[tuple[str, ...]] = ("A", "B", "C")
"""Disposal categories: A repair, B transform, C quick exit."""

CURVE_SOURCES: Final[tuple[str, ...]] = ("empirical", "configured")
"""Allowed values of the recovery curve's ``source`` column."""

_MONEY: Final[tuple[str, ...]] = ("exposure_at_default", "expected_recovery", "expected_recovery_pv", "action_value")

# Separator between reasons in reasons_zh / reasons_en, as written by
# sanhua.assess.reasons ("; "); the Chinese semicolon is accepted too.
_REASON_SEPARATOR: Final[str] = r"\s*[;；]\s*"


def check_loans(loans: pl.DataFrame) -> None:
    """Check that the loans frame has what the report reads.

    Raises
    ------
    ReportDataError
        A required column is missing, a score lies outside [0, 1], or a
        category is not A, B or C. The message names the column, the bad
        values with their counts, and what to do.
    """
    missing = [name for name in REQUIRED_LOAN_COLUMNS if name not in loans.columns]
    if missing:
        wanted = "; ".join(f"{name} ({REQUIRED_LOAN_COLUMNS[name]})" for name in missing)
        raise ReportDataError(
            f"The loans frame for the report is missing the column(s) {wanted}. "
            f"Columns present: {', '.join(loans.columns) or 'none'}. "
            "Pass the scored loans as written to RUN_DIR/loans.parquet by the pipeline."
        )

    for score in ("willingness", "ability"):
        column = pl.col(score).cast(pl.Float64)
        outside = loans.select(((column < 0) | (column > 1) | column.is_nan()).sum()).item()
        if outside:
            sample = loans.filter((column < 0) | (column > 1) | column.is_nan())[score].head(3).to_list()
            raise ReportDataError(
                f"Column {score!r} of the loans frame has {outside} value(s) outside [0, 1], for example {sample}. "
                "Scores must be probabilities; check the assessment stage's output."
            )

    bad = (
        loans.filter(pl.col("category").is_null() | ~pl.col("category").cast(pl.Utf8).is_in(list(CATEGORIES)))
        .group_by("category")
        .len()
        .sort("len", descending=True)
    )
    if bad.height:
        listed = ", ".join(f"{row['category']!r} ({row['len']} loans)" for row in bad.head(5).iter_rows(named=True))
        raise ReportDataError(
            f"Column 'category' of the loans frame contains invalid values (allowed: A, B, C): {listed}. "
            "Every scored loan must have a category; check the segmentation stage's output."
        )


def _money_columns(loans: pl.DataFrame) -> list[pl.Expr]:
    return [pl.col(name).cast(pl.Float64).sum().alias(name) for name in _MONEY]


def currency_totals(loans: pl.DataFrame) -> pl.DataFrame:
    """Sum loans and amounts per currency.

    Returns
    -------
    pl.DataFrame
        ``currency, loans, exposure_at_default, expected_recovery,
        expected_recovery_pv, action_value``, largest EAD first.
    """
    return (
        loans.group_by(pl.col("currency").cast(pl.Utf8).fill_null("—"))
        .agg(pl.len().cast(pl.Int64).alias("loans"), *_money_columns(loans))
        .sort(["exposure_at_default", "currency"], descending=[True, False], nulls_last=True)
    )


def primary_currency(loans: pl.DataFrame, record: Mapping[str, Any] | None = None) -> str:
    """Return the currency the charts are drawn in.

    The run's totals currency when the record gives one (a single code) and the loans use it,
    else the currency with the largest exposure at default, else ``"CNY"``
    for an empty frame.
    """
    totals = currency_totals(loans)
    stated = ((record or {}).get("totals") or {}).get("currency")
    if not isinstance(stated, str):
        # A multi-currency run records a list of currencies here.
        stated = None
    if stated and stated in totals["currency"].to_list():
        return stated
    if totals.height:
        return str(totals["currency"][0])
    return stated or "CNY"


def category_mix(loans: pl.DataFrame) -> pl.DataFrame:
    """Count loans and sum amounts by currency and category.

    Every category A, B and C appears for every currency, with zeros when it
    has no loan, so the sums of ``loans`` and of each amount equal those of
    the input frame (per currency).

    Returns
    -------
    pl.DataFrame
        ``currency, category, loans, loan_share, exposure_at_default,
        expected_recovery, expected_recovery_pv, action_value,
        recovery_rate, hardship, lost_contact``. ``loan_share`` is the
        fraction of the currency's loans; ``recovery_rate`` is
        expected_recovery / exposure_at_default (null when EAD is 0);
        ``hardship`` and ``lost_contact`` are counts of flagged loans.
    """
    grouped = loans.group_by(pl.col("currency").cast(pl.Utf8).fill_null("—"), pl.col("category").cast(pl.Utf8)).agg(
        pl.len().alias("loans"),
        *_money_columns(loans),
        pl.col("hardship").cast(pl.Boolean).fill_null(False).sum().alias("hardship"),
        pl.col("lost_contact").cast(pl.Boolean).fill_null(False).sum().alias("lost_contact"),
    )

    currencies = grouped.select("currency").unique()
    if currencies.height == 0:
        currencies = pl.DataFrame({"currency": ["CNY"]})
    frame = (
        currencies.join(pl.DataFrame({"category": list(CATEGORIES)}), how="cross")
        .join(grouped, on=["currency", "category"], how="left")
        .with_columns(
            pl.col("loans").fill_null(0).cast(pl.Int64),
            pl.col("hardship").fill_null(0).cast(pl.Int64),
            pl.col("lost_contact").fill_null(0).cast(pl.Int64),
            *[pl.col(name).fill_null(0.0) for name in _MONEY],
        )
    )

    return frame.with_columns(
        (pl.col("loans") / pl.col("loans").sum().over("currency")).fill_nan(None).alias("loan_share"),
        pl.when(pl.col("exposure_at_default") > 0)
        .then(pl.col("expected_recovery") / pl.col("exposure_at_default"))
        .otherwise(None)
        .alias("recovery_rate"),
    ).select(
        "currency",
        "category",
        "loans",
        "loan_share",
        *_MONEY,
        "recovery_rate",
        "hardship",
        "lost_contact",
    ).sort(["currency", "category"])


def value_by_category_action(loans: pl.DataFrame) -> pl.DataFrame:
    """Count loans and sum amounts by currency, category and chosen action.

    Returns
    -------
    pl.DataFrame
        ``currency, category, action, loans, exposure_at_default,
        expected_recovery_pv, action_value, value_rate``, where
        ``value_rate`` is action_value / exposure_at_default (null when EAD
        is 0). Only combinations with at least one loan appear.
    """
    return (
        loans.group_by(
            pl.col("currency").cast(pl.Utf8).fill_null("—"),
            pl.col("category").cast(pl.Utf8),
            pl.col("action").cast(pl.Utf8).fill_null("—"),
        )
        .agg(
            pl.len().cast(pl.Int64).alias("loans"),
            pl.col("exposure_at_default").cast(pl.Float64).sum(),
            pl.col("expected_recovery_pv").cast(pl.Float64).sum(),
            pl.col("action_value").cast(pl.Float64).sum(),
        )
        .with_columns(
            pl.when(pl.col("exposure_at_default") > 0)
            .then(pl.col("action_value") / pl.col("exposure_at_default"))
            .otherwise(None)
            .alias("value_rate")
        )
        .sort(["currency", "category", "action_value"], descending=[False, False, True])
    )


def score_grid(loans: pl.DataFrame, bins: int = 10) -> pl.DataFrame:
    """Count loans in a ``bins`` x ``bins`` grid of willingness and ability.

    Bin ``i`` covers scores in ``[i / bins, (i + 1) / bins)``; a score of
    exactly 1 falls in the last bin. Loans with a null score are left out
    (their number is ``loans.height - grid["loans"].sum()``).

    Returns
    -------
    pl.DataFrame
        ``bins**2`` rows, ``willingness_bin, ability_bin`` (0-based ints),
        ``willingness_from, willingness_to, ability_from, ability_to``
        (bin edges, probabilities) and ``loans`` (count, 0 for an empty
        cell).
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}.")

    def bin_of(name: str) -> pl.Expr:
        return (pl.col(name).cast(pl.Float64) * bins).floor().clip(0, bins - 1).cast(pl.Int32).alias(f"{name}_bin")

    counts = (
        loans.filter(pl.col("willingness").is_not_null() & pl.col("ability").is_not_null())
        .select(bin_of("willingness"), bin_of("ability"))
        .group_by("willingness_bin", "ability_bin")
        .len("loans")
    )

    axis = pl.int_range(0, bins, dtype=pl.Int32, eager=True)
    cells = pl.DataFrame({"willingness_bin": axis}).join(pl.DataFrame({"ability_bin": axis}), how="cross")
    return (
        cells.join(counts, on=["willingness_bin", "ability_bin"], how="left")
        .with_columns(
            pl.col("loans").fill_null(0).cast(pl.Int64),
            (pl.col("willingness_bin") / bins).alias("willingness_from"),
            ((pl.col("willingness_bin") + 1) / bins).alias("willingness_to"),
            (pl.col("ability_bin") / bins).alias("ability_from"),
            ((pl.col("ability_bin") + 1) / bins).alias("ability_to"),
        )
        .select(
            "willingness_bin",
            "ability_bin",
            "willingness_from",
            "willingness_to",
            "ability_from",
            "ability_to",
            "loans",
        )
        .sort("willingness_bin", "ability_bin")
    )


def _split_reasons(loans: pl.DataFrame, name: str) -> pl.Expr:
    # A reason reads "<model><arrow> <feature>=<value>"; the value is the
    # debtor's own figure, so only the text before the first "=" is kept.
    dtype = loans.schema[name]
    if isinstance(dtype, pl.List):
        items = pl.col(name).cast(pl.List(pl.Utf8))
    else:
        separator = "\x1f"
        items = pl.col(name).cast(pl.Utf8).str.replace_all(_REASON_SEPARATOR, separator).str.split(separator)
    return items.list.eval(pl.element().str.split("=").list.first().str.strip_chars()).alias(name)


def top_reasons(loans: pl.DataFrame, top: int = 10, min_loans: int = 10) -> pl.DataFrame:
    """Rank the reasons given for the scores by the number of loans that carry them.

    The i-th Chinese reason of a loan is paired with its i-th English reason.
    Each reason is cut to its label (model, direction and feature, the text
    before ``=``), so the debtor's own value never reaches the report.

    Parameters
    ----------
    top : int
        Number of reasons returned at most.
    min_loans : int
        A reason given for fewer loans is dropped, so no line of the report
        describes only a handful of debtors. ASSUMPTION: 10, a small-cell
        threshold in the range statistical offices use for tables of counts.

    Returns
    -------
    pl.DataFrame
        ``rank, reason_zh, reason_en, loans, loan_share, A, B, C``:
        ``loans`` counts loans carrying the reason, ``loan_share`` is that
        count over all loans, ``A``/``B``/``C`` split it by category.
    """
    total = loans.height
    paired = loans.select(
        pl.col("category").cast(pl.Utf8),
        _split_reasons(loans, "reasons_zh"),
        _split_reasons(loans, "reasons_en"),
    ).with_columns(
        pl.min_horizontal(pl.col("reasons_zh").list.len(), pl.col("reasons_en").list.len()).fill_null(0).alias("_n")
    )
    paired = paired.with_columns(
        pl.col("reasons_zh").list.head(pl.col("_n")),
        pl.col("reasons_en").list.head(pl.col("_n")),
    ).filter(pl.col("_n") > 0)

    exploded = (
        paired.with_row_index("_loan")
        .explode(["reasons_zh", "reasons_en"])
        .filter(pl.col("reasons_zh").str.len_chars() > 0)
        .unique(["_loan", "reasons_zh", "reasons_en"])
    )

    ranked = (
        exploded.group_by(pl.col("reasons_zh").alias("reason_zh"), pl.col("reasons_en").alias("reason_en"))
        .agg(
            pl.len().cast(pl.Int64).alias("loans"),
            *[(pl.col("category") == category).sum().cast(pl.Int64).alias(category) for category in CATEGORIES],
        )
        .filter(pl.col("loans") >= min_loans)
        .sort(["loans", "reason_en"], descending=[True, False])
        .head(top)
    )
    return ranked.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("rank"),
        (pl.col("loans") / total if total else pl.lit(None, dtype=pl.Float64)).alias("loan_share"),
    ).select("rank", "reason_zh", "reason_en", "loans", "loan_share", *CATEGORIES)


def segment_thresholds(record: Mapping[str, Any]) -> pl.DataFrame:
    """Collect the score thresholds of the segment settings in the run record.

    Any number in [0, 1] under ``record["config"]["segment"]`` (nested
    tables included) is a threshold on the score its key names: the first
    ``_``-separated word of the key that starts with ``will``/``unwill``
    (willingness) or ``abl``/``abil`` (ability) decides, so
    ``willing_high = 0.6`` is a willingness threshold and ``able_min = 0.5``
    an ability threshold. Numbers under other keys are ignored.

    Returns
    -------
    pl.DataFrame
        ``name`` (dotted key), ``score`` ("willingness" or "ability") and
        ``value``; empty when the record gives no segment settings.
    """
    segment = ((record.get("config") or {}).get("segment")) or {}
    rows: list[dict[str, Any]] = []

    def score_of(key: str) -> str | None:
        for word in key.lower().split("_"):
            if word.startswith(("will", "unwill")):
                return "willingness"
            if word.startswith(("abl", "abil")):
                return "ability"
        return None

    def walk(table: Mapping[str, Any], prefix: str) -> None:
        for key, value in table.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                walk(value, f"{name}.")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                continue
            score = score_of(str(key))
            if score is not None:
                rows.append({"name": name, "score": score, "value": float(value)})

    if isinstance(segment, Mapping):
        walk(segment, "")
    return pl.DataFrame(rows, schema={"name": pl.Utf8, "score": pl.Utf8, "value": pl.Float64})


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) else None


def row_counts(record: Mapping[str, Any]) -> pl.DataFrame:
    """Return the run's row counts: input, scored, quarantined, excluded.

    Returns
    -------
    pl.DataFrame
        ``item, rows, share``; ``share`` is rows over input rows. A count
        the record lacks is null.
    """
    counts = record.get("counts") or {}
    items = ("input_rows", "scored", "quarantined", "excluded")
    values = [_int(counts.get(item)) for item in items]
    total = values[0]
    shares = [None if value is None or not total else value / total for value in values]
    return pl.DataFrame(
        {"item": list(items), "rows": values, "share": shares},
        schema={"item": pl.Utf8, "rows": pl.Int64, "share": pl.Float64},
    )


def reason_counts(record: Mapping[str, Any], which: str) -> pl.DataFrame:
    """Return rows by reason code for ``which`` = ``"quarantined"`` or ``"excluded"``.

    Returns
    -------
    pl.DataFrame
        ``reason, rows``, most rows first.
    """
    if which not in ("quarantined", "excluded"):
        raise ValueError(f"which must be 'quarantined' or 'excluded', got {which!r}.")
    table = ((record.get("counts") or {}).get(f"{which}_by_reason")) or {}
    rows = [(str(reason), _int(count)) for reason, count in table.items()] if isinstance(table, Mapping) else []
    return pl.DataFrame(rows, schema={"reason": pl.Utf8, "rows": pl.Int64}, orient="row").sort(
        ["rows", "reason"], descending=[True, False], nulls_last=True
    )


def flag_counts(record: Mapping[str, Any]) -> pl.DataFrame:
    """Return the data-quality flags of the run: ``flag, rows``, most rows first."""
    table = record.get("flags") or {}
    rows = [(str(flag), _int(count)) for flag, count in table.items()] if isinstance(table, Mapping) else []
    return pl.DataFrame(rows, schema={"flag": pl.Utf8, "rows": pl.Int64}, orient="row").sort(
        ["rows", "flag"], descending=[True, False], nulls_last=True
    )


def check_curve(curve: pl.DataFrame) -> pl.DataFrame:
    """Validate a recovery curve and return it sorted by source and month.

    Parameters
    ----------
    curve : pl.DataFrame
        ``month`` (int, months after default, >= 0), ``cumulative``
        (fraction of lifetime recovery received by that month, in [0, 1])
        and ``source`` ("empirical" or "configured").

    Raises
    ------
    ReportDataError
        A column is missing, or a value is out of range, with the offending
        values and the fix.
    """
    missing = [name for name in ("month", "cumulative", "source") if name not in curve.columns]
    if missing:
        raise ReportDataError(
            f"The recovery curve is missing the column(s) {', '.join(missing)}; columns present: "
            f"{', '.join(curve.columns) or 'none'}. Pass month (int), cumulative (fraction in [0, 1]) and source."
        )

    frame = curve.select(
        pl.col("month").cast(pl.Int64, strict=False),
        pl.col("cumulative").cast(pl.Float64, strict=False),
        pl.col("source").cast(pl.Utf8),
    )
    bad_month = frame.filter(pl.col("month").is_null() | (pl.col("month") < 0))
    if bad_month.height:
        raise ReportDataError(
            f"The recovery curve has {bad_month.height} row(s) whose month is missing, not an integer or negative. "
            "month counts whole months after default, from 0."
        )
    outside = frame.filter(pl.col("cumulative").is_null() | (pl.col("cumulative") < 0) | (pl.col("cumulative") > 1) | pl.col("cumulative").is_nan())
    if outside.height:
        raise ReportDataError(
            f"The recovery curve has {outside.height} cumulative value(s) outside [0, 1], for example "
            f"{outside['cumulative'].head(3).to_list()}. cumulative is a fraction of lifetime recovery."
        )
    unknown = sorted(set(frame["source"].drop_nulls().to_list()) - set(CURVE_SOURCES)) + (["null"] if frame["source"].null_count() else [])
    if unknown:
        raise ReportDataError(
            f"The recovery curve's source column contains invalid values {unknown}; allowed: {', '.join(CURVE_SOURCES)}."
        )
    # Empirical first: it is the curve learnt from the bank's own history.
    order = pl.col("source").replace_strict({name: rank for rank, name in enumerate(CURVE_SOURCES)}, return_dtype=pl.Int32)
    return frame.sort(order, pl.col("month"))
