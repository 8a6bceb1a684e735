"""Tests of ``sanhua abs`` through Typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sanhua.cli_abs import app, parse_grid, parse_target
from sanhua.errors import ConfigError

from .conftest import EXAMPLE

runner = CliRunner()


def test_run_writes_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(EXAMPLE), "--out", str(tmp_path / "report"), "--lang", "en"])

    assert result.exit_code == 0, result.output
    assert "Deal report written to" in result.output
    assert (tmp_path / "report" / "deal_report.html").exists()


def test_size_prints_sized_share_in_chinese() -> None:
    result = runner.invoke(app, ["size", str(EXAMPLE), "--target", "recovery_haircut=0.25,delay_months=3", "--lang", "zh-CN"])

    assert result.exit_code == 0, result.output
    assert "测算优先档占比" in result.output
    assert "80.69%" in result.output


def test_stress_writes_grid(tmp_path: Path) -> None:
    out = tmp_path / "grid.csv"

    result = runner.invoke(app, ["stress", str(EXAMPLE), "--grid", "recovery_haircut=0,0.3;delay_months=0,6", "--out", str(out), "--lang", "en"])

    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).height == 8


def test_stress_monte_carlo(tmp_path: Path) -> None:
    out = tmp_path / "grid.csv"

    result = runner.invoke(app, ["stress", str(EXAMPLE), "--grid", "recovery_haircut=0,0.3", "--paths", "20", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert set(pl.read_csv(out)["paths"].to_list()) == {20}


def test_bad_deal_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "deal.toml"
    (tmp_path / "recovery_vector.csv").write_bytes((EXAMPLE.parent / "recovery_vector.csv").read_bytes())
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("coupon = 0.03", "coupon = 3"), encoding="utf-8")

    result = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "r"), "--lang", "en"])

    assert result.exit_code == 2
    assert "tranches[0].coupon" in result.output
    assert "Fix:" in result.output


def test_missing_deal_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["size", str(tmp_path / "none.toml"), "--target", "recovery_haircut=0.2", "--lang", "en"])

    assert result.exit_code == 2
    assert "not found" in result.output


def test_bad_target_exits_2() -> None:
    result = runner.invoke(app, ["size", str(EXAMPLE), "--target", "haircut=0.2", "--lang", "en"])

    assert result.exit_code == 2
    assert "Invalid --target" in result.output


def test_parse_grid_and_target() -> None:
    assert parse_grid("recovery_haircut=0,0.5; delay_months=3") == {"recovery_haircut": [0.0, 0.5], "delay_months": [3.0]}
    assert parse_target("recovery_haircut=0.25,delay_months=3") == {"recovery_haircut": 0.25, "delay_months": 3.0}
    with pytest.raises(ConfigError):
        parse_grid("recovery_haircut=")
    with pytest.raises(ConfigError):
        parse_target("senior_share=0.5")
