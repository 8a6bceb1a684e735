"""Validation of one canonical table: parse every mapped column, collect every failure.

:func:`parse_table` turns the text rows of a source file into typed canonical
columns (plus extra and derived columns) and a long frame of failures, one row
per failing (row, column, reason). It never stops at the first failure and
never drops a row itself: the loader decides from the failures which rows are
quarantined. All work is Polars expressions over whole columns, plus one DuckDB
query per derived column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from sanhua.errors import ProfileError
from sanhua.tape import identity, parsers
from sanhua.tape.privacy import MaskingSettings, mask_expr
from sanhua.tape.profile import PERSONAL_KINDS, Profile, TableMapping
from sanhua.tape.reasons import Reason, message
from sanhua.tape.schema import CODES, TABLES, Column

__all__ = ["ParsedTable", "parse_table", "mask_kind", "FAILURE_SCHEMA", "VALID_KINDS"]

# Kinds parsed once per distinct value on large tables (see _apply_parsers).
_DISTINCT_KINDS = frozenset({"date", "datetime", "int", "bool", "code", "rate"})

# Rows from which parsing per distinct value pays for its unique() and join
# (ASSUMPTION: below this, Polars parses a column in a few milliseconds anyway).
DISTINCT_MIN_ROWS = 50_000

# Personal kinds whose format is checked; they get a ``<column>_valid`` column.
VALID_KINDS = ("id_number", "phone", "card", "email")

FAILURE_SCHEMA = {
    "source_row": pl.Int64,
    "table": pl.String,
    "column": pl.String,
    "value_masked": pl.String,
    "reason": pl.String,
    "message": pl.String,
}

_KIND_DTYPES: dict[str, pl.DataType] = {
    "float": pl.Float64(),
    "int": pl.Int64(),
    "amount": pl.Float64(),
    "rate": pl.Float64(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "bool": pl.Boolean(),
    "text": pl.String(),
}


@dataclass
class ParsedTable:
    """Typed columns and failures of one table.

    Attributes
    ----------
    table : str
        Canonical table name.
    frame : pl.DataFrame
        ``source_row``, canonical columns (clear text for personal ones), extra
        and derived columns, and ``<column>_valid`` for checked personal kinds.
    failures : pl.DataFrame
        One row per failure, columns :data:`FAILURE_SCHEMA`.
    personal : dict of str to str
        Personal column in ``frame`` -> masking kind.
    features : list of str
        Extra and derived non-canonical, non-personal columns.
    flag_columns : dict of str to str
        ``<column>_valid`` column -> flag name counted when it is false.
    id_type_inferred : str or None
        Name of the boolean column marking inferred document types.
    """

    table: str
    frame: pl.DataFrame
    failures: pl.DataFrame
    personal: dict[str, str] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    flag_columns: dict[str, str] = field(default_factory=dict)
    id_type_inferred: str | None = None


def mask_kind(column: Column | None, kind: str) -> str:
    """Return the masking kind of a personal column (borrower ids have their own rule)."""
    if column is not None and column.name == "borrower_id":
        return "customer_id"
    return kind


@dataclass
class _Check:
    column: str  # name in the work frame
    label: str  # source header shown to the user
    reason: Reason
    failing: pl.Expr
    detail: str = ""
    value: pl.Expr | None = None


def parse_table(
    raw: pl.DataFrame,
    mapping: TableMapping,
    profile: Profile,
    *,
    file_label: str,
    as_of: date | None,
    masking: MaskingSettings,
) -> ParsedTable:
    """Parse and check the rows of one table.

    Parameters
    ----------
    raw : pl.DataFrame
        Text columns as read plus ``source_row``; blank, total and filtered rows
        already removed.
    mapping : TableMapping
        The profile's mapping of this table.
    profile : Profile
        The whole profile (currency, as_of expression).
    file_label : str
        File name used in messages.
    as_of : date or None
        Caller's cut-off date: overrides the loans' as_of_date and bounds birth
        dates in identity numbers (today when None).
    masking : MaskingSettings
        Display rules for personal values in the failures.

    Returns
    -------
    ParsedTable
    """
    schema = TABLES[mapping.name]
    check_date = as_of or date.today()
    present = set(raw.columns)

    # Step 1: normalised text per canonical and extra column.
    fold = _needs_nfkc(raw, [h for h in mapping.source_headers if h in present])
    text_exprs: list[pl.Expr] = [pl.col("source_row")]
    raw_exprs: list[pl.Expr] = []
    labels: dict[str, str] = {}
    for column in schema.columns:
        header = mapping.columns.get(column.name)
        labels[column.name] = header or column.name
        source = pl.col(header) if header in present else pl.lit(None, dtype=pl.String)
        text_exprs.append(parsers.normalise(source, fold=header in fold).alias(column.name))
        raw_exprs.append(source.cast(pl.String).alias(f"raw:{column.name}"))
    for header in mapping.extra:
        labels[header] = header
        source = pl.col(header) if header in present else pl.lit(None, dtype=pl.String)
        text_exprs.append(parsers.normalise(source, fold=header in fold).alias(header))
        raw_exprs.append(source.cast(pl.String).alias(f"raw:{header}"))
    work = raw.select([*text_exprs, *raw_exprs])

    id_column = mapping.id_column
    if mapping.id_fallback == "row":
        work = work.with_columns(
            pl.coalesce(pl.col(id_column), pl.lit("row-") + pl.col("source_row").cast(pl.String)).alias(id_column)
        )

    # Step 2: parse every column.
    checks: list[_Check] = []
    planned: list[tuple[str, str, pl.Expr]] = []
    personal: dict[str, str] = {}
    flag_columns: dict[str, str] = {}
    for column in schema.columns:
        kind = column.kind
        expr, column_checks = _plan(column.name, labels[column.name], kind, column.dtype, mapping, column)
        planned.append((column.name, kind, expr))
        checks.extend(column_checks)
        if column.personal:
            personal[column.name] = mask_kind(column, kind)
    features: list[str] = []
    for header, kind in mapping.extra.items():
        dtype = _KIND_DTYPES.get(kind, pl.String())
        expr, column_checks = _plan(header, header, kind, dtype, mapping, None)
        planned.append((header, kind, expr))
        checks.extend(column_checks)
        if kind in PERSONAL_KINDS:
            personal[header] = kind
        else:
            features.append(header)
    work = _apply_parsers(work, planned)

    # Step 3: identity documents and soft format checks.
    work, id_checks, inferred = _identity(work, schema.names, labels, check_date)
    checks.extend(id_checks)
    for name, kind in [*((c.name, c.kind) for c in schema.columns if c.personal), *mapping.extra.items()]:
        if kind in ("phone", "card", "email") and name in work.columns:
            check = {"phone": identity.phone_valid, "card": identity.card_valid, "email": identity.email_valid}[kind]
            work = work.with_columns(check(work.get_column(f"p:{name}")).alias(f"p:{name}_valid"))
            flag_columns[f"{name}_valid"] = f"invalid_{kind}"

    # Step 4: derived columns and the cut-off date, then required checks.
    derived = dict(mapping.derived)
    if mapping.name == "loans":
        if as_of is not None:
            work = work.with_columns(pl.lit(as_of).alias("p:as_of_date"))
        elif profile.as_of:
            derived.setdefault("as_of_date", profile.as_of)
        if "currency" not in mapping.columns and "currency" not in derived:
            work = work.with_columns(pl.lit(profile.currency).alias("p:currency"))
    work, derived_checks, derived_features = _derive(work, derived, mapping, schema.names, file_label)
    checks.extend(derived_checks)
    features.extend(derived_features)
    for column in schema.columns:
        if not column.required:
            continue
        reason = Reason.DERIVED_INVALID if column.name in derived else Reason.MISSING_REQUIRED
        detail = ""
        if column.name == "as_of_date" and mapping.name == "loans":
            detail = " (the cut-off date: pass --as-of, or map the as-of column in the profile)"
        elif reason is Reason.DERIVED_INVALID:
            detail = f" (empty; {column.name} = {derived[column.name]})"
        # A value that is present but unparsable is reported by its parse
        # check, not again as missing.
        missing = pl.col(column.name).is_null() & pl.col(f"p:{column.name}").is_null()
        if reason is Reason.DERIVED_INVALID:
            missing = pl.col(f"p:{column.name}").is_null()
        checks.append(_Check(column.name, labels[column.name], reason, missing, detail))

    failures = _collect_failures(work, checks, mapping, personal, masking)
    frame = _final_frame(work, schema.names, mapping, features, flag_columns, inferred)
    return ParsedTable(
        table=mapping.name,
        frame=frame,
        failures=failures,
        personal=personal,
        features=features,
        flag_columns=flag_columns,
        id_type_inferred="id_type_inferred" if inferred else None,
    )


# Characters that NFKC folds and that occur in bank exports: no-break and
# ideographic spaces, letterlike and number forms, enclosed numbers, CJK
# compatibility forms, small forms and the full-width and half-width block.
_COMPATIBILITY = "[\u00a0\u2000-\u200a\u2100-\u218f\u2460-\u24ff\u3000\u3200-\u33ff\uf900-\ufaff\ufe30-\ufe6f\uff00-\uffef]"


def _needs_nfkc(raw: pl.DataFrame, headers: list[str]) -> set[str]:
    """Return the text columns among ``headers`` in which any value contains a compatibility character."""
    text = [h for h in headers if raw.schema[h] == pl.String]
    if not text or raw.height == 0:
        return set()
    found = raw.select(pl.col(h).str.contains(_COMPATIBILITY).any() for h in text).row(0)
    return {h for h, hit in zip(text, found, strict=True) if hit}


def _apply_parsers(work: pl.DataFrame, planned: list[tuple[str, str, pl.Expr]]) -> pl.DataFrame:
    """Add ``p:<name>`` for every planned parse expression.

    Dates, codes, whole numbers, rates and flags repeat a few thousand
    values over a million rows, so such a column is parsed once per distinct
    value and joined back, when it has at most a quarter as many distinct
    values as rows. Each parse expression reads only its own column, so the
    result is the same.
    """
    direct: list[pl.Expr] = []
    for name, kind, expr in planned:
        if kind in _DISTINCT_KINDS and work.height >= DISTINCT_MIN_ROWS:
            column = work.get_column(name)
            distinct = column.unique()
            if distinct.len() * 4 <= column.len():
                parsed = distinct.to_frame().with_columns(expr.alias(f"p:{name}"))
                joined = column.to_frame().join(parsed, on=name, how="left", nulls_equal=True, maintain_order="left")
                work = work.with_columns(joined.get_column(f"p:{name}"))
                continue
        direct.append(expr.alias(f"p:{name}"))
    return work.with_columns(direct)


def _plan(
    name: str, label: str, kind: str, dtype: pl.DataType | type[pl.DataType], mapping: TableMapping, column: Column | None
) -> tuple[pl.Expr, list[_Check]]:
    """Return the parse expression of one column and its checks."""
    text = pl.col(name)
    unit = mapping.units.get(name)
    codes = mapping.codes.get(name)
    checks: list[_Check] = []
    target = dtype() if isinstance(dtype, type) else dtype

    parser: Callable[[pl.Expr], pl.Expr] | None = {
        "amount": lambda t: parsers.parse_amount(t, unit),
        "rate": lambda t: parsers.parse_rate(t, unit),
        "float": parsers.parse_float,
        "int": parsers.parse_int,
        "date": parsers.parse_date,
        "datetime": parsers.parse_datetime,
        "bool": parsers.parse_bool,
    }.get(kind)
    reason = {
        "amount": Reason.INVALID_AMOUNT,
        "rate": Reason.INVALID_NUMBER,
        "float": Reason.INVALID_NUMBER,
        "int": Reason.INVALID_NUMBER,
        "date": Reason.INVALID_DATE,
        "datetime": Reason.INVALID_DATETIME,
        "bool": Reason.INVALID_BOOL,
    }.get(kind)

    if kind == "id_number":
        parsed = identity.clean_id_number(text)
    elif kind == "phone":
        parsed = identity.clean_phone(text)
    elif kind == "card":
        parsed = identity.clean_card(text)
    elif kind == "email":
        parsed = text.str.to_lowercase()
    elif parser is not None:
        parsed = parser(text)
    else:
        parsed = text

    if codes is not None:
        keys = list(codes)
        values = [_code_value(v, target) for v in codes.values()]
        mapped = text.replace_strict(keys, values, default=None, return_dtype=target)
        in_map = text.is_in(keys)
        if kind == "code" or parser is None:
            fallback = text if kind == "code" else parsed
            parsed = pl.when(in_map).then(mapped).otherwise(fallback.cast(target, strict=False))
        else:
            parsed = pl.when(in_map).then(mapped).otherwise(parsed.cast(target, strict=False))
    else:
        in_map = pl.lit(False)

    if kind == "code" and column is not None and column.code_list:
        allowed = CODES[column.code_list]
        mapped_keys = ", ".join(list(codes)[:12]) if codes else ", ".join(allowed)
        checks.append(
            _Check(name, label, Reason.INVALID_CODE, text.is_not_null() & ~in_map & ~text.is_in(allowed), f" (allowed: {mapped_keys})")
        )
        parsed = pl.when(in_map | text.is_in(allowed)).then(parsed)
    elif name == "currency" and column is not None:
        checks.append(
            _Check(name, label, Reason.INVALID_CODE, text.is_not_null() & ~in_map & ~text.str.contains(r"^[A-Z]{3}$"), " (expected an ISO 4217 code such as CNY)")
        )
    elif parser is not None and reason is not None:
        unparsed = text.is_not_null() & ~in_map & pl.col(f"p:{name}").is_null()
        checks.append(_Check(name, label, Reason.INVALID_CODE if codes else reason, unparsed, _expected(kind, unit)))

    if column is not None and (column.minimum is not None or column.maximum is not None):
        parsed_col = pl.col(f"p:{name}")
        too_low = parsed_col < column.minimum if column.minimum is not None else pl.lit(False)
        too_high = parsed_col > column.maximum if column.maximum is not None else pl.lit(False)
        bounds = " to ".join(str(b) for b in (column.minimum, column.maximum) if b is not None)
        if column.maximum is None:
            bounds = f">= {column.minimum:g}"
        elif column.minimum is None:
            bounds = f"<= {column.maximum:g}"
        else:
            bounds = f"{column.minimum:g} to {column.maximum:g}"
        checks.append(_Check(name, label, Reason.OUT_OF_RANGE, (too_low | too_high).fill_null(False), f" (expected {bounds})"))

    return parsed, checks


def _code_value(value: object, dtype: pl.DataType) -> object:
    if value == "":
        return None
    if dtype == pl.Boolean():
        return bool(value)
    if dtype in (pl.Float64(), pl.Float32()):
        return float(value)  # type: ignore[arg-type]
    if dtype.is_integer():
        return int(value)  # type: ignore[call-overload]
    return str(value) if not isinstance(value, bool) else str(value).lower()


def _expected(kind: str, unit: str | None) -> str:
    if kind == "rate":
        return " (expected a rate such as 5.6% or 0.056)" if unit != "percent" else " (expected a percentage such as 5.6)"
    if kind == "int":
        return " (expected a whole number)"
    if kind == "float":
        return " (expected a number)"
    return ""


def _identity(
    work: pl.DataFrame, names: list[str], labels: dict[str, str], check_date: date
) -> tuple[pl.DataFrame, list[_Check], bool]:
    if "id_number" not in names:
        return work, [], False
    id_type = work.get_column("p:id_type") if "id_type" in names else pl.Series([None] * work.height, dtype=pl.String)
    result = identity.check_id_numbers(work.get_column("p:id_number"), id_type, check_date)
    work = work.with_columns(
        result.get_column("id_valid").alias("p:id_number_valid"),
        result.get_column("id_mismatch").alias("id:mismatch"),
        result.get_column("id_type_inferred").fill_null(False).alias("p:id_type_inferred"),
    )
    if "id_type" in names:
        work = work.with_columns(result.get_column("id_type_checked").alias("p:id_type"))
    checks = [
        _Check(
            "id_number",
            labels["id_number"],
            Reason.ID_TYPE_MISMATCH,
            pl.col("id:mismatch"),
            " (the number has the form of another document type)",
        ),
        _Check(
            "id_number",
            labels["id_number"],
            Reason.INVALID_ID_NUMBER,
            (~pl.col("p:id_number_valid") & ~pl.col("id:mismatch")).fill_null(False),
            " (length, check character or birth date)",
        ),
    ]
    return work, checks, True


def _derive(
    work: pl.DataFrame, derived: dict[str, str], mapping: TableMapping, names: list[str], file_label: str
) -> tuple[pl.DataFrame, list[_Check], list[str]]:
    if not derived:
        return work, [], []
    schema = TABLES[mapping.name]
    checks: list[_Check] = []
    features: list[str] = []
    con = duckdb.connect()
    try:
        for name, sql in derived.items():
            view = _derived_view(work, mapping, names)
            con.register("parsed", view.to_arrow())
            try:
                result = con.sql(f"SELECT ({sql}) AS value FROM parsed").to_arrow_table()
            except duckdb.Error as exc:
                raise ProfileError(
                    f"profile {mapping.name} derived column {name} = {sql!r} failed on {file_label}: {exc}; "
                    f"columns available: {', '.join(view.columns)}"
                ) from exc
            con.unregister("parsed")
            value = pl.Series(result.column(0))
            if name in names:
                column = schema.column(name)
                target = column.dtype() if isinstance(column.dtype, type) else column.dtype
                cast = value.cast(target, strict=False)
                existing = pl.col(f"p:{name}") if f"p:{name}" in work.columns else pl.lit(None, dtype=target)
                work = work.with_columns(pl.coalesce(existing, pl.lit(cast)).alias(f"p:{name}"))
                checks.extend(_derived_checks(column, sql))
            else:
                work = work.with_columns(pl.lit(value).alias(f"p:{name}"))
                features.append(name)
    finally:
        con.close()
    return work, checks, features


def _derived_view(work: pl.DataFrame, mapping: TableMapping, names: list[str]) -> pl.DataFrame:
    """Parsed columns under canonical names, extras and derived names, plus source-header aliases."""
    parsed = [c for c in work.columns if c.startswith("p:")]
    exprs = [pl.col(c).alias(c[2:]) for c in parsed]
    taken = {c[2:] for c in parsed}
    for canonical, header in mapping.columns.items():
        if header not in taken and f"p:{canonical}" in work.columns:
            exprs.append(pl.col(f"p:{canonical}").alias(header))
            taken.add(header)
    return work.select(exprs)


def _derived_checks(column: Column, sql: str) -> list[_Check]:
    checks = []
    value = pl.col(f"p:{column.name}")
    if column.minimum is not None or column.maximum is not None:
        low = value < column.minimum if column.minimum is not None else pl.lit(False)
        high = value > column.maximum if column.maximum is not None else pl.lit(False)
        bound = f">= {column.minimum:g}" if column.maximum is None else f"{column.minimum:g} to {column.maximum:g}"
        checks.append(
            _Check(column.name, column.name, Reason.DERIVED_INVALID, (low | high).fill_null(False), f" (expected {bound}; {column.name} = {sql})", value.cast(pl.String))
        )
    if column.code_list:
        allowed = CODES[column.code_list]
        checks.append(
            _Check(column.name, column.name, Reason.DERIVED_INVALID, value.is_not_null() & ~value.is_in(allowed), f" (not a canonical code; {column.name} = {sql})", value.cast(pl.String))
        )
    return checks


def _collect_failures(
    work: pl.DataFrame, checks: list[_Check], mapping: TableMapping, personal: dict[str, str], masking: MaskingSettings
) -> pl.DataFrame:
    if not checks:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    flags = work.select([c.failing.fill_null(False).alias(f"f{i}") for i, c in enumerate(checks)])
    counts = flags.sum().row(0)
    parts = []
    for i, (check, count) in enumerate(zip(checks, counts, strict=True)):
        if not count:
            continue
        raw_name = f"raw:{check.column}"
        if check.value is not None:
            value = check.value
        elif raw_name in work.columns:
            value = pl.col(raw_name)
        else:
            value = pl.lit(None, dtype=pl.String)
        if check.column in personal:
            value = mask_expr(value.cast(pl.String), masking, personal[check.column])
        rows = work.filter(flags.get_column(f"f{i}")).select(
            pl.col("source_row"),
            pl.lit(mapping.name).alias("table"),
            pl.lit(check.label).alias("column"),
            value.cast(pl.String).alias("value_masked"),
            pl.lit(check.reason.value).alias("reason"),
            pl.lit(message(check.reason, check.label, check.detail)).alias("message"),
        )
        parts.append(rows)
    if not parts:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    return pl.concat(parts).cast(FAILURE_SCHEMA)  # type: ignore[arg-type]


def _final_frame(
    work: pl.DataFrame, names: list[str], mapping: TableMapping, features: list[str], flag_columns: dict[str, str], inferred: bool
) -> pl.DataFrame:
    schema = TABLES[mapping.name]
    keep = [pl.col("source_row")]
    for name in [*names, *mapping.extra, *features]:
        if f"p:{name}" in work.columns and name not in {e.meta.output_name() for e in keep}:
            expr = pl.col(f"p:{name}")
            if name in names:
                # Rows outside the range of a narrower type are quarantined
                # by the range check, so this cast loses no loaded value.
                expr = expr.cast(schema.column(name).dtype, strict=False)
            keep.append(expr.alias(name))
    for valid in [*flag_columns, *(["id_number_valid"] if inferred else [])]:
        keep.append(pl.col(f"p:{valid}").alias(valid))
    if inferred:
        keep.append(pl.col("p:id_type_inferred").alias("id_type_inferred"))
    return work.select(keep)
