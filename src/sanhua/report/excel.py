"""Write the run's summary tables to one Excel workbook: ``RUN_DIR/summary.xlsx``.

One sheet per table of :func:`summary_tables`, the same aggregates the HTML
report shows, with machine-readable column names in the first row. Amounts
carry the ``#,##0.00`` number format and fractions (``*_share``, ``*_rate``)
the ``0.0%`` format; the values themselves stay unrounded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from sanhua.errors import InputFileError
from sanhua.report import tables as summaries
from sanhua.report.files import replace_file

__all__ = ["SUMMARY_FILE", "summary_tables", "write_summary_excel"]

logger = logging.getLogger(__name__)

SUMMARY_FILE = "summary.xlsx"
"""File name of the workbook inside the run folder."""

_MONEY_COLUMNS = frozenset({"exposure_at_default", "expected_recovery", "expected_recovery_pv", "action_value"})

# Excel limits a sheet name to 31 characters without []:*?/\.
_SHEET_NAME_MAX = 31


def summary_tables(loans: pl.DataFrame, record: Mapping[str, Any], curve: pl.DataFrame | None = None) -> dict[str, pl.DataFrame]:
    """Compute the summary tables of a run, keyed by sheet name.

    Returns
    -------
    dict of str to pl.DataFrame
        ``category_mix``, ``value_by_action``, ``score_grid``,
        ``top_reasons``, ``row_counts``, ``quarantined_by_reason``,
        ``excluded_by_reason``, ``flags``, ``currency_totals`` and, when a
        curve is given, ``recovery_curve``.

    Raises
    ------
    ReportDataError
        The loans frame or the curve is invalid.
    """
    summaries.check_loans(loans)
    result = {
        "category_mix": summaries.category_mix(loans),
        "value_by_action": summaries.value_by_category_action(loans),
        "score_grid": summaries.score_grid(loans),
        "top_reasons": summaries.top_reasons(loans),
        "row_counts": summaries.row_counts(record),
        "quarantined_by_reason": summaries.reason_counts(record, "quarantined"),
        "excluded_by_reason": summaries.reason_counts(record, "excluded"),
        "flags": summaries.flag_counts(record),
        "currency_totals": summaries.currency_totals(loans),
    }
    if curve is not None:
        result["recovery_curve"] = summaries.check_curve(curve)
    return result


def _number_format(column: str) -> str | None:
    if column in _MONEY_COLUMNS:
        return "#,##0.00"
    if column.endswith(("_share", "_rate")) or column == "share":
        return "0.0%"
    return None


def write_summary_excel(run_dir: Path, tables: Mapping[str, pl.DataFrame]) -> Path:
    """Write ``run_dir/summary.xlsx`` with one sheet per table.

    Parameters
    ----------
    run_dir : Path
        Run folder; it must exist.
    tables : Mapping of str to pl.DataFrame
        Sheet name to table, for example the output of
        :func:`summary_tables`. Names longer than 31 characters are cut.

    Returns
    -------
    Path
        Path of the workbook.

    Raises
    ------
    InputFileError
        The run folder does not exist or the file cannot be written.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputFileError(f"Run folder {run_dir} does not exist or is not a folder. Create it before writing the summary.")

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for name, frame in tables.items():
        title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:_SHEET_NAME_MAX] or "sheet"
        if title in used:
            raise ValueError(f"Two tables map to the sheet name {title!r}; give them names that differ in the first 31 characters.")
        used.add(title)
        sheet = workbook.create_sheet(title)

        header = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = bold
            header.append(cell)
        sheet.append(header)

        formats = [_number_format(column) for column in frame.columns]
        for row in frame.iter_rows():
            cells = []
            for value, number_format in zip(row, formats):
                cell = WriteOnlyCell(sheet, value=value)
                if number_format is not None:
                    cell.number_format = number_format
                cells.append(cell)
            sheet.append(cells)

    target = replace_file(run_dir / SUMMARY_FILE, workbook.save)

    logger.info("Wrote summary workbook %s with %d sheets", target, len(tables))
    return target
