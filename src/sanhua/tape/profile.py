"""Mapping profiles: how one source's files map to the canonical tables.

A profile is a TOML file (format in ``docs/profiles.md``). Shipped profiles
live in ``sanhua/tape/profiles/<name>.toml``; a user passes a shipped name or
the path of their own file. :func:`load_profile` checks the whole profile
against :mod:`sanhua.tape.schema` before any data is read, so a typo in a
canonical name, a code that is not canonical or an outcome column mapped into
the loans table fails at once with a message naming the entry.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sanhua.errors import ProfileError
from sanhua.tape.schema import CODES, TABLES

__all__ = [
    "TableMapping",
    "Profile",
    "load_profile",
    "list_profiles",
    "PROFILE_DIR",
    "EXTRA_KINDS",
    "PERSONAL_KINDS",
    "UNITS",
]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"

# Kinds of non-canonical ("extra") source columns. The personal kinds are
# pseudonymised like personal canonical columns.
PERSONAL_KINDS = frozenset({"name", "id_number", "phone", "card", "address", "free_text", "email"})
EXTRA_KINDS = frozenset({"text", "float", "int", "amount", "rate", "date", "datetime", "bool"}) | PERSONAL_KINDS

# Units a source column may be in when it differs from the canonical unit.
UNITS = frozenset({"percent", "fraction", "yuan", "ten_thousand_yuan"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\"[^\"]+\"")


@dataclass(frozen=True)
class TableMapping:
    """How one source file maps to one canonical table.

    Attributes
    ----------
    name : str
        Canonical table name (a key of :data:`sanhua.tape.schema.TABLES`).
    file : str
        File stem inside a TAPE folder; any supported extension.
    columns : dict of str to str
        Canonical column -> source header.
    codes : dict of str to dict
        Canonical column or extra header -> {source value: canonical value}.
        A canonical value of ``""`` means empty (null).
    units : dict of str to str
        Canonical column or extra header -> unit of the source values.
    extra : dict of str to str
        Extra source header -> kind (see :data:`EXTRA_KINDS`), kept as model
        features unless personal.
    derived : dict of str to str
        Column name -> DuckDB SQL expression over the parsed canonical and extra
        columns (mapped columns can also be named by their source header).
        A derived canonical column fills only rows where the mapped value is empty.
    id_fallback : str or None
        ``"row"``: an empty id becomes ``row-<n>``, n the 1-based data row of the
        unfiltered file.
    """

    name: str
    file: str
    columns: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, object]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    id_fallback: str | None = None

    @property
    def id_column(self) -> str:
        """Canonical id column of the table: its key, else its loan or borrower reference."""
        schema = TABLES[self.name]
        if schema.key:
            return schema.key[0]
        return "loan_id" if "loan_id" in schema.names else "borrower_id"

    @property
    def source_headers(self) -> list[str]:
        """Source headers the mapping reads (mapped and extra), without repeats."""
        seen: dict[str, None] = {}
        for header in [*self.columns.values(), *self.extra]:
            seen.setdefault(header, None)
        return list(seen)


@dataclass(frozen=True)
class Profile:
    """A checked mapping profile.

    Attributes
    ----------
    name, description : str
        Profile name (recorded in run.json) and one-line description.
    currency : str
        ISO 4217 currency used when the source has no currency column.
    non_performing : str or None
        DuckDB SQL condition over the loan file's source columns; rows that fail
        it are excluded with reason ``performing``.
    as_of : str or None
        DuckDB SQL expression over the parsed loans columns giving a per-loan
        cut-off date when the caller passes none.
    outcome_columns : tuple of str
        Source headers (``fnmatch`` patterns allowed, e.g. ``settlement_*``) that
        hold outcomes: read only into the outcomes table.
    tables : dict of str to TableMapping
        One mapping per canonical table present in the source; ``loans`` always.
    features : dict of str to tuple of str
        Feature groups of the assessment models (canonical names or extra headers).
    path : Path
        File the profile was read from.
    sha256 : str
        SHA-256 of the profile file, hex.
    """

    name: str
    description: str
    currency: str
    non_performing: str | None
    as_of: str | None
    outcome_columns: tuple[str, ...]
    tables: dict[str, TableMapping]
    features: dict[str, tuple[str, ...]]
    path: Path
    sha256: str
    targets: dict[str, object] = field(default_factory=dict)

    def is_outcome(self, header: str) -> bool:
        """Return whether a source header matches one of the outcome columns."""
        return any(fnmatch.fnmatchcase(header, pattern) for pattern in self.outcome_columns)


def list_profiles() -> list[str]:
    """Return the names of the shipped profiles, sorted."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load and check a mapping profile.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped profile's name (``"cn-bank"``) or the path of a TOML file.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        The profile is unknown, unreadable or inconsistent with the canonical
        schema; the message names the entry and lists the shipped profiles.
    """
    path = _resolve(name_or_path)
    raw_bytes = path.read_bytes()
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"profile {path} is not valid UTF-8 TOML: {exc}; see docs/profiles.md for the format") from exc

    profile = _build(data, path, hashlib.sha256(raw_bytes).hexdigest())
    _check(profile)
    return profile


def _resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if text.endswith(".toml") or candidate.exists() or "/" in text or "\\" in text:
        if not candidate.is_file():
            raise ProfileError(
                f"profile file {candidate} not found; give an existing TOML file or a shipped profile "
                f"name: {', '.join(list_profiles())}"
            )
        return candidate
    shipped = PROFILE_DIR / f"{text}.toml"
    if not shipped.is_file():
        raise ProfileError(
            f"unknown profile {text!r}; shipped profiles: {', '.join(list_profiles())}, "
            "or give the path of your own TOML file"
        )
    return shipped


def _build(data: dict, path: Path, digest: str) -> Profile:
    where = f"profile {path}"
    for key in ("name", "currency", "tables"):
        if key not in data:
            raise ProfileError(f"{where}: missing top-level key {key!r}; see docs/profiles.md")
    unknown = set(data) - {"name", "description", "currency", "non_performing", "as_of", "outcome_columns", "tables", "features", "targets"}
    if unknown:
        raise ProfileError(f"{where}: unknown top-level keys {sorted(unknown)}; see docs/profiles.md")

    tables: dict[str, TableMapping] = {}
    for table_name, spec in data["tables"].items():
        if table_name not in TABLES:
            raise ProfileError(f"{where}: unknown table {table_name!r}; canonical tables: {', '.join(TABLES)}")
        allowed = {"file", "columns", "codes", "units", "extra", "derived", "id_fallback"}
        if set(spec) - allowed:
            raise ProfileError(f"{where}: [tables.{table_name}] has unknown keys {sorted(set(spec) - allowed)}")
        tables[table_name] = TableMapping(
            name=table_name,
            file=str(spec.get("file", table_name)),
            columns={str(k): str(v) for k, v in spec.get("columns", {}).items()},
            codes={str(k): dict(v) for k, v in spec.get("codes", {}).items()},
            units={str(k): str(v) for k, v in spec.get("units", {}).items()},
            extra={str(k): str(v) for k, v in spec.get("extra", {}).items()},
            derived={str(k): str(v) for k, v in spec.get("derived", {}).items()},
            id_fallback=spec.get("id_fallback"),
        )

    features = {str(group): tuple(str(c) for c in cols) for group, cols in data.get("features", {}).items()}
    return Profile(
        name=str(data["name"]),
        description=str(data.get("description", "")),
        currency=str(data["currency"]),
        non_performing=data.get("non_performing") or None,
        as_of=data.get("as_of") or None,
        outcome_columns=tuple(str(c) for c in data.get("outcome_columns", [])),
        tables=tables,
        features=features,
        path=path,
        sha256=digest,
        targets=dict(data.get("targets", {})),
    )


def _check(profile: Profile) -> None:
    where = f"profile {profile.path}"
    if "loans" not in profile.tables:
        raise ProfileError(f"{where}: no [tables.loans] section; every profile maps the loans table")
    if not re.fullmatch(r"[A-Z]{3}", profile.currency):
        raise ProfileError(f"{where}: currency {profile.currency!r} is not an ISO 4217 code such as CNY or USD")

    for mapping in profile.tables.values():
        _check_table(profile, mapping, where)

    _check_features(profile, where)


def _check_table(profile: Profile, mapping: TableMapping, where: str) -> None:
    schema = TABLES[mapping.name]
    section = f"{where}: [tables.{mapping.name}]"

    for canonical in [*mapping.columns, *(k for k in mapping.derived if k in schema.names)]:
        if canonical not in schema.names:
            raise ProfileError(
                f"{section}.columns: {canonical!r} is not a canonical column of {mapping.name}; "
                f"canonical columns: {', '.join(schema.names)}"
            )
    for header, kind in mapping.extra.items():
        if kind not in EXTRA_KINDS:
            raise ProfileError(f"{section}.extra: kind {kind!r} of {header!r} is not one of {sorted(EXTRA_KINDS)}")
        if header in schema.names:
            raise ProfileError(
                f"{section}.extra: {header!r} is also a canonical column name of {mapping.name}; map it under columns"
            )
    if mapping.id_fallback not in (None, "row"):
        raise ProfileError(f"{section}: id_fallback must be \"row\" or absent, got {mapping.id_fallback!r}")

    known = set(schema.names) | set(mapping.extra)
    for column, unit in mapping.units.items():
        if unit not in UNITS:
            raise ProfileError(f"{section}.units: unit {unit!r} of {column!r} is not one of {sorted(UNITS)}")
        if column not in known:
            raise ProfileError(f"{section}.units: {column!r} is neither a canonical column nor an extra column")
    for column, table in mapping.codes.items():
        if column not in known:
            raise ProfileError(f"{section}.codes: {column!r} is neither a canonical column nor an extra column")
        if column in schema.names and schema.column(column).code_list:
            allowed = CODES[schema.column(column).code_list]
            bad = [v for v in table.values() if v != "" and v not in allowed]
            if bad:
                raise ProfileError(
                    f"{section}.codes.{column}: {bad} are not canonical codes; allowed: {', '.join(allowed)}"
                )

    _check_required(profile, mapping, section)

    if mapping.name == "outcomes":
        return
    for canonical, header in mapping.columns.items():
        if profile.is_outcome(header):
            raise ProfileError(
                f"{section}.columns: {canonical} is mapped to outcome column {header!r}; outcomes may only feed "
                "the outcomes table, never a feature"
            )
    for header in mapping.extra:
        if profile.is_outcome(header):
            raise ProfileError(f"{section}.extra: {header!r} is an outcome column; outcomes may only feed the outcomes table")
    for name, sql in mapping.derived.items():
        for token in _IDENTIFIER.findall(sql):
            if profile.is_outcome(token.strip('"')):
                raise ProfileError(
                    f"{section}.derived.{name}: reads outcome column {token!r}; outcomes may only feed the outcomes table"
                )


def _check_required(profile: Profile, mapping: TableMapping, section: str) -> None:
    schema = TABLES[mapping.name]
    for column in schema.columns:
        if not column.required or column.name in mapping.columns or column.name in mapping.derived:
            continue
        if mapping.name == "loans" and column.name == "as_of_date":
            continue  # from --as-of or the profile's as_of expression
        raise ProfileError(
            f"{section}: required column {column.name!r} is neither mapped under columns nor derived; "
            f"map it to a source header ({column.description})"
        )


def _check_features(profile: Profile, where: str) -> None:
    loans = profile.tables["loans"]
    borrowers = profile.tables.get("borrowers")
    available = set(loans.columns) | set(loans.extra) | set(loans.derived)
    if borrowers is not None:
        available |= set(borrowers.columns) | set(borrowers.extra) | set(borrowers.derived)
    for group, names in profile.features.items():
        for name in names:
            if profile.is_outcome(name):
                raise ProfileError(f"{where}: [features].{group} lists outcome column {name!r}; outcomes are never features")
            for table in ("loans", "borrowers"):
                schema = TABLES[table]
                if name in schema.names and schema.column(name).protected:
                    raise ProfileError(
                        f"{where}: [features].{group} lists protected column {name!r}; gender, age and region are "
                        "kept for fairness tests and never feed the willingness or ability models"
                    )
            if name not in available:
                raise ProfileError(
                    f"{where}: [features].{group} lists {name!r}, which is not mapped, extra or derived in the "
                    "loans or borrowers table"
                )
