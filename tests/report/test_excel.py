"""Tests of the Excel summary workbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from report_data import make_curve, make_loans, make_record

from sanhua.errors import InputFileError
from sanhua.report.excel import SUMMARY_FILE, summary_tables, write_summary_excel


def test_summary_workbook_has_every_table(tmp_path: Path) -> None:
    loans = make_loans(500)
    summaries = summary_tables(loans, make_record(loans), make_curve())

    path = write_summary_excel(tmp_path, summaries)

    assert path == tmp_path / SUMMARY_FILE
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == list(summaries)
    for name, frame in summaries.items():
        rows = list(workbook[name].iter_rows(values_only=True))
        assert list(rows[0]) == frame.columns
        assert len(rows) == frame.height + 1


def test_summary_workbook_keeps_totals(tmp_path: Path) -> None:
    loans = make_loans(500)
    summaries = summary_tables(loans, make_record(loans))

    path = write_summary_excel(tmp_path, summaries)

    sheet = load_workbook(path)["category_mix"]
    header = [cell.value for cell in sheet[1]]
    loans_column = header.index("loans") + 1
    ead_column = header.index("exposure_at_default") + 1
    assert sum(sheet.cell(row, loans_column).value for row in range(2, sheet.max_row + 1)) == loans.height
    assert sum(sheet.cell(row, ead_column).value for row in range(2, sheet.max_row + 1)) == pytest.approx(loans["exposure_at_default"].sum())
    assert sheet.cell(2, ead_column).number_format == "#,##0.00"
    assert sheet.cell(2, header.index("loan_share") + 1).number_format == "0.0%"


def test_summary_without_curve_has_no_curve_sheet() -> None:
    loans = make_loans(50)

    assert "recovery_curve" not in summary_tables(loans, make_record(loans))


def test_summary_rejects_missing_run_dir(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="missing-folder"):
        write_summary_excel(tmp_path / "missing-folder", {})
