"""Run catalogue: every run of sanhua, recorded in one DuckDB file.

The catalogue lives at ``$SANHUA_HOME/catalogue.duckdb``; ``SANHUA_HOME``
defaults to ``~/.sanhua`` and the folder is created on first use. Each
operation opens the file and closes it again, so two sanhua processes can use
the same catalogue one after the other. DuckDB lets only one process hold a
file open for writing: a command that finds it locked retries for
``lock_timeout_s`` seconds, then raises :class:`~sanhua.errors.CatalogueError`.

Tables
------
``meta``
    ``key, value`` text pairs: ``schema_version`` (this module writes
    :data:`SCHEMA_VERSION`), ``created_at`` (UTC, ISO 8601) and
    ``created_by`` (the sanhua version).
``runs``
    One row per run id. ``started_at``, ``finished_at`` and ``recorded_at``
    are UTC timestamps without zone. ``status`` is the record's ``status``
    when it has one, else ``finished`` when it has ``finished_at``, else
    ``running``. ``record`` is the whole run record (``run.json``) as JSON
    text, with NaN and infinite numbers stored as null. Recording a run id
    again replaces its row.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from sanhua import __version__
from sanhua.errors import CatalogueError

__all__ = ["Catalogue", "SCHEMA_VERSION", "HOME_ENV", "CATALOGUE_FILE", "LIST_COLUMNS", "sanhua_home"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION: Final[int] = 1
"""Version of the catalogue's tables; a file with a higher version is rejected."""

HOME_ENV: Final[str] = "SANHUA_HOME"
"""Environment variable naming sanhua's home folder."""

DEFAULT_HOME: Final[str] = "~/.sanhua"
"""Home folder when ``SANHUA_HOME`` is unset or blank."""

CATALOGUE_FILE: Final[str] = "catalogue.duckdb"
"""File name of the catalogue inside the home folder."""

LIST_COLUMNS: Final[tuple[str, ...]] = (
    "run_id",
    "started_at",
    "finished_at",
    "command",
    "status",
    "profile",
    "tape_path",
    "input_rows",
    "scored",
    "quarantined",
    "excluded",
    "model_version",
    "run_dir",
)
"""Columns returned by :meth:`Catalogue.list`, in order."""

_SCHEMA: Final[str] = """
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    command VARCHAR,
    status VARCHAR NOT NULL,
    profile VARCHAR,
    tape_path VARCHAR,
    input_rows BIGINT,
    scored BIGINT,
    quarantined BIGINT,
    excluded BIGINT,
    model_version VARCHAR,
    run_dir VARCHAR,
    sanhua_version VARCHAR,
    recorded_at TIMESTAMP NOT NULL,
    record VARCHAR NOT NULL
);
"""

_LIST_SCHEMA: Final[dict[str, pl.DataType]] = {
    "run_id": pl.Utf8(),
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "command": pl.Utf8(),
    "status": pl.Utf8(),
    "profile": pl.Utf8(),
    "tape_path": pl.Utf8(),
    "input_rows": pl.Int64(),
    "scored": pl.Int64(),
    "quarantined": pl.Int64(),
    "excluded": pl.Int64(),
    "model_version": pl.Utf8(),
    "run_dir": pl.Utf8(),
}

# Number of run ids an "unknown run" message lists.
_LISTED_IDS: Final[int] = 10


def sanhua_home() -> Path:
    """Return sanhua's home folder: ``$SANHUA_HOME``, else ``~/.sanhua`` (not created here)."""
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value or DEFAULT_HOME).expanduser()


def _utc(value: Any, key: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise CatalogueError(
                f"Run record field {key!r} is not an ISO 8601 timestamp: {value!r}. "
                "Write it as for example 2026-12-04T20:23:38+08:00."
            ) from None
    else:
        raise CatalogueError(f"Run record field {key!r} must be an ISO 8601 timestamp string, got {type(value).__name__}.")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _finite(value: Any) -> Any:
    """Replace NaN and infinite floats by None, recursively, so the record is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class Catalogue:
    """The run catalogue in one DuckDB file.

    Parameters
    ----------
    path : Path or None
        Catalogue file. None means ``$SANHUA_HOME/catalogue.duckdb``
        (``SANHUA_HOME`` read when the catalogue is constructed, default
        ``~/.sanhua``). The file and its folder are created on first use.
    lock_timeout_s : float
        Seconds to keep retrying while another process locks the file,
        before raising. ASSUMPTION: 5 s, longer than recording one run
        takes and short enough for a person at a terminal.

    Examples
    --------
    >>> catalogue = Catalogue(tmp / "catalogue.duckdb")  # doctest: +SKIP
    >>> catalogue.record(run_record)  # doctest: +SKIP
    '20261204T202338Z-ab12cd'
    >>> catalogue.show("20261204")["command"]  # doctest: +SKIP
    'run'
    """

    def __init__(self, path: Path | None = None, *, lock_timeout_s: float = 5.0) -> None:
        self.path = Path(path).expanduser() if path is not None else sanhua_home() / CATALOGUE_FILE
        self.lock_timeout_s = lock_timeout_s

    def __repr__(self) -> str:
        return f"Catalogue({str(self.path)!r})"

    # Connection handling -------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + max(self.lock_timeout_s, 0.0)
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as error:
                message = str(error)
                if "lock" in message.lower():
                    if time.monotonic() < deadline:
                        time.sleep(0.1)
                        continue
                    raise CatalogueError(
                        f"The run catalogue {self.path} is locked by another process ({message.splitlines()[0]}). "
                        "Wait for the other sanhua command to finish and retry, or set SANHUA_HOME to use another catalogue."
                    ) from None
                raise CatalogueError(
                    f"The run catalogue {self.path} cannot be opened: {message.splitlines()[0]} "
                    "The file is corrupt or not a DuckDB database: move it aside (the next command creates a new, "
                    "empty catalogue) or restore it from a backup."
                ) from None
            except duckdb.Error as error:
                raise CatalogueError(
                    f"The run catalogue {self.path} cannot be opened: {error}. "
                    "Move the file aside (the next command creates a new, empty catalogue) or restore it from a backup."
                ) from None

    @contextmanager
    def _connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.path.exists() and self.path.is_dir():
            raise CatalogueError(f"The run catalogue path {self.path} is a folder; it must be a file. Point SANHUA_HOME at another folder.")
        if read_only and not self.path.exists():
            # Create the file so that a read finds the empty tables.
            read_only = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogueError(
                f"Cannot create the folder {self.path.parent} of the run catalogue: {error.strerror or error}. "
                "Set SANHUA_HOME to a writable folder."
            ) from None

        connection = self._open(read_only)
        try:
            self._check_schema(connection, read_only)
            yield connection
        except duckdb.Error as error:
            raise CatalogueError(
                f"The run catalogue {self.path} failed: {error}. If the file was damaged, move it aside "
                "(the next command creates a new, empty catalogue) or restore it from a backup."
            ) from None
        finally:
            connection.close()

    def _check_schema(self, connection: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        tables = {row[0] for row in connection.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        if "meta" not in tables:
            if tables:
                raise CatalogueError(
                    f"The file {self.path} is a DuckDB database but not a sanhua run catalogue (it has the tables "
                    f"{', '.join(sorted(tables))} and no meta table). Point SANHUA_HOME at another folder or move the file aside."
                )
            if read_only:
                raise CatalogueError(f"The run catalogue {self.path} is empty and opened read-only; record a run first.")
            self._create(connection)
            return

        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(row[0]) if row else None
        except ValueError:
            version = None
        if version is None:
            raise CatalogueError(
                f"The run catalogue {self.path} has no valid schema_version in its meta table. "
                "Move the file aside (the next command creates a new, empty catalogue) or restore it from a backup."
            )
        if version > SCHEMA_VERSION:
            raise CatalogueError(
                f"The run catalogue {self.path} has schema version {version}, newer than this sanhua "
                f"({__version__}) reads (version {SCHEMA_VERSION}). Upgrade sanhua, or set SANHUA_HOME to use another catalogue."
            )
        # NOTE: version 1 is the only schema so far; an older file would be migrated here.

    def _create(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute("BEGIN TRANSACTION")
        connection.execute(_SCHEMA)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", datetime.now(timezone.utc).isoformat(timespec="seconds")),
                ("created_by", f"sanhua {__version__}"),
            ],
        )
        connection.execute("COMMIT")
        logger.info("Created run catalogue %s (schema version %d)", self.path, SCHEMA_VERSION)

    # Public operations -----------------------------------------------------

    def record(self, record: Mapping[str, Any]) -> str:
        """Store a run record; a run id that is already there is replaced.

        Parameters
        ----------
        record : Mapping
            The run record (``run.json``). ``run_id`` is required; the other
            fields are read when present: ``started_at``, ``finished_at``
            (ISO 8601), ``command``, ``status``, ``profile.name``, the path
            of the first input with role ``tape``, ``counts``,
            ``model.version``, ``run_dir``, ``sanhua_version``.

        Returns
        -------
        str
            The run id.

        Raises
        ------
        CatalogueError
            The record has no run id or an invalid timestamp, cannot be
            written as JSON, or the catalogue cannot be opened.
        """
        if not isinstance(record, Mapping):
            raise CatalogueError(f"A run record must be a mapping (the run.json object), got {type(record).__name__}.")
        run_id = record.get("run_id")
        if not isinstance(run_id, str) or not run_id.strip():
            raise CatalogueError(f"The run record has no run_id (got {run_id!r}); every run needs a non-empty text id.")
        run_id = run_id.strip()

        started_at = _utc(record.get("started_at"), "started_at")
        finished_at = _utc(record.get("finished_at"), "finished_at")
        status = record.get("status") or ("finished" if finished_at is not None else "running")
        counts = record.get("counts") if isinstance(record.get("counts"), Mapping) else {}
        profile = record.get("profile") if isinstance(record.get("profile"), Mapping) else {}
        model = record.get("model") if isinstance(record.get("model"), Mapping) else {}
        inputs = record.get("inputs") if isinstance(record.get("inputs"), (list, tuple)) else []
        tape_path = next((item.get("path") for item in inputs if isinstance(item, Mapping) and item.get("role") == "tape"), None)
        try:
            text = json.dumps(_finite(record), ensure_ascii=False, default=str, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise CatalogueError(f"Run record {run_id} cannot be stored as JSON: {error}.") from None

        row = (
            run_id,
            started_at,
            finished_at,
            _text(record.get("command")),
            str(status),
            _text(profile.get("name")),
            _text(tape_path),
            _count(counts.get("input_rows")),
            _count(counts.get("scored")),
            _count(counts.get("quarantined")),
            _count(counts.get("excluded")),
            _text(model.get("version")),
            _text(record.get("run_dir")),
            _text(record.get("sanhua_version")),
            datetime.now(timezone.utc).replace(tzinfo=None),
            text,
        )
        with self._connect() as connection:
            connection.execute(f"INSERT OR REPLACE INTO runs VALUES ({', '.join('?' * len(row))})", row)

        logger.info("Recorded run %s in %s", run_id, self.path)
        return run_id

    def list(self, limit: int = 50) -> pl.DataFrame:
        """Return the newest runs first (by start time, then by time recorded).

        Parameters
        ----------
        limit : int
            Number of runs returned at most, at least 1.

        Returns
        -------
        pl.DataFrame
            Columns :data:`LIST_COLUMNS`; timestamps in UTC.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise CatalogueError(f"limit must be a whole number of runs, at least 1; got {limit!r}.")

        with self._connect(read_only=True) as connection:
            rows = connection.execute(
                f"SELECT {', '.join(LIST_COLUMNS)} FROM runs "
                "ORDER BY started_at DESC NULLS LAST, recorded_at DESC, run_id DESC LIMIT ?",
                [limit],
            ).fetchall()
        return pl.DataFrame(rows, schema=_LIST_SCHEMA, orient="row")

    def show(self, run_id: str) -> dict[str, Any]:
        """Return the full record of one run.

        Parameters
        ----------
        run_id : str
            The run id, or a prefix of it that matches one run only.

        Returns
        -------
        dict
            The run record as it was recorded.

        Raises
        ------
        CatalogueError
            No run matches (the message lists the newest run ids), or the
            prefix matches several runs (the message lists them).
        """
        wanted = run_id.strip() if isinstance(run_id, str) else ""
        if not wanted:
            raise CatalogueError(f"A run id is required (got {run_id!r}). List the runs to find one.")

        with self._connect(read_only=True) as connection:
            exact = connection.execute("SELECT record FROM runs WHERE run_id = ?", [wanted]).fetchone()
            if exact is not None:
                return json.loads(exact[0])

            matches = connection.execute(
                "SELECT run_id, record FROM runs WHERE starts_with(run_id, ?) "
                "ORDER BY started_at DESC NULLS LAST, run_id DESC LIMIT ?",
                [wanted, _LISTED_IDS + 1],
            ).fetchall()
            if len(matches) == 1:
                return json.loads(matches[0][1])

            if len(matches) > 1:
                shown = ", ".join(match[0] for match in matches[:_LISTED_IDS])
                more = " and more" if len(matches) > _LISTED_IDS else ""
                raise CatalogueError(
                    f"Run id prefix {wanted!r} matches several runs in {self.path}: {shown}{more}. Give more characters of the id."
                )

            total = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
            newest = [row[0] for row in connection.execute(
                "SELECT run_id FROM runs ORDER BY started_at DESC NULLS LAST, recorded_at DESC LIMIT ?", [_LISTED_IDS]
            ).fetchall()]

        if total == 0:
            raise CatalogueError(f"No run {wanted!r}: the run catalogue {self.path} contains no runs yet.")
        raise CatalogueError(
            f"No run {wanted!r} in the run catalogue {self.path}. It contains {total} run(s); the newest: {', '.join(newest)}."
        )
