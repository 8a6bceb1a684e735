"""Tests of the deal report: the worked example's HTML in both languages, the Excel export and the deal file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from plotly.offline import get_plotlyjs

from sanhua.securitize import Deal, Scenarios, load_deal
from sanhua.securitize.analysis import analyse_deal
from sanhua.securitize.report import DEAL_FILE, REPORT_FILE, write_deal_report

from .conftest import EXAMPLE


@pytest.fixture(scope="module")
def analysis():  # type: ignore[no-untyped-def]
    return analyse_deal(load_deal(EXAMPLE), target=Scenarios.from_values(1, recovery_haircut=0.25, delay_months=3))


def test_example_report_in_chinese(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_deal_report(analysis, tmp_path, "zh-CN")
    html = path.read_text(encoding="utf-8")

    assert path.name == REPORT_FILE
    assert '<html lang="zh-CN">' in html
    for heading in ("交易结构", "现金流支付顺序", "压力测试矩阵与临界值", "流动性储备账户压力测试", "分层测算"):
        assert f">{heading}</h2>" in html
    assert "<svg" in html
    assert get_plotlyjs()[-2000:] in html  # embedded as it is, not HTML-escaped
    assert 'Plotly.newPlot("chart-stress-0"' in html
    assert 'Plotly.newPlot("chart-stress-1"' in html
    assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", html.split("</script>", 1)[1])


def test_example_report_in_english_shows_sizing(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = write_deal_report(analysis, tmp_path, "en").read_text(encoding="utf-8")

    assert ">Tranche sizing</h2>" in html
    assert "80.69%" in html  # the deal's own senior share, 188 / 233
    assert f"{analysis.sizing.senior_share:.2%}" in html
    assert "Senior interest" in html


def test_excel_has_one_sheet_per_table(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_deal_report(analysis, tmp_path, "en")

    workbook = load_workbook(tmp_path / "summary.xlsx", read_only=True)

    assert set(workbook.sheetnames) == set(analysis.tables)
    periods = workbook["periods"]
    header = [cell.value for cell in next(periods.iter_rows(max_row=1))]
    assert header[:3] == ["period", "payment_date", "collections"]


def test_deal_file_round_trips(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_deal_report(analysis, tmp_path, "en")

    again = Deal.model_validate_json((tmp_path / DEAL_FILE).read_text(encoding="utf-8"))

    assert again == analysis.deal


def test_periods_table_rounded_to_fen(analysis) -> None:  # type: ignore[no-untyped-def]
    periods = analysis.tables["periods"]

    assert periods["collections"].sum() == pytest.approx(round(sum(load_deal(EXAMPLE).collateral.monthly_collections()), 2), abs=0.01 * periods.height)
    assert periods["residual"].abs().max() < 1e-6
