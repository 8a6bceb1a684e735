"""Loading a tape: read, exclude, validate, quarantine and pseudonymise.

A TAPE (or HISTORY) is one file holding the loans, or a folder holding one
file per canonical table (stems from the profile). The result is a
:class:`Tape`, the one container of the tape stage.

Row accounting
--------------
Every data row of every input file is counted once per table it feeds:
``input_rows = loaded + quarantined + sum(excluded.values())``.

Rules between rows and tables (also in ``docs/quarantine.md``):

- Exclusions apply first, in this order: ``blank_row``, ``total_row``,
  ``where`` (loans file only), ``performing`` (loans file only). Excluded rows
  are not validated.
- Duplicate ids: the first row with an id (in file order, among rows not
  excluded) is validated as usual; every later row with the same id is
  quarantined (``duplicate_id``). :func:`iter_loan_chunks` applies the same rule
  across chunks.
- In one file, a failure in any table the row feeds (for example a borrower's ID
  number in a cn-bank loan export) quarantines the whole row. Borrowers built
  from the loan file keep the first row of each ``borrower_id``; later rows are
  excluded (``duplicate_borrower``).
- Event rows (repayments, collection events, outcomes) whose loan is in the
  loans file but was excluded or quarantined are excluded (``loan_not_loaded``);
  a loan id absent from the loans file is quarantined (``unknown_loan``).
- Borrowers that no loaded loan references are excluded (``no_loaded_loan``).
  Contacts and external rows of a borrower that is known but not loaded are
  excluded (``borrower_not_loaded``); an unknown borrower is quarantined
  (``unknown_borrower``).
- A loan whose borrower row was quarantined is loaded and flagged
  (``borrower_quarantined``); one whose borrower is absent from a borrowers file
  is flagged ``borrower_missing``. Its own data is valid, and dropping it would
  misstate the portfolio.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from sanhua.errors import ConfigError, InputFileError, ProfileError
from sanhua.tape import filters, parsers
from sanhua.tape.privacy import Pseudonymiser
from sanhua.tape.profile import Profile, TableMapping
from sanhua.tape.readers import FileInfo, find_table_file, iter_file, read_file
from sanhua.tape.reasons import Exclusion, Flag, Reason, message
from sanhua.tape.schema import TABLES
from sanhua.tape.validate import FAILURE_SCHEMA, ParsedTable, parse_table

__all__ = ["Tape", "load_tape", "iter_loan_chunks", "write_quarantine", "QUARANTINE_COLUMNS"]

logger = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["file", "table", "row", "column", "value_masked", "reason", "message"]
_QUARANTINE_SCHEMA = {
    "file": pl.String,
    "table": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "value_masked": pl.String,
    "reason": pl.String,
    "message": pl.String,
}
_EVENT_TABLES = ("repayments", "collection_events", "outcomes")
_BORROWER_TABLES = ("contacts", "external")


@dataclass
class Tape:
    """A validated, pseudonymised loan tape.

    Attributes
    ----------
    tables : dict of str to pl.DataFrame
        Canonical tables present; ``loans`` always. Each has ``source_row``
        (1-based data row of its file), the canonical columns of
        :mod:`sanhua.tape.schema` (null when the source has none), personal
        columns replaced by ``<col>_hash`` and ``<col>_masked`` (and
        ``<col>_valid`` for ID numbers, phones, cards and e-mails), then extra
        and derived columns.
    quarantine : pl.DataFrame
        One row per failure: ``file``, ``table``, ``row`` (1-based data row of
        the file), ``column`` (source header), ``value_masked``, ``reason``
        (:class:`~sanhua.tape.reasons.Reason`), ``message`` (what to fix, in
        English and Chinese). A row with several failures has several entries.
    counts : dict
        Per table ``{"input_rows", "loaded", "quarantined", "excluded": {reason: n}}``.
    flags : dict of str to int
        Soft failures among loaded rows (:class:`~sanhua.tape.reasons.Flag`).
    inputs : list of dict
        Per file: ``path``, ``table``, ``sha256``, ``bytes``, ``format``,
        ``encoding``, ``title_rows_skipped``.
    profile : Profile
    feature_columns : list of str
        Extra and derived non-canonical columns kept in ``loans`` (model features).
    """

    tables: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    counts: dict
    flags: dict[str, int]
    inputs: list[dict]
    profile: Profile
    feature_columns: list[str] = field(default_factory=list)

    @property
    def loans(self) -> pl.DataFrame:
        """The loans table."""
        return self.tables["loans"]

    def table(self, name: str) -> pl.DataFrame | None:
        """Return a canonical table, or None when the tape has none."""
        return self.tables.get(name)


@dataclass
class _Seen:
    """Ids already met in earlier chunks (64-bit hashes, sorted arrays).

    NOTE: two different ids with the same 64-bit hash would be taken for a
    duplicate; the chance is about n**2 / 2**65 (3e-6 for 10 million ids).
    """

    loans: list[np.ndarray] = field(default_factory=list)
    borrowers: list[np.ndarray] = field(default_factory=list)

    @staticmethod
    def contains(arrays: list[np.ndarray], hashes: np.ndarray) -> np.ndarray:
        found = np.zeros(hashes.shape, dtype=bool)
        for known in arrays:
            positions = np.searchsorted(known, hashes)
            positions[positions >= known.size] = 0
            found |= known[positions] == hashes if known.size else False
        return found


@dataclass
class _Result:
    """One table's outcome before pseudonymisation (clear values)."""

    parsed: ParsedTable
    loaded: pl.DataFrame
    failures: pl.DataFrame
    excluded: Counter
    input_rows: int
    quarantined: int
    file: str


def load_tape(
    path: str | Path,
    profile: Profile,
    *,
    pseudonymiser: Pseudonymiser,
    encoding: str | None = None,
    where: str | None = None,
    as_of: date | None = None,
) -> Tape:
    """Read, validate and pseudonymise a tape.

    Parameters
    ----------
    path : str or Path
        One file (loans, and the tables built from the loan rows) or a folder
        with one file per table.
    profile : Profile
        Mapping profile.
    pseudonymiser : Pseudonymiser
        Keyed hashing and masking of personal columns.
    encoding : str or None
        Force the text encoding of CSV files; detected when None.
    where : str or None
        DuckDB SQL condition over the loan file's source columns; failing rows
        are excluded (``where``).
    as_of : date or None
        Cut-off date of every loan; when None, the source's as-of column or the
        profile's ``as_of`` expression.

    Returns
    -------
    Tape

    Raises
    ------
    InputFileError
        A file cannot be read at all.
    ProfileError
        The profile does not fit the files (a derived expression fails).
    ConfigError
        ``where`` is not a valid condition.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"tape {path} not found; give a loan file or a folder of table files")
    if path.is_dir():
        tape = _load_folder(path, profile, pseudonymiser, encoding, where, as_of)
    else:
        loans = profile.tables["loans"]
        frame, info = read_file(path, "loans", _expected(loans, profile, include_built=True), encoding=encoding)
        results = _loan_results(frame, info, profile, pseudonymiser, where, as_of, _Seen(), files={})
        tape = _assemble(results, [info], profile, pseudonymiser, loan_flags=Counter())
    _log_counts(tape, time.perf_counter() - started)
    return tape


def iter_loan_chunks(
    path: str | Path,
    profile: Profile,
    *,
    pseudonymiser: Pseudonymiser,
    chunk_rows: int = 500_000,
    encoding: str | None = None,
    where: str | None = None,
    as_of: date | None = None,
) -> Iterator[Tape]:
    """Load a single-file loans tape in chunks of ``chunk_rows`` rows.

    Memory stays bounded by the chunk size (plus 8 bytes per loan and borrower
    id for the duplicate checks). Row numbers continue across chunks, a loan id
    repeated in a later chunk is quarantined (``duplicate_id``) and a borrower
    repeated in a later chunk is excluded (``duplicate_borrower``), as in
    :func:`load_tape`. Each yielded Tape has its own counts, quarantine and
    flags: the caller sums them.

    NOTE: ``where`` and ``non_performing`` type their columns per chunk, so a
    numeric column with one text value in a chunk compares as text there.

    Raises
    ------
    InputFileError
        ``path`` is a folder or an Excel workbook, or cannot be read.
    """
    path = Path(path)
    if path.is_dir():
        raise InputFileError(f"{path} is a folder; chunked loading takes a single loans file (CSV or Parquet)")
    loans = profile.tables["loans"]
    info, chunks = iter_file(path, "loans", _expected(loans, profile, include_built=True), encoding=encoding, chunk_rows=chunk_rows)
    seen = _Seen()
    for number, frame in enumerate(chunks, start=1):
        started = time.perf_counter()
        results = _loan_results(frame, info, profile, pseudonymiser, where, as_of, seen, files={})
        tape = _assemble(results, [info], profile, pseudonymiser, loan_flags=Counter())
        logger.info("chunk %d: %d rows in %.1f s", number, frame.height, time.perf_counter() - started)
        yield tape


def write_quarantine(quarantine: pl.DataFrame, path: Path) -> None:
    """Write the quarantine as UTF-8 CSV with a byte-order mark, so Excel shows Chinese correctly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write("\ufeff".encode())
        quarantine.select([c for c in QUARANTINE_COLUMNS if c in quarantine.columns]).write_csv(handle)


# --------------------------------------------------------------------------- loan file


def _expected(mapping: TableMapping, profile: Profile, *, include_built: bool) -> list[str]:
    """Source headers a file of this table should have; the id header first."""
    headers = [mapping.columns[mapping.id_column]] if mapping.id_column in mapping.columns else []
    headers += [h for h in mapping.source_headers if h not in headers]
    if include_built:
        for other in profile.tables.values():
            headers += [h for h in other.source_headers if h not in headers]
    return headers


def _built_tables(profile: Profile, header: list[str], files: dict[str, Path]) -> list[TableMapping]:
    """Tables without their own file whose key and required columns are in the loan file."""
    present = set(header)
    built = []
    for name, mapping in profile.tables.items():
        if name == "loans" or name in files:
            continue
        id_header = mapping.columns.get(mapping.id_column)
        if id_header not in present:
            continue
        schema = TABLES[name]
        required = [mapping.columns[c.name] for c in schema.columns if c.required and c.name in mapping.columns]
        others = [h for c, h in mapping.columns.items() if c != mapping.id_column and h in present]
        if all(h in present for h in required) and others:
            built.append(mapping)
    return built


def _exclude(
    frame: pl.DataFrame, id_header: str | None, where: str | None, non_performing: str | None
) -> tuple[pl.DataFrame, Counter]:
    excluded: Counter = Counter()
    steps: list[tuple[Exclusion, object]] = [
        (Exclusion.BLANK_ROW, filters.blank_rows),
        (Exclusion.TOTAL_ROW, lambda f: filters.total_rows(f, id_header)),
    ]
    if where:
        steps.append((Exclusion.WHERE, lambda f: ~filters.sql_keep(f, where, what="--where", error=ConfigError)))
    if non_performing:
        steps.append(
            (
                Exclusion.PERFORMING,
                lambda f: ~filters.sql_keep(f, non_performing, what="profile non_performing", error=ProfileError)
                & ~filters.undecidable(f, non_performing),
            )
        )
    for reason, mask_of in steps:
        if frame.height == 0:
            break
        mask = mask_of(frame)  # type: ignore[operator]
        count = int(mask.sum())
        if count:
            excluded[reason.value] += count
            frame = frame.filter(~mask)
    return frame, excluded


def _loan_results(
    raw: pl.DataFrame,
    info: FileInfo,
    profile: Profile,
    pseudonymiser: Pseudonymiser,
    where: str | None,
    as_of: date | None,
    seen: _Seen,
    files: dict[str, Path],
) -> dict[str, _Result]:
    """Validate the rows of a loan file (whole or one chunk) and every table built from them."""
    loans_map = profile.tables["loans"]
    file_label = Path(info.path).name
    built = _built_tables(profile, info.columns, files)

    survivors, excluded = _exclude(raw, loans_map.columns.get("loan_id"), where, profile.non_performing)
    masking = pseudonymiser.masking
    loans = parse_table(survivors, loans_map, profile, file_label=file_label, as_of=as_of, masking=masking)
    others = {m.name: parse_table(survivors, m, profile, file_label=file_label, as_of=as_of, masking=masking) for m in built}

    duplicates = _duplicate_ids(loans.frame, "loan_id", seen.loans, loans_map, masking=None)
    failures = pl.concat([loans.failures, duplicates, *(p.failures for p in others.values())])
    bad = failures.get_column("source_row").unique()
    quarantined = bad.len()
    keep = ~pl.col("source_row").is_in(bad.implode())

    results = {
        "loans": _Result(loans, loans.frame.filter(keep), failures, excluded, raw.height, quarantined, file_label)
    }
    for name, parsed in others.items():
        loaded = parsed.frame.filter(keep)
        table_excluded = Counter(excluded)
        if name == "borrowers":
            loaded, repeated = _first_borrowers(loaded, seen)
            if repeated:
                table_excluded[Exclusion.DUPLICATE_BORROWER.value] += repeated
        empty_failures = pl.DataFrame(schema=FAILURE_SCHEMA)
        results[name] = _Result(parsed, loaded, empty_failures, table_excluded, raw.height, quarantined, file_label)
    return results


def _duplicate_ids(
    frame: pl.DataFrame, id_column: str, seen: list[np.ndarray], mapping: TableMapping, masking: object
) -> pl.DataFrame:
    """Quarantine entries for every row repeating an id of an earlier row (this chunk or earlier ones)."""
    if frame.height == 0 or id_column not in frame.columns:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    ids = frame.get_column(id_column)
    later = ~ids.is_first_distinct() & ids.is_not_null()
    hashes = ids.hash(seed=0).to_numpy()
    earlier = _Seen.contains(seen, hashes) & ids.is_not_null().to_numpy()
    repeated = later.to_numpy() | earlier
    present = hashes[ids.is_not_null().to_numpy()]
    seen.append(np.unique(present))
    if not repeated.any():
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    label = mapping.columns.get(id_column, id_column)
    return (
        frame.filter(pl.Series(repeated))
        .select(
            pl.col("source_row"),
            pl.lit(mapping.name).alias("table"),
            pl.lit(label).alias("column"),
            pl.col(id_column).cast(pl.String).alias("value_masked"),
            pl.lit(Reason.DUPLICATE_ID.value).alias("reason"),
            pl.lit(message(Reason.DUPLICATE_ID, label)).alias("message"),
        )
        .cast(FAILURE_SCHEMA)  # type: ignore[arg-type]
    )


def _first_borrowers(frame: pl.DataFrame, seen: _Seen) -> tuple[pl.DataFrame, int]:
    """Keep the first row of each borrower_id (in this chunk and across chunks)."""
    ids = frame.get_column("borrower_id")
    hashes = ids.hash(seed=0).to_numpy()
    first = ids.is_first_distinct().to_numpy() & ~_Seen.contains(seen.borrowers, hashes)
    seen.borrowers.append(np.unique(hashes))
    kept = frame.filter(pl.Series(first))
    return kept, frame.height - kept.height


# --------------------------------------------------------------------------- folder


def _load_folder(
    folder: Path, profile: Profile, pseudonymiser: Pseudonymiser, encoding: str | None, where: str | None, as_of: date | None
) -> Tape:
    files: dict[str, Path] = {}
    for name, mapping in profile.tables.items():
        found = find_table_file(folder, mapping.file)
        if found is not None:
            files[name] = found
    if "loans" not in files:
        raise InputFileError(
            f"folder {folder} has no loans file: expected {profile.tables['loans'].file}.csv, .xlsx or .parquet; "
            f"found: {', '.join(sorted(p.name for p in folder.iterdir()))[:400] or '(nothing)'}"
        )

    loans_map = profile.tables["loans"]
    loan_raw, loan_info = read_file(files["loans"], "loans", _expected(loans_map, profile, include_built=False), encoding=encoding)
    results = _loan_results(loan_raw, loan_info, profile, pseudonymiser, where, as_of, _Seen(), files=files)

    # Ids of every row in the loans file, for telling an unknown id from an excluded one.
    id_header = loans_map.columns.get("loan_id")
    all_loan_ids = loan_raw.select(_raw_ids(id_header, loans_map.id_fallback)).to_series().drop_nulls()
    borrower_header = loans_map.columns.get("borrower_id")
    all_borrowers = (
        loan_raw.select(parsers.normalise(pl.col(borrower_header))).to_series().drop_nulls()
        if borrower_header in loan_raw.columns
        else pl.Series([], dtype=pl.String)
    )
    loaded_loan_ids = results["loans"].loaded.get_column("loan_id")
    loaded_borrowers = results["loans"].loaded.get_column("borrower_id").drop_nulls()

    inputs = [loan_info]
    masking = pseudonymiser.masking
    order = ["borrowers", *_EVENT_TABLES, *_BORROWER_TABLES]
    borrower_file_ids = pl.Series([], dtype=pl.String)
    quarantined_borrowers = pl.Series([], dtype=pl.String)
    for name in order:
        if name not in files:
            continue
        mapping = profile.tables[name]
        raw, info = read_file(files[name], name, _expected(mapping, profile, include_built=False), encoding=encoding)
        inputs.append(info)
        file_label = files[name].name
        survivors, excluded = _exclude(raw, mapping.columns.get(mapping.id_column), None, None)
        parsed = parse_table(survivors, mapping, profile, file_label=file_label, as_of=as_of, masking=masking)
        frame = parsed.frame
        extra_failures: list[pl.DataFrame] = []
        not_loaded = pl.Series([False] * frame.height)

        if name == "borrowers":
            borrower_file_ids = frame.get_column("borrower_id").drop_nulls()
            not_loaded = ~frame.get_column("borrower_id").is_in(loaded_borrowers.implode())
            reason_excluded = Exclusion.NO_LOADED_LOAN
        elif name in _EVENT_TABLES:
            ids = frame.get_column("loan_id")
            known = ids.is_in(all_loan_ids.implode())
            not_loaded = known & ~ids.is_in(loaded_loan_ids.implode())
            extra_failures.append(_reference_failures(frame, ~known & ids.is_not_null(), mapping, "loan_id", Reason.UNKNOWN_LOAN))
            reason_excluded = Exclusion.LOAN_NOT_LOADED
        else:
            ids = frame.get_column("borrower_id")
            known_ids = pl.concat([all_borrowers, borrower_file_ids])
            loaded_ids = results["borrowers"].loaded.get_column("borrower_id") if "borrowers" in results else loaded_borrowers
            known = ids.is_in(known_ids.implode())
            not_loaded = known & ~ids.is_in(loaded_ids.implode())
            extra_failures.append(
                _reference_failures(frame, ~known & ids.is_not_null(), mapping, "borrower_id", Reason.UNKNOWN_BORROWER)
            )
            reason_excluded = Exclusion.BORROWER_NOT_LOADED

        # Rows excluded for their reference are not validated further.
        skipped = frame.filter(not_loaded).get_column("source_row")
        if skipped.len():
            excluded[reason_excluded.value] += skipped.len()
        failures = pl.concat([parsed.failures, *extra_failures])
        if name == "borrowers":
            failures = pl.concat([failures, _duplicate_ids(frame.filter(~not_loaded), "borrower_id", [], mapping, None)])
        failures = failures.filter(~pl.col("source_row").is_in(skipped.implode()))
        bad = failures.get_column("source_row").unique()
        loaded = frame.filter(~pl.col("source_row").is_in(pl.concat([bad, skipped]).implode()))
        if name == "borrowers":
            quarantined_borrowers = frame.filter(pl.col("source_row").is_in(bad.implode())).get_column("borrower_id")
        results[name] = _Result(parsed, loaded, failures, excluded, raw.height, bad.len(), file_label)

    loan_flags: Counter = Counter()
    if "borrowers" in files:
        borrowers_of_loans = results["loans"].loaded.get_column("borrower_id")
        flagged = borrowers_of_loans.is_in(quarantined_borrowers.implode())
        missing = ~borrowers_of_loans.is_in(borrower_file_ids.implode()) & borrowers_of_loans.is_not_null()
        loan_flags[Flag.BORROWER_QUARANTINED.value] = int(flagged.sum())
        loan_flags[Flag.BORROWER_MISSING.value] = int(missing.sum())
    return _assemble(results, inputs, profile, pseudonymiser, loan_flags=loan_flags)


def _raw_ids(header: str | None, fallback: str | None) -> pl.Expr:
    text = parsers.normalise(pl.col(header)) if header else pl.lit(None, dtype=pl.String)
    if fallback == "row":
        text = pl.coalesce(text, pl.lit("row-") + pl.col("source_row").cast(pl.String))
    return text.alias("id")


def _reference_failures(frame: pl.DataFrame, mask: pl.Series, mapping: TableMapping, column: str, reason: Reason) -> pl.DataFrame:
    if not mask.any():
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    label = mapping.columns.get(column, column)
    value = pl.col(column)
    if column == "borrower_id":
        value = value.str.replace(r"^.*(.{4})$", "****$1")
    return (
        frame.filter(mask)
        .select(
            pl.col("source_row"),
            pl.lit(mapping.name).alias("table"),
            pl.lit(label).alias("column"),
            value.cast(pl.String).alias("value_masked"),
            pl.lit(reason.value).alias("reason"),
            pl.lit(message(reason, label)).alias("message"),
        )
        .cast(FAILURE_SCHEMA)  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- assembly


def _assemble(
    results: dict[str, _Result], inputs: list[FileInfo], profile: Profile, pseudonymiser: Pseudonymiser, loan_flags: Counter
) -> Tape:
    tables: dict[str, pl.DataFrame] = {}
    counts: dict[str, dict] = {}
    flags: Counter = Counter()
    quarantine_parts = []
    for name, result in results.items():
        tables[name] = _pseudonymise(result.loaded, result.parsed, pseudonymiser)
        counts[name] = {
            "input_rows": result.input_rows,
            "loaded": result.loaded.height,
            "quarantined": result.quarantined,
            "excluded": dict(result.excluded),
        }
        for column, flag in result.parsed.flag_columns.items():
            flags[flag] += int((~result.loaded.get_column(column)).sum() or 0)
        if result.parsed.id_type_inferred:
            flags[Flag.ID_TYPE_INFERRED.value] += int(result.loaded.get_column("id_type_inferred").sum() or 0)
        if result.failures.height:
            quarantine_parts.append(
                result.failures.select(
                    pl.lit(result.file).alias("file"),
                    pl.col("table"),
                    pl.col("source_row").alias("row"),
                    pl.col("column"),
                    pl.col("value_masked"),
                    pl.col("reason"),
                    pl.col("message"),
                )
            )
    flags.update(loan_flags)
    quarantine = (
        pl.concat(quarantine_parts).cast(_QUARANTINE_SCHEMA).sort(["file", "row", "table", "column"], maintain_order=True)  # type: ignore[arg-type]
        if quarantine_parts
        else pl.DataFrame(schema=_QUARANTINE_SCHEMA)
    )
    for name, frame in tables.items():
        if "id_type_inferred" in frame.columns:
            tables[name] = frame.drop("id_type_inferred")
    return Tape(
        tables=tables,
        quarantine=quarantine,
        counts=counts,
        flags=dict(flags),
        inputs=[i.as_dict() for i in inputs],
        profile=profile,
        feature_columns=list(results["loans"].parsed.features),
    )


def _pseudonymise(frame: pl.DataFrame, parsed: ParsedTable, pseudonymiser: Pseudonymiser) -> pl.DataFrame:
    """Replace each personal column by ``<col>_hash`` and ``<col>_masked``, in place."""
    hashes = {name: pseudonymiser.hash(frame.get_column(name)) for name in frame.columns if name in parsed.personal}
    columns: list[pl.Series] = []
    for name in frame.columns:
        series = frame.get_column(name)
        if name not in hashes:
            columns.append(series)
            continue
        columns.append(hashes[name].alias(f"{name}_hash"))
        columns.append(pseudonymiser.mask(series, parsed.personal[name]).alias(f"{name}_masked"))
    return pl.DataFrame(columns)


def _log_counts(tape: Tape, seconds: float) -> None:
    for name, count in tape.counts.items():
        logger.info(
            "%s: %d input rows, %d loaded, %d quarantined, excluded %s",
            name,
            count["input_rows"],
            count["loaded"],
            count["quarantined"],
            count["excluded"] or "none",
        )
    if tape.flags:
        logger.info("flags: %s", tape.flags)
    logger.info("tape loaded in %.1f s", seconds)
