"""Tests of the `sanhua plan` sub-app (sanhua.cli_plan), run through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from sanhua.cli_plan import app as plan_app
from sanhua.strategy import ActionValuer
from sanhua.strategy.plan import write_values

from .conftest import synthetic_loans


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, curve):
    root = tmp_path_factory.mktemp("plan-cli")
    run, model = root / "run", root / "model"
    run.mkdir()
    model.mkdir()
    write_values(ActionValuer().run(synthetic_loans(1_500, seed=6), curve), run)
    (run / "run.json").write_text(json.dumps({"model": {"dir": str(model)}}), encoding="utf-8")
    (model / "curve.json").write_text(json.dumps({"curve": curve.curve_.to_dicts(), "assumptions": curve.assumptions()}), encoding="utf-8")
    return run


def _invoke(args: list[str], nested: bool = True):
    """Run the sub-app as the main CLI mounts it (`sanhua plan ...`), or on its own."""
    if nested:
        root = typer.Typer()
        root.add_typer(plan_app, name="plan")

        @root.command()
        def other() -> None:
            """Second command, so `plan` is a sub-command as in the main CLI."""

        return CliRunner().invoke(root, ["plan", *[str(a) for a in args]])
    return CliRunner().invoke(plan_app, [str(a) for a in args])


def test_plan_writes_files_and_tables(run_dir, tmp_path):
    result = _invoke([run_dir, "--capacity", "officers=4", "-c", "mediation=10", "--out", tmp_path / "out", "--lang", "en"])

    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "plan.parquet").is_file()
    assert "Capacity per month" in result.stdout
    assert "NPV by action" in result.stdout
    assert "Plan for 1500 loans" in result.stderr
    assert json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))["monthly_capacity"]["officers"] == 4


def test_plan_messages_in_chinese(run_dir, tmp_path):
    result = _invoke([run_dir, "--out", tmp_path / "out", "--lang", "zh-CN"])

    assert result.exit_code == 0, result.stderr
    assert "每月产能" in result.stdout
    assert "已为 1500 笔贷款生成处置方案" in result.stderr


def test_plan_runs_standalone(run_dir, tmp_path):
    result = _invoke([run_dir, "--out", tmp_path / "out", "--solver", "greedy", "--lang", "en"], nested=False)

    assert result.exit_code == 0, result.stderr
    assert "greedy" in result.stderr


@pytest.mark.parametrize("item", ["lawyers=3", "officers=-1", "officers", "officers=many"])
def test_plan_bad_capacity(run_dir, item):
    result = _invoke([run_dir, "--capacity", item, "--lang", "en"])

    assert result.exit_code == 2
    assert f"--capacity {item} is invalid" in result.stderr
    assert "officers, mediation, litigation, transfer, outsourcing" in result.stderr


def test_plan_missing_run_folder(tmp_path):
    result = _invoke([tmp_path / "nowhere", "--lang", "en"])

    assert result.exit_code == 2
    assert "not found" in result.stderr


def test_plan_bad_solver(run_dir):
    result = _invoke([run_dir, "--solver", "simplex", "--lang", "en"])

    assert result.exit_code == 2
    assert "--solver 'simplex'" in result.stderr
