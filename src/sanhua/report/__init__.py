"""Run report: summary tables, charts and the bilingual HTML page, plus the message catalogues.

- :mod:`sanhua.report.tables`: aggregates of the scored loans and the run record (data).
- :mod:`sanhua.report.charts`: Plotly figures drawn from those tables.
- :mod:`sanhua.report.views`: formatted sections in one language.
- :mod:`sanhua.report.html`: :func:`write_report`, the self-contained ``report.html``.
- :mod:`sanhua.report.excel`: :func:`write_summary_excel`, the same tables in ``summary.xlsx``.
- :mod:`sanhua.report.i18n`: zh-CN and English messages, locale formatting.
"""

from sanhua.report.excel import SUMMARY_FILE, summary_tables, write_summary_excel
from sanhua.report.html import REPORT_FILE, write_report
from sanhua.report.tables import ReportDataError

__all__ = ["REPORT_FILE", "SUMMARY_FILE", "ReportDataError", "summary_tables", "write_report", "write_summary_excel"]
