"""Tests of the model registry (tables in the run catalogue's DuckDB file) and its CLI."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from sanhua.cli import app
from sanhua.errors import CatalogueError
from sanhua.governance.catalogue import CATALOGUE_FILE, HOME_ENV, Catalogue
from sanhua.governance.registry import REGISTRY_SCHEMA_VERSION, Registry, bundle_digest


def _model_folder(root: Path, version: str = "20261204-1a2b3c4d", **extra: object) -> Path:
    """Write a model folder with a bundle.json and two model files (the registry reads no model)."""
    folder = root / version
    folder.mkdir(parents=True, exist_ok=True)
    bundle = {
        "format": 1,
        "sanhua_version": "0.1.0",
        "version": version,
        "trained_at": "2026-12-04T10:00:00+00:00",
        "training_data_sha256": "f" * 64,
        "settings": {"seed": 7, "booster": {"max_trees": 300}},
        "features": {"willingness": ["dpd", "n_contacts"], "ability": ["income_annual"], "recovery": ["dpd", "income_annual"]},
        "metrics": {"willingness": {"validation_auc": 0.81, "validation_ks": 0.42}, "ability": {"validation_auc": float("nan")}},
        "fit": {"profile": {"name": "cn-bank", "sha256": "a" * 64}},
        **extra,
    }
    (folder / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    (folder / "willingness.txt").write_text("tree model w", encoding="utf-8")
    (folder / "ability.txt").write_text("tree model a", encoding="utf-8")
    return folder


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(Catalogue(tmp_path / "home" / CATALOGUE_FILE))


# ------------------------------------------------------------- round trip


def test_register_round_trip(registry: Registry, tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "models")

    version = registry.register(folder)
    record = registry.show(version)

    assert version == "20261204-1a2b3c4d"
    assert record["status"] == "draft"
    assert record["model_dir"] == str(folder.resolve())
    assert record["training_data_sha256"] == "f" * 64
    assert record["features"]["willingness"] == ["dpd", "n_contacts"]
    assert record["settings"]["booster"]["max_trees"] == 300
    assert record["metrics"]["willingness"]["validation_auc"] == 0.81
    assert record["metrics"]["ability"]["validation_auc"] is None
    assert record["profile"] == "cn-bank"
    assert record["fairness"] is None
    assert record["approved_by"] is None
    assert record["bundle_sha256"] == bundle_digest(folder)
    assert record["files"] == "unchanged"


def test_registry_shares_catalogue_file(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "models"))
    registry.catalogue.record({"run_id": "run-1", "started_at": "2026-12-04T10:00:00+00:00", "model": {"version": "20261204-1a2b3c4d"}})

    with duckdb.connect(str(registry.path), read_only=True) as connection:
        tables = {row[0] for row in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        version = connection.execute("SELECT value FROM meta WHERE key = 'registry_schema_version'").fetchone()[0]

    assert {"meta", "runs", "models", "model_status_changes"} <= tables
    assert version == str(REGISTRY_SCHEMA_VERSION)
    assert registry.catalogue.show("run-1")["model"]["version"] == "20261204-1a2b3c4d"


def test_list_newest_first_and_by_status(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "models", "20261201-aaaa0001"))
    registry.register(_model_folder(tmp_path / "models", "20261202-bbbb0002"))
    registry.set_status("20261201", "validated", by="Li Wei")

    everything = registry.list()
    validated = registry.list(status="validated")

    assert everything["version"].to_list() == ["20261202-bbbb0002", "20261201-aaaa0001"]
    assert validated["version"].to_list() == ["20261201-aaaa0001"]


def test_list_empty_registry(registry: Registry) -> None:
    assert registry.list().height == 0


def test_set_fairness_round_trip(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))
    fairness = {"region": {"demographic_parity_ratio": 0.74, "passed": False}}

    registry.set_fairness(version, fairness)

    assert registry.show(version)["fairness"] == fairness


# ------------------------------------------------------------ transitions


def test_lifecycle_to_approved(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))

    registry.set_status(version, "validated", by="Li Wei")
    record = registry.set_status(version, "approved", by="Wang Fang", note="model-risk committee 2026-12")

    assert record["status"] == "approved"
    assert record["approved_by"] == "Wang Fang"
    assert record["approved_at"] is not None


@pytest.mark.parametrize(
    ("path", "target", "message"),
    [
        ([], "approved", "Model 20261204-1a2b3c4d is draft; it cannot change to approved. Allowed from draft: validated, retired."),
        (["validated", "approved"], "draft", "is approved; it cannot change to draft. Allowed from approved: retired."),
        (["validated", "approved"], "validated", "is approved; it cannot change to validated."),
        (["validated"], "validated", "is validated; it cannot change to validated."),
        (["retired"], "retired", "Allowed from retired: none (a retired model stays retired)."),
        (["validated", "approved", "retired"], "approved", "is retired; it cannot change to approved."),
    ],
)
def test_illegal_transition_rejected(registry: Registry, tmp_path: Path, path: list[str], target: str, message: str) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))
    for status in path:
        registry.set_status(version, status, by="Li Wei")

    with pytest.raises(CatalogueError) as error:
        registry.set_status(version, target, by="Li Wei")

    assert message in str(error.value)
    assert registry.show(version)["status"] == (path[-1] if path else "draft")


def test_any_status_can_retire(registry: Registry, tmp_path: Path) -> None:
    for i, path in enumerate(([], ["validated"], ["validated", "approved"])):
        version = registry.register(_model_folder(tmp_path / "models", f"2026120{i}-cccc000{i}"))
        for status in path:
            registry.set_status(version, status, by="Li Wei")

        assert registry.set_status(version, "retired", by="Li Wei")["status"] == "retired"


def test_unknown_status_rejected(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))

    with pytest.raises(CatalogueError, match="Unknown model status 'signed'; use one of validated, approved, retired"):
        registry.set_status(version, "signed", by="Li Wei")


def test_status_change_needs_a_name(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))

    with pytest.raises(CatalogueError, match="--by NAME"):
        registry.set_status(version, "validated", by="  ")


# ------------------------------------------------------------ audit trail


def test_audit_trail_records_every_change(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))
    registry.set_status(version, "validated", by="Li Wei", note="back-test reviewed")
    registry.set_status(version, "approved", by="Wang Fang")
    registry.set_status(version, "retired", by="Zhao Lei")

    history = registry.show(version)["history"]

    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in history] == [
        (None, "draft", "sanhua fit"),
        ("draft", "validated", "Li Wei"),
        ("validated", "approved", "Wang Fang"),
        ("approved", "retired", "Zhao Lei"),
    ]
    assert history[1]["note"] == "back-test reviewed"
    assert all(h["changed_at"] is not None for h in history)


def test_rejected_change_leaves_no_audit_row(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "models"))

    with pytest.raises(CatalogueError):
        registry.set_status(version, "approved", by="Li Wei")

    assert len(registry.show(version)["history"]) == 1


# ----------------------------------------------------------- registration


def test_draft_registered_again_is_replaced(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "first"))
    folder = _model_folder(tmp_path / "second")

    registry.register(folder)
    record = registry.show("20261204-1a2b3c4d")

    assert record["model_dir"] == str(folder.resolve())
    assert [h["note"] for h in record["history"]] == ["registered", "registered again"]
    assert registry.list().height == 1


def test_approved_version_never_replaced(registry: Registry, tmp_path: Path) -> None:
    version = registry.register(_model_folder(tmp_path / "first"))
    registry.set_status(version, "validated", by="Li Wei")

    with pytest.raises(CatalogueError, match="already registered with status validated"):
        registry.register(_model_folder(tmp_path / "second"))

    assert registry.show(version)["model_dir"] == str((tmp_path / "first" / version).resolve())


def test_fit_into_approved_folder_rejected(registry: Registry, tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "models")
    registry.register(folder)
    registry.set_status("20261204", "validated", by="Li Wei")
    registry.set_status("20261204", "approved", by="Wang Fang")

    with pytest.raises(CatalogueError, match="contains model 20261204-1a2b3c4d, registered with status approved"):
        registry.check_registrable("20261205-99999999", folder)


def test_register_rejects_folder_without_bundle(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not a model folder: bundle.json not found"):
        registry.register(tmp_path)


def test_changed_files_detected(registry: Registry, tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "models")
    version = registry.register(folder)

    (folder / "ability.txt").write_text("another tree model", encoding="utf-8")

    assert registry.show(version)["files"] == "changed"


# --------------------------------------------------------------- look-up


def test_unique_prefix_accepted(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "models", "20261201-aaaa0001"))
    registry.register(_model_folder(tmp_path / "models", "20261202-bbbb0002"))

    assert registry.show("20261202")["version"] == "20261202-bbbb0002"


def test_ambiguous_prefix_rejected(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "models", "20261201-aaaa0001"))
    registry.register(_model_folder(tmp_path / "models", "20261202-bbbb0002"))

    with pytest.raises(CatalogueError, match="matches several models"):
        registry.show("202612")


def test_unknown_version_lists_newest(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "models", "20261201-aaaa0001"))

    with pytest.raises(CatalogueError, match="No model 'nope'.*20261201-aaaa0001"):
        registry.show("nope")


def test_newer_registry_schema_rejected(registry: Registry, tmp_path: Path) -> None:
    registry.register(_model_folder(tmp_path / "models"))
    with duckdb.connect(str(registry.path)) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'registry_schema_version'")

    with pytest.raises(CatalogueError, match="schema version 99, newer than this sanhua"):
        registry.list()


# -------------------------------------------------------------------- CLI


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "sanhua-home"
    monkeypatch.setenv(HOME_ENV, str(folder))
    return folder


def _invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_list_empty(home: Path) -> None:
    result = _invoke("models", "list", "--lang", "en")

    assert result.exit_code == 0
    assert "contains no models yet" in result.stderr


def test_cli_list_show_approve(home: Path, tmp_path: Path) -> None:
    Registry().register(_model_folder(tmp_path / "models"))

    listed = _invoke("models", "list", "--lang", "en")
    validated = _invoke("models", "approve", "20261204", "--by", "Li Wei", "--status", "validated", "--lang", "en")
    approved = _invoke("models", "approve", "20261204", "--by", "Wang Fang", "--lang", "en")
    shown = _invoke("models", "show", "20261204-1a2b", "--lang", "en")

    assert listed.exit_code == 0
    assert "20261204-1a2b3c4d" in listed.stdout
    assert "draft" in listed.stdout
    assert validated.exit_code == 0
    assert "draft -> validated, by Li Wei" in validated.stderr
    assert approved.exit_code == 0
    assert "validated -> approved, by Wang Fang" in approved.stderr
    assert shown.exit_code == 0
    record = json.loads(shown.stdout)
    assert record["status"] == "approved"
    assert record["approved_by"] == "Wang Fang"
    assert [h["to_status"] for h in record["history"]] == ["draft", "validated", "approved"]


def test_cli_illegal_transition_exits_2(home: Path, tmp_path: Path) -> None:
    Registry().register(_model_folder(tmp_path / "models"))

    result = _invoke("models", "approve", "20261204", "--by", "Wang Fang", "--lang", "en")

    assert result.exit_code == 2
    assert "cannot change to approved" in result.stderr
    assert "Allowed from draft: validated, retired" in result.stderr


def test_cli_approve_needs_by(home: Path, tmp_path: Path) -> None:
    Registry().register(_model_folder(tmp_path / "models"))

    result = _invoke("models", "approve", "20261204")

    assert result.exit_code == 2
    assert "--by" in result.stderr


def test_cli_show_unknown_version_exits_2(home: Path) -> None:
    result = _invoke("models", "show", "nope", "--lang", "en")

    assert result.exit_code == 2
    assert "No model 'nope'" in result.stderr


def test_cli_show_warns_on_changed_files(home: Path, tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "models")
    Registry().register(folder)
    (folder / "bundle.json").unlink()

    result = _invoke("models", "show", "20261204", "--lang", "en")

    assert result.exit_code == 0
    assert "no longer match its registration (missing)" in result.stderr
