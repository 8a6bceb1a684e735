"""Readers: one input file to a frame of text, as the bank wrote it.

Every reader returns all columns as ``pl.String`` (Excel dates become
``2023-05-01 00:00:00``, Parquet dates ``2023-05-01``) plus ``source_row``,
the 1-based data row of the file: the first record below the header is row 1,
and a blank line or an empty spreadsheet row counts as a row. Parsing happens
later, so validation sees what the bank wrote.

Formats are recognised by content, not by extension: gzip (``.csv.gz``), an
Excel workbook (``.xlsx``, a zip file), Parquet (``PAR1``) or CSV text. CSV text
is UTF-8 (with or without byte-order mark) or GB18030 (a superset of GBK); the
encoding is detected unless the caller forces one. Title rows above the header
(a merged title such as "XX银行个人不良贷款清单" and a date line) are found by
looking for the row with the most headers the profile expects, in CSV and
Excel alike.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sanhua.errors import InputFileError

__all__ = ["FileInfo", "read_file", "iter_file", "find_table_file", "SUPPORTED_SUFFIXES", "HEADER_SCAN_ROWS"]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".gz", ".xlsx", ".xlsm", ".parquet", ".pq")

# Rows searched for the header line. Bank exports put at most a few title and
# date lines above it; ASSUMPTION: 30 is ample.
HEADER_SCAN_ROWS = 30

_SNIFF_BYTES = 1 << 20
_TRANSCODE_BLOCK = 1 << 24


@dataclass
class FileInfo:
    """Description of one input file as read (recorded in ``Tape.inputs``)."""

    path: str
    table: str
    sha256: str
    bytes: int
    format: str
    encoding: str | None
    title_rows_skipped: int
    columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Return the record written to run.json."""
        return {
            "path": self.path,
            "table": self.table,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "format": self.format,
            "encoding": self.encoding,
            "title_rows_skipped": self.title_rows_skipped,
        }


def find_table_file(folder: Path, stem: str) -> Path | None:
    """Return the file of a table inside a TAPE folder, or None when absent.

    Raises
    ------
    InputFileError
        More than one file has the stem (for example ``loans.csv`` and
        ``loans.xlsx``).
    """
    matches = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and _stem(p) == stem and _has_supported_suffix(p)
    )
    if len(matches) > 1:
        raise InputFileError(
            f"folder {folder} has {len(matches)} files for table {stem!r}: {', '.join(m.name for m in matches)}; "
            "keep one"
        )
    return matches[0] if matches else None


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".csv.gz", ".txt.gz", ".tsv.gz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _has_supported_suffix(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def _sniff_format(path: Path) -> str:
    if not path.is_file():
        raise InputFileError(f"input file {path} not found; check the path")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"input file {path} is empty; export the table again")
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(b"\x1f\x8b"):
        return "csv.gz"
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(
            f"input file {path} is an old Excel 97-2003 workbook (.xls); open it in Excel and save it as .xlsx or CSV"
        )
    return "csv"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_file(path: Path, table: str, expected: list[str], *, encoding: str | None = None) -> tuple[pl.DataFrame, FileInfo]:
    """Read a whole file as text.

    Parameters
    ----------
    path : Path
        The file.
    table : str
        Canonical table the file feeds (for messages and the input record).
    expected : list of str
        Source headers the profile maps; the first is the id header and must be
        found.
    encoding : str or None
        Force a text encoding (``gb18030``, ``gbk``, ``utf-8``); detected when None.

    Returns
    -------
    frame : pl.DataFrame
        All source columns as ``pl.String`` plus ``source_row`` (``Int64``).
    info : FileInfo

    Raises
    ------
    InputFileError
        The file is missing, empty, of an unsupported format, undecodable or
        has no header with the profile's id column.
    """
    fmt = _sniff_format(path)
    info = FileInfo(str(path), table, _sha256(path), path.stat().st_size, fmt, None, 0)
    if fmt == "xlsx":
        frame = _read_xlsx(path, expected, info)
    elif fmt == "parquet":
        frame = _stringify(pl.read_parquet(path))
        _check_header(frame.columns, expected, path, info)
    else:
        raw = path.read_bytes()
        if fmt == "csv.gz":
            raw = _gunzip(raw, path)
        text_bytes, info.encoding = _to_utf8(raw, path, encoding)
        try:
            frame = _read_csv_bytes(text_bytes, path, expected, info)
        except _NotUtf8 as exc:
            if encoding is not None or info.encoding != "utf-8":
                raise _decode_error(path, info.encoding or "utf-8", 0) from exc
            # The sniffed head was UTF-8 but a later byte is not: GB18030 text
            # whose first megabyte happens to be ASCII.
            text_bytes, info.encoding = _decode_as(raw, path, "gb18030", False), "gb18030"
            frame = _read_csv_bytes(text_bytes, path, expected, info)
    frame = frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
    info.columns = [c for c in frame.columns if c != "source_row"]
    logger.info("read %s: %d rows, %d columns, format %s, encoding %s", path.name, frame.height, len(info.columns), fmt, info.encoding)
    return frame, info


def iter_file(
    path: Path, table: str, expected: list[str], *, encoding: str | None = None, chunk_rows: int = 500_000
) -> tuple[FileInfo, Iterator[pl.DataFrame]]:
    """Read a CSV (any encoding, gzip or not) or Parquet file in chunks of text.

    Memory stays bounded by ``chunk_rows``: non-UTF-8 or compressed CSV is first
    transcoded, block by block, to a temporary UTF-8 file that is deleted when
    the iterator is exhausted or closed. ``source_row`` continues across chunks.

    Returns
    -------
    info : FileInfo
    chunks : iterator of pl.DataFrame
        Frames like :func:`read_file`'s.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    fmt = _sniff_format(path)
    info = FileInfo(str(path), table, _sha256(path), path.stat().st_size, fmt, None, 0)
    if fmt == "xlsx":
        raise InputFileError(
            f"{path}: Excel workbooks are read whole (at most 1,048,576 rows); use load_tape, or export CSV or "
            "Parquet for chunked reading"
        )
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        _check_header(parquet.schema_arrow.names, expected, path, info)
        info.columns = list(parquet.schema_arrow.names)
        batches = (_stringify(pl.from_arrow(b)) for b in parquet.iter_batches(batch_size=chunk_rows))
        return info, _number_rows(batches)

    head = _read_head(path, fmt)
    _, info.encoding = _to_utf8(head, path, encoding, partial=True)
    skip = _find_header_line(head.decode(info.encoding, errors="replace"), expected, path, info)
    info.title_rows_skipped = skip
    return info, _iter_csv(path, fmt, info, skip, chunk_rows)


def _iter_csv(path: Path, fmt: str, info: FileInfo, skip: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
    plain = fmt == "csv" and info.encoding == "utf-8"
    temp_dir = None if plain else tempfile.mkdtemp(prefix="sanhua-")
    try:
        source = path
        if not plain:
            source = Path(temp_dir) / "transcoded.csv"
            _transcode(path, fmt, info.encoding, source)
        lazy = pl.scan_csv(source, infer_schema=False, skip_rows=skip, raise_if_empty=False, truncate_ragged_lines=True)
        info.columns = lazy.collect_schema().names()
        yield from _number_rows(lazy.collect_batches(chunk_size=chunk_rows))
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _number_rows(frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    offset = 1
    for frame in frames:
        numbered = frame.with_row_index("source_row", offset=offset).with_columns(pl.col("source_row").cast(pl.Int64))
        offset += frame.height
        yield numbered


def _read_head(path: Path, fmt: str) -> bytes:
    opener = gzip.open if fmt == "csv.gz" else open
    try:
        with opener(path, "rb") as handle:
            return handle.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path} cannot be decompressed ({exc}); check that it is a complete gzip file") from exc


def _transcode(path: Path, fmt: str, encoding: str, target: Path) -> None:
    opener = gzip.open if fmt == "csv.gz" else open
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with opener(path, "rb") as source, target.open("wb") as sink:
        while block := source.read(_TRANSCODE_BLOCK):
            try:
                sink.write(decoder.decode(block).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise _decode_error(path, encoding, offset + exc.start) from exc
            offset += len(block)
        sink.write(decoder.decode(b"", final=True).encode("utf-8"))


def _gunzip(raw: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path} cannot be decompressed ({exc}); check that it is a complete gzip file") from exc


def _decode_error(path: Path, encoding: str, position: int) -> InputFileError:
    other = "utf-8" if encoding.replace("-", "").lower() not in ("utf8", "utf8sig") else "gb18030"
    return InputFileError(
        f"{path} cannot be decoded as {encoding} (invalid bytes at byte {position}); try --encoding {other}, "
        "or save the file as UTF-8"
    )


def _to_utf8(raw: bytes, path: Path, encoding: str | None, *, partial: bool = False) -> tuple[bytes, str]:
    """Return UTF-8 bytes without BOM and the encoding the file was in.

    ``partial`` marks a head of the file, whose last character may be cut.
    """
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise InputFileError(f"unknown encoding {encoding!r} for {path}; use utf-8, gbk or gb18030") from exc
        return _decode_as(raw, path, name, partial), name

    if raw.startswith(codecs.BOM_UTF8):
        return _decode_as(raw, path, "utf-8-sig", partial), "utf-8-sig"
    if _looks_utf8(raw[:_SNIFF_BYTES]):
        return raw, "utf-8"
    return _decode_as(raw, path, "gb18030", partial), "gb18030"


def _looks_utf8(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decode_as(raw: bytes, path: Path, name: str, partial: bool) -> bytes:
    if name == "utf-8" and not partial:
        if not _looks_utf8(raw[:_SNIFF_BYTES]):
            raise _decode_error(path, name, 0)
        return raw  # Polars checks the rest while parsing.
    try:
        text = codecs.getincrementaldecoder(name)().decode(raw, final=not partial)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, name, exc.start) from exc
    return text.encode("utf-8")


def _find_header_line(text: str, expected: list[str], path: Path, info: FileInfo) -> int:
    lines = text.splitlines()[:HEADER_SCAN_ROWS]
    rows = list(csv.reader(lines))
    return _pick_header(rows, expected, path, info)


def _pick_header(rows: list[list[str | None]], expected: list[str], path: Path, info: FileInfo) -> int:
    wanted = set(expected)
    best, best_score = 0, -1
    for index, row in enumerate(rows):
        cells = {(c or "").strip().lstrip("\ufeff") for c in row}
        score = len(cells & wanted)
        if score > best_score:
            best, best_score = index, score
    header = [(c or "").strip() for c in rows[best]] if rows else []
    if best_score <= 0 or expected[0] not in {c.lstrip("\ufeff") for c in header}:
        if best_score > 0:
            candidate = header
        elif rows:
            candidate = rows[0]
        else:
            candidate = []
        found = ", ".join(c for c in candidate if c)[:400]
        raise InputFileError(
            f"{path}: columns missing: {expected[0]}; found: {found or '(nothing)'}; check --profile "
            f"(the {info.table} table's headers are listed in docs/profiles.md) or --encoding"
        )
    return best


def _check_header(columns: list[str], expected: list[str], path: Path, info: FileInfo) -> None:
    _pick_header([list(columns)], expected, path, info)


class _NotUtf8(Exception):
    """Polars found bytes that are not UTF-8."""


def _read_csv_bytes(data: bytes, path: Path, expected: list[str], info: FileInfo) -> pl.DataFrame:
    head = data[:_SNIFF_BYTES].decode("utf-8", errors="replace")
    skip = _find_header_line(head, expected, path, info)
    info.title_rows_skipped = skip
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            infer_schema=False,
            skip_rows=skip,
            raise_if_empty=False,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.ComputeError as exc:
        if "utf" in str(exc).lower():
            raise _NotUtf8(str(exc)) from exc
        raise InputFileError(f"{path} is not a readable CSV file ({exc}); check the separator and quoting") from exc
    frame.columns = [c.lstrip("\ufeff").strip() for c in frame.columns]
    return frame


def _read_xlsx(path: Path, expected: list[str], info: FileInfo) -> pl.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error classes per failure kind
        raise InputFileError(f"{path} is not a readable .xlsx workbook ({exc}); open and save it again in Excel") from exc

    failure: InputFileError | None = None
    for sheet in range(len(reader.sheet_names)):
        head = reader.load_sheet(sheet, header_row=None, n_rows=HEADER_SCAN_ROWS, dtypes="string").to_polars()
        rows = [list(r) for r in head.iter_rows()]
        try:
            header_row = _pick_header(rows, expected, path, info)
        except InputFileError as exc:
            failure = failure or exc
            continue
        info.title_rows_skipped = header_row
        frame = reader.load_sheet(sheet, header_row=header_row, dtypes="string").to_polars()
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame.select(pl.all().cast(pl.String))
    assert failure is not None
    raise failure


def _stringify(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Date:
            exprs.append(column.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(column.dt.strftime("%Y-%m-%d %H:%M:%S"))
        else:
            exprs.append(column.cast(pl.String))
    return frame.select(exprs)

