"""Model registry: every fitted model bundle, its approval status and the audit trail.

The registry lives in the run catalogue's DuckDB file
(``$SANHUA_HOME/catalogue.duckdb``, see :mod:`sanhua.governance.catalogue`)
and uses the catalogue's connection handling: the same lock retries, the same
errors. Its tables carry their own schema version, ``registry_schema_version``
in the catalogue's ``meta`` table, and are created on first use.

Tables
------
``models``
    One row per model version (``bundle.json`` ``version``): the model
    folder, the SHA-256 of the bundle's files at registration
    (``bundle_sha256``), the training data hash, the feature list of each
    model, the settings, the metrics, the fairness results (null until
    :meth:`Registry.set_fairness` stores them), the approval status and who
    approved the model and when. JSON columns are JSON text. Timestamps are
    UTC without zone.
``model_status_changes``
    The audit trail: one row per status change (registration included), with
    the previous and new status, who made the change, when, and a note.

Statuses
--------
``draft`` (registered by ``sanhua fit``) -> ``validated`` -> ``approved``;
any status but ``retired`` -> ``retired``. No other change is allowed, so an
approved model never goes back to draft. Every change names the person who
made it. A refit of the same data on the same day gets the same version: a
draft is then replaced, but a validated, approved or retired version never is.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from sanhua import __version__
from sanhua.errors import CatalogueError
from sanhua.governance.catalogue import Catalogue, _finite

__all__ = [
    "Registry",
    "STATUSES",
    "TRANSITIONS",
    "REGISTRY_SCHEMA_VERSION",
    "MODEL_LIST_COLUMNS",
    "bundle_digest",
]

logger = logging.getLogger(__name__)

REGISTRY_SCHEMA_VERSION: Final[int] = 1
"""Version of the registry's tables; a file with a higher version is rejected."""

STATUSES: Final[tuple[str, ...]] = ("draft", "validated", "approved", "retired")
"""Approval statuses, in lifecycle order."""

TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "draft": ("validated", "retired"),
    "validated": ("approved", "retired"),
    "approved": ("retired",),
    "retired": (),
}
"""Allowed status changes: current status -> statuses it may change to."""

MODEL_LIST_COLUMNS: Final[tuple[str, ...]] = (
    "version",
    "status",
    "trained_at",
    "registered_at",
    "profile",
    "approved_by",
    "approved_at",
    "model_dir",
)
"""Columns returned by :meth:`Registry.list`, in order."""

_META_KEY: Final[str] = "registry_schema_version"

_SCHEMA: Final[str] = """
CREATE TABLE IF NOT EXISTS models (
    version VARCHAR PRIMARY KEY,
    model_dir VARCHAR NOT NULL,
    bundle_sha256 VARCHAR NOT NULL,
    training_data_sha256 VARCHAR,
    trained_at TIMESTAMP,
    registered_at TIMESTAMP NOT NULL,
    sanhua_version VARCHAR,
    profile VARCHAR,
    features VARCHAR NOT NULL,
    settings VARCHAR NOT NULL,
    metrics VARCHAR NOT NULL,
    fairness VARCHAR,
    status VARCHAR NOT NULL,
    status_changed_at TIMESTAMP NOT NULL,
    approved_by VARCHAR,
    approved_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS model_status_changes (
    version VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    from_status VARCHAR,
    to_status VARCHAR NOT NULL,
    changed_by VARCHAR NOT NULL,
    note VARCHAR
);
"""

_LIST_SCHEMA: Final[dict[str, pl.DataType]] = {
    "version": pl.Utf8(),
    "status": pl.Utf8(),
    "trained_at": pl.Datetime("us"),
    "registered_at": pl.Datetime("us"),
    "profile": pl.Utf8(),
    "approved_by": pl.Utf8(),
    "approved_at": pl.Datetime("us"),
    "model_dir": pl.Utf8(),
}

_JSON_COLUMNS: Final[tuple[str, ...]] = ("features", "settings", "metrics", "fairness")

# Number of versions an "unknown version" message lists.
_LISTED_VERSIONS: Final[int] = 10

# Name recorded as the author of a registration made by `sanhua fit`.
_REGISTERED_BY: Final[str] = "sanhua fit"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _iso(value: Any) -> Any:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value


def bundle_digest(model_dir: str | Path) -> str:
    """Return the SHA-256 of a model folder's ``bundle.json`` and LightGBM model files.

    The files are hashed in name order, each as its name and its bytes, so
    that a changed, added or removed model file changes the digest.

    Raises
    ------
    CatalogueError
        When the folder has no ``bundle.json``.
    """
    folder = Path(model_dir)
    bundle = folder / "bundle.json"
    if not bundle.is_file():
        raise CatalogueError(f"{folder} is not a model folder: bundle.json not found. Create one with `sanhua fit HISTORY --out {folder}`.")

    digest = hashlib.sha256()
    for path in sorted([bundle, *folder.glob("*.txt")], key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_bundle(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "bundle.json"
    if not path.is_file():
        raise CatalogueError(f"{model_dir} is not a model folder: bundle.json not found. Create one with `sanhua fit HISTORY --out {model_dir}`.")
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CatalogueError(f"{path} is not valid JSON ({error}); refit the model with `sanhua fit`.") from None
    version = bundle.get("version") if isinstance(bundle, dict) else None
    if not isinstance(version, str) or not version.strip():
        raise CatalogueError(f"{path} has no model version (field 'version'); refit the model with `sanhua fit`.")
    return bundle


def _json_text(value: Any, field: str, version: str) -> str:
    try:
        # NaN metrics (an AUC on one class) are stored as null.
        return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, default=str)
    except (TypeError, ValueError) as error:
        raise CatalogueError(f"The {field} of model {version} cannot be stored as JSON: {error}.") from None


class Registry:
    """The model registry in the run catalogue's DuckDB file.

    Parameters
    ----------
    catalogue : Catalogue or None
        The catalogue whose file contains the registry. None means the default
        catalogue, ``$SANHUA_HOME/catalogue.duckdb``.

    Examples
    --------
    >>> registry = Registry(Catalogue(tmp / "catalogue.duckdb"))  # doctest: +SKIP
    >>> registry.register("models/m1")  # doctest: +SKIP
    '20261204-1a2b3c4d'
    >>> registry.set_status("20261204", "validated", by="Li Wei")["status"]  # doctest: +SKIP
    'validated'
    """

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue if catalogue is not None else Catalogue()

    def __repr__(self) -> str:
        return f"Registry({str(self.catalogue.path)!r})"

    @property
    def path(self) -> Path:
        """The catalogue file that contains the registry."""
        return self.catalogue.path

    # Connection handling -------------------------------------------------

    def _connection(self, *, read_only: bool = False):
        # The catalogue checks its own schema version and creates its tables.
        return self.catalogue._connect(read_only=read_only)

    def _ensure_schema(self, connection: duckdb.DuckDBPyConnection, *, read_only: bool) -> bool:
        """Check the registry's schema version and create its tables; return whether they exist."""
        row = connection.execute("SELECT value FROM meta WHERE key = ?", [_META_KEY]).fetchone()
        if row is not None:
            try:
                version = int(row[0])
            except ValueError:
                version = None
            if version is None:
                raise CatalogueError(
                    f"The model registry in {self.path} has an invalid {_META_KEY} {row[0]!r} in its meta table. "
                    "Move the file aside (the next command creates a new, empty catalogue) or restore it from a backup."
                )
            if version > REGISTRY_SCHEMA_VERSION:
                raise CatalogueError(
                    f"The model registry in {self.path} has schema version {version}, newer than this sanhua "
                    f"({__version__}) reads (version {REGISTRY_SCHEMA_VERSION}). Upgrade sanhua, or set SANHUA_HOME to use another catalogue."
                )
            return True
        if read_only:
            return False

        connection.execute("BEGIN TRANSACTION")
        connection.execute(_SCHEMA)
        connection.execute("INSERT INTO meta VALUES (?, ?)", [_META_KEY, str(REGISTRY_SCHEMA_VERSION)])
        connection.execute("COMMIT")
        logger.info("Created the model registry tables in %s (schema version %d)", self.path, REGISTRY_SCHEMA_VERSION)
        return True

    # Registration --------------------------------------------------------

    def check_registrable(self, version: str, model_dir: str | Path) -> None:
        """Raise when a fit must not write ``version`` to ``model_dir``.

        A fit is rejected when ``version`` is registered with a status other
        than draft, or when ``model_dir`` is the folder of another version that
        is validated or approved (writing there would change an approved
        model's files).

        Raises
        ------
        CatalogueError
            With the version, its status, its folder and what to do instead.
        """
        folder = str(Path(model_dir).resolve())
        with self._connection(read_only=True) as connection:
            if not self._ensure_schema(connection, read_only=True):
                return
            same = connection.execute("SELECT status, model_dir FROM models WHERE version = ?", [version]).fetchone()
            occupied = connection.execute(
                "SELECT version, status FROM models WHERE model_dir = ? AND version <> ? AND status IN ('validated', 'approved')",
                [folder, version],
            ).fetchone()

        if same is not None and same[0] != "draft":
            raise CatalogueError(
                f"Model version {version} is already registered with status {same[0]} (folder {same[1]}); "
                "a registered model that is not a draft is never replaced. The new fit has the same version because it "
                "uses the same training data on the same day: keep the registered model, or fit on another data selection."
            )
        if occupied is not None:
            raise CatalogueError(
                f"The folder {folder} contains model {occupied[0]}, registered with status {occupied[1]}; writing a new fit "
                "there would change its files. Give another --out folder."
            )

    def register(self, model_dir: str | Path, *, note: str | None = None) -> str:
        """Register the bundle in ``model_dir`` as a draft and return its version.

        Parameters
        ----------
        model_dir : str or Path
            Folder written by ``sanhua fit`` (``bundle.json`` and the models).
        note : str or None
            Text stored with the registration in the audit trail.

        Returns
        -------
        str
            The model version (``bundle.json`` ``version``).

        Raises
        ------
        CatalogueError
            When the folder is not a model folder, or the version is already
            registered with a status other than draft.
        """
        folder = Path(model_dir).resolve()
        bundle = _read_bundle(folder)
        version = bundle["version"].strip()
        digest = bundle_digest(folder)
        self.check_registrable(version, folder)

        fit_record = bundle.get("fit") if isinstance(bundle.get("fit"), Mapping) else {}
        profile = fit_record.get("profile") if isinstance(fit_record.get("profile"), Mapping) else {}
        now = _now()
        row = (
            version,
            str(folder),
            digest,
            bundle.get("training_data_sha256"),
            _utc(bundle.get("trained_at")),
            now,
            bundle.get("sanhua_version"),
            profile.get("name"),
            _json_text(bundle.get("features", {}), "feature lists", version),
            _json_text(bundle.get("settings", {}), "settings", version),
            _json_text(bundle.get("metrics", {}), "metrics", version),
            None,
            "draft",
            now,
            None,
            None,
        )
        with self._connection() as connection:
            self._ensure_schema(connection, read_only=False)
            existing = connection.execute("SELECT status FROM models WHERE version = ?", [version]).fetchone()
            connection.execute("BEGIN TRANSACTION")
            connection.execute("DELETE FROM models WHERE version = ?", [version])
            connection.execute(f"INSERT INTO models VALUES ({', '.join('?' * len(row))})", row)
            connection.execute(
                "INSERT INTO model_status_changes VALUES (?, ?, ?, ?, ?, ?)",
                [version, now, existing[0] if existing else None, "draft", _REGISTERED_BY, note or ("registered again" if existing else "registered")],
            )
            connection.execute("COMMIT")

        logger.info("Registered model %s (%s) as draft in %s", version, folder, self.path)
        return version

    # Status changes ------------------------------------------------------

    def set_status(self, version: str, status: str, *, by: str, note: str | None = None) -> dict[str, Any]:
        """Change the approval status of a model and record the change.

        Parameters
        ----------
        version : str
            The model version, or a prefix of it that matches one model only.
        status : str
            ``validated``, ``approved`` or ``retired`` (see :data:`TRANSITIONS`).
        by : str
            Name of the person making the change; stored in the audit trail
            and, for an approval, as ``approved_by``.
        note : str or None
            Text stored with the change.

        Returns
        -------
        dict
            The model's record after the change (as :meth:`show`).

        Raises
        ------
        CatalogueError
            When the status is unknown, the change is not allowed from the
            model's current status, ``by`` is blank, or the version is unknown.
        """
        if status not in STATUSES:
            raise CatalogueError(f"Unknown model status {status!r}; use one of {', '.join(STATUSES[1:])}.")
        name = by.strip() if isinstance(by, str) else ""
        if not name:
            raise CatalogueError("A status change needs the name of the person making it (--by NAME).")

        with self._connection() as connection:
            self._ensure_schema(connection, read_only=False)
            full = self._resolve(connection, version)
            current = connection.execute("SELECT status FROM models WHERE version = ?", [full]).fetchone()[0]
            allowed = TRANSITIONS[current]
            if status not in allowed:
                options = ", ".join(allowed) if allowed else "none (a retired model stays retired)"
                raise CatalogueError(
                    f"Model {full} is {current}; it cannot change to {status}. Allowed from {current}: {options}. "
                    "The lifecycle is draft -> validated -> approved, and any status can change to retired."
                )

            now = _now()
            connection.execute("BEGIN TRANSACTION")
            if status == "approved":
                connection.execute(
                    "UPDATE models SET status = ?, status_changed_at = ?, approved_by = ?, approved_at = ? WHERE version = ?",
                    [status, now, name, now, full],
                )
            else:
                connection.execute("UPDATE models SET status = ?, status_changed_at = ? WHERE version = ?", [status, now, full])
            connection.execute(
                "INSERT INTO model_status_changes VALUES (?, ?, ?, ?, ?, ?)", [full, now, current, status, name, note]
            )
            connection.execute("COMMIT")

        logger.info("Model %s changed from %s to %s", full, current, status)
        return self.show(full)

    def set_fairness(self, version: str, fairness: Mapping[str, Any]) -> None:
        """Store the fairness results of a model (JSON), replacing earlier ones.

        Raises
        ------
        CatalogueError
            When the version is unknown or the results cannot be written as JSON.
        """
        if not isinstance(fairness, Mapping):
            raise CatalogueError(f"Fairness results must be a mapping, got {type(fairness).__name__}.")
        with self._connection() as connection:
            self._ensure_schema(connection, read_only=False)
            full = self._resolve(connection, version)
            text = _json_text(dict(fairness), "fairness results", full)
            connection.execute("UPDATE models SET fairness = ? WHERE version = ?", [text, full])
        logger.info("Stored the fairness results of model %s", full)

    # Reading -------------------------------------------------------------

    def list(self, status: str | None = None) -> pl.DataFrame:
        """Return the registered models, newest registration first.

        Parameters
        ----------
        status : str or None
            Only models with this status; None for all.

        Returns
        -------
        pl.DataFrame
            Columns :data:`MODEL_LIST_COLUMNS`; timestamps in UTC.
        """
        if status is not None and status not in STATUSES:
            raise CatalogueError(f"Unknown model status {status!r}; use one of {', '.join(STATUSES)}.")

        with self._connection(read_only=True) as connection:
            if not self._ensure_schema(connection, read_only=True):
                return pl.DataFrame(schema=_LIST_SCHEMA)
            where = "WHERE status = ?" if status is not None else ""
            rows = connection.execute(
                f"SELECT {', '.join(MODEL_LIST_COLUMNS)} FROM models {where} ORDER BY registered_at DESC, version DESC",
                [status] if status is not None else [],
            ).fetchall()
        return pl.DataFrame(rows, schema=_LIST_SCHEMA, orient="row")

    def show(self, version: str) -> dict[str, Any]:
        """Return one model's record, its audit trail and whether its files changed.

        Parameters
        ----------
        version : str
            The model version, or a prefix of it that matches one model only.

        Returns
        -------
        dict
            Every column of ``models`` (JSON columns decoded, timestamps as
            ISO 8601 text), ``history`` (the status changes, oldest first) and
            ``files`` (``unchanged``, ``changed`` or ``missing``: the folder's
            files compared with ``bundle_sha256``).

        Raises
        ------
        CatalogueError
            No model matches (the message lists the newest versions), or the
            prefix matches several models (the message lists them).
        """
        with self._connection(read_only=True) as connection:
            if not self._ensure_schema(connection, read_only=True):
                raise CatalogueError(f"No model {version!r}: the registry in {self.path} contains no models yet. Fit one with `sanhua fit`.")
            full = self._resolve(connection, version)
            cursor = connection.execute("SELECT * FROM models WHERE version = ?", [full])
            names = [column[0] for column in cursor.description]
            values = cursor.fetchone()
            history = connection.execute(
                "SELECT changed_at, from_status, to_status, changed_by, note FROM model_status_changes "
                "WHERE version = ? ORDER BY changed_at, rowid",
                [full],
            ).fetchall()

        record: dict[str, Any] = {}
        for name, value in zip(names, values):
            if name in _JSON_COLUMNS:
                record[name] = json.loads(value) if value is not None else None
            else:
                record[name] = _iso(value)
        record["history"] = [
            {"changed_at": _iso(row[0]), "from_status": row[1], "to_status": row[2], "changed_by": row[3], "note": row[4]}
            for row in history
        ]
        record["files"] = self._file_state(Path(record["model_dir"]), record["bundle_sha256"])
        return record

    @staticmethod
    def _file_state(folder: Path, expected: str) -> str:
        if not (folder / "bundle.json").is_file():
            return "missing"
        return "unchanged" if bundle_digest(folder) == expected else "changed"

    def _resolve(self, connection: duckdb.DuckDBPyConnection, version: str) -> str:
        requested = version.strip() if isinstance(version, str) else ""
        if not requested:
            raise CatalogueError(f"A model version is required (got {version!r}). List the models with `sanhua models list`.")

        exact = connection.execute("SELECT version FROM models WHERE version = ?", [requested]).fetchone()
        if exact is not None:
            return exact[0]
        matches = [
            row[0]
            for row in connection.execute(
                "SELECT version FROM models WHERE starts_with(version, ?) ORDER BY registered_at DESC LIMIT ?",
                [requested, _LISTED_VERSIONS + 1],
            ).fetchall()
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            more = " and more" if len(matches) > _LISTED_VERSIONS else ""
            raise CatalogueError(
                f"Model version prefix {requested!r} matches several models in {self.path}: "
                f"{', '.join(matches[:_LISTED_VERSIONS])}{more}. Give more characters of the version."
            )

        newest = [
            row[0]
            for row in connection.execute(
                "SELECT version FROM models ORDER BY registered_at DESC LIMIT ?", [_LISTED_VERSIONS]
            ).fetchall()
        ]
        if not newest:
            raise CatalogueError(f"No model {requested!r}: the registry in {self.path} contains no models yet. Fit one with `sanhua fit`.")
        raise CatalogueError(f"No model {requested!r} in the registry {self.path}. The newest versions: {', '.join(newest)}.")
