"""Tests of the run catalogue (DuckDB file under SANHUA_HOME)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from sanhua.errors import CatalogueError
from sanhua.governance.catalogue import CATALOGUE_FILE, HOME_ENV, LIST_COLUMNS, SCHEMA_VERSION, Catalogue


def _record(run_id: str, started_at: str | None = "2026-12-04T10:00:00+08:00", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "run_id": run_id,
        "sanhua_version": "0.1.0",
        "command": "run",
        "started_at": started_at,
        "finished_at": "2026-12-04T10:05:00+08:00",
        "duration_s": 300.0,
        "run_dir": f"/runs/{run_id}",
        "language": "zh-CN",
        "profile": {"name": "cn-bank", "path": "cn-bank.toml", "sha256": "a" * 64},
        "config": {"segment": {"willing_high": 0.6}},
        "inputs": [
            {"role": "history", "path": "/data/history.csv"},
            {"role": "tape", "path": "/data/tape.xlsx", "sha256": "b" * 64},
        ],
        "model": {"version": "m-1", "metrics": {"auc": 0.7}},
        "counts": {"input_rows": 120, "scored": 100, "quarantined": 15, "excluded": 5, "quarantined_by_reason": {"out_of_range": 15}},
        "backtest": None,
    }
    record.update(extra)
    return record


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    return Catalogue(tmp_path / "cat" / CATALOGUE_FILE)


def test_record_round_trip(catalogue: Catalogue) -> None:
    record = _record("20261204T100000-aaaa")

    run_id = catalogue.record(record)

    assert run_id == "20261204T100000-aaaa"
    assert catalogue.show(run_id) == record


def test_list_columns_and_values(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-1"))

    runs = catalogue.list()

    assert tuple(runs.columns) == LIST_COLUMNS
    row = runs.row(0, named=True)
    assert row["tape_path"] == "/data/tape.xlsx"
    assert row["profile"] == "cn-bank"
    assert row["model_version"] == "m-1"
    assert (row["input_rows"], row["scored"], row["quarantined"], row["excluded"]) == (120, 100, 15, 5)
    assert row["status"] == "finished"
    assert row["started_at"].isoformat() == "2026-12-04T02:00:00"


def test_list_newest_first(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-b", "2026-12-02T00:00:00+00:00"))
    catalogue.record(_record("run-c", "2026-12-03T00:00:00+00:00"))
    catalogue.record(_record("run-a", "2026-12-01T00:00:00+00:00"))

    runs = catalogue.list()

    assert runs["run_id"].to_list() == ["run-c", "run-b", "run-a"]


def test_list_limit(catalogue: Catalogue) -> None:
    for day in range(1, 6):
        catalogue.record(_record(f"run-{day}", f"2026-12-0{day}T00:00:00+00:00"))

    runs = catalogue.list(limit=2)

    assert runs["run_id"].to_list() == ["run-5", "run-4"]


def test_list_rejects_bad_limit(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="limit"):
        catalogue.list(limit=0)


def test_list_empty_catalogue(catalogue: Catalogue) -> None:
    runs = catalogue.list()

    assert runs.height == 0
    assert tuple(runs.columns) == LIST_COLUMNS
    assert runs.schema["started_at"] == pl.Datetime("us")


def test_show_by_unique_prefix(catalogue: Catalogue) -> None:
    catalogue.record(_record("20261204-aaaa"))
    catalogue.record(_record("20261204-bbbb"))

    assert catalogue.show("20261204-b")["run_id"] == "20261204-bbbb"


def test_show_ambiguous_prefix_lists_matches(catalogue: Catalogue) -> None:
    catalogue.record(_record("20261204-aaaa"))
    catalogue.record(_record("20261204-bbbb"))

    with pytest.raises(CatalogueError, match="matches several runs.*20261204-aaaa") as error:
        catalogue.show("20261204")
    assert "20261204-bbbb" in str(error.value)


def test_show_unknown_id_lists_runs(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-known"))

    with pytest.raises(CatalogueError, match="No run 'nope'.*contains 1 run\\(s\\).*run-known"):
        catalogue.show("nope")


def test_show_on_empty_catalogue(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="contains no runs"):
        catalogue.show("anything")


def test_show_prefix_is_not_a_pattern(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-1"))

    with pytest.raises(CatalogueError, match="No run"):
        catalogue.show("%")


def test_record_again_replaces(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-1", status="running", finished_at=None))
    assert catalogue.list()["status"].to_list() == ["running"]

    catalogue.record(_record("run-1"))

    runs = catalogue.list()
    assert runs.height == 1
    assert runs["status"].to_list() == ["finished"]


def test_record_keeps_explicit_status(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-failed", status="failed"))

    assert catalogue.list()["status"].to_list() == ["failed"]


def test_record_requires_run_id(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="run_id"):
        catalogue.record({"command": "run"})


def test_record_rejects_bad_timestamp(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="started_at.*'yesterday'"):
        catalogue.record(_record("run-1", started_at="yesterday"))


def test_record_stores_nan_as_null(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-1", duration_s=float("nan"), model={"version": "m", "metrics": {"auc": [0.5, float("inf")]}}))

    shown = catalogue.show("run-1")

    assert shown["duration_s"] is None
    assert shown["model"]["metrics"]["auc"] == [0.5, None]


def test_record_stores_paths_as_text(catalogue: Catalogue, tmp_path: Path) -> None:
    catalogue.record(_record("run-1", run_dir=tmp_path))

    assert catalogue.show("run-1")["run_dir"] == str(tmp_path)


def test_sanhua_home_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home" / "nested"
    monkeypatch.setenv(HOME_ENV, str(home))

    catalogue = Catalogue()
    catalogue.record(_record("run-1"))

    assert catalogue.path == home / CATALOGUE_FILE
    assert (home / CATALOGUE_FILE).is_file()
    assert Catalogue().show("run-1")["run_id"] == "run-1"


def test_default_home_under_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    assert Catalogue().path == tmp_path / ".sanhua" / CATALOGUE_FILE


def test_schema_version_recorded(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-1"))

    with duckdb.connect(str(catalogue.path), read_only=True) as connection:
        version = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()

    assert version == (str(SCHEMA_VERSION),)


def test_newer_schema_rejected(catalogue: Catalogue) -> None:
    catalogue.record(_record("run-1"))
    with duckdb.connect(str(catalogue.path)) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")

    with pytest.raises(CatalogueError, match="schema version 99.*Upgrade sanhua"):
        catalogue.list()


def test_corrupt_file_names_file_and_fix(tmp_path: Path) -> None:
    path = tmp_path / CATALOGUE_FILE
    path.write_bytes(b"not a database" * 100)

    with pytest.raises(CatalogueError, match="move it aside") as error:
        Catalogue(path).list()
    assert str(path) in str(error.value)


def test_foreign_database_rejected(tmp_path: Path) -> None:
    path = tmp_path / CATALOGUE_FILE
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE something (a INTEGER)")

    with pytest.raises(CatalogueError, match="not a sanhua run catalogue"):
        Catalogue(path).record(_record("run-1"))


def test_folder_path_rejected(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="is a folder"):
        Catalogue(tmp_path).list()


def test_locked_file_names_file_and_fix(tmp_path: Path) -> None:
    path = tmp_path / CATALOGUE_FILE
    Catalogue(path).record(_record("run-1"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, duckdb
                connection = duckdb.connect({str(path)!r})
                print("locked", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"

        with pytest.raises(CatalogueError, match="locked by another process.*Wait for the other sanhua command") as error:
            Catalogue(path, lock_timeout_s=0.3).record(_record("run-2"))
        assert str(path) in str(error.value)
    finally:
        holder.communicate("\n", timeout=30)


def test_processes_use_catalogue_in_turn(tmp_path: Path) -> None:
    path = tmp_path / CATALOGUE_FILE
    script = textwrap.dedent(
        """
        import sys
        from sanhua.governance.catalogue import Catalogue
        Catalogue(sys.argv[1]).record({"run_id": sys.argv[2], "started_at": sys.argv[3]})
        """
    )

    for run_id, started in (("p-1", "2026-12-01T00:00:00"), ("p-2", "2026-12-02T00:00:00")):
        subprocess.run([sys.executable, "-c", script, str(path), run_id, started], check=True, timeout=60)

    assert Catalogue(path).list()["run_id"].to_list() == ["p-2", "p-1"]


def test_lock_released_within_timeout(tmp_path: Path) -> None:
    path = tmp_path / CATALOGUE_FILE
    Catalogue(path).record(_record("run-1"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time, duckdb\nconnection = duckdb.connect({str(path)!r})\nprint('locked', flush=True)\ntime.sleep(0.5)\nconnection.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"

        Catalogue(path, lock_timeout_s=20).record(_record("run-2"))
    finally:
        holder.wait(timeout=30)

    assert sorted(Catalogue(path).list()["run_id"].to_list()) == ["run-1", "run-2"]
