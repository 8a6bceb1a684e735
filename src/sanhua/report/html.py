"""Write the bilingual HTML report of a run: ``RUN_DIR/report.html``.

The page is one self-contained file. It holds the report twice, in both
languages (the requested language first), with buttons that show one language
or both; the file embeds the ``plotly.min.js`` shipped with the Plotly Python
package once, and a Content-Security-Policy that forbids every network
request. Charts and tables show aggregates only (see
:mod:`sanhua.report.tables`), so the file's size does not grow with the number
of loans: about 4.9 MB, nearly all of it plotly.js.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
from plotly.offline import get_plotlyjs

from sanhua.errors import InputFileError
from sanhua.report import tables
from sanhua.report.charts import PLOTLY_CONFIG
from sanhua.report.files import replace_file
from sanhua.report.i18n import LANGUAGES, format_datetime, normalise_language, translate
from sanhua.report.views import Section, Summaries, build_sections

__all__ = ["REPORT_FILE", "REASONS_MIN_LOANS", "summarise", "write_report"]

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
"""File name of the report inside the run folder."""

REASONS_MIN_LOANS = 10
"""Smallest number of loans a reason must carry to be listed (see :func:`sanhua.report.tables.top_reasons`)."""

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class _Page:
    language: str
    language_name: str
    toggle_label: str
    both_label: str
    title: str
    subtitle: str
    generated: str
    aggregates_only: str
    no_script: str
    empty: str
    sections: list[Section]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    script = get_plotlyjs()
    # A "</script" inside the library would end the element early.
    return script.replace("</script", "<\\/script")


def summarise(loans: pl.DataFrame, record: Mapping[str, Any], curve: pl.DataFrame | None) -> Summaries:
    """Compute every summary table the report shows.

    Parameters
    ----------
    loans : pl.DataFrame
        Scored loans (``RUN_DIR/loans.parquet``).
    record : Mapping
        The run record (``run.json``).
    curve : pl.DataFrame or None
        Recovery curve: ``month``, ``cumulative``, ``source``.

    Raises
    ------
    ReportDataError
        The loans frame or the curve is invalid (see
        :func:`sanhua.report.tables.check_loans` and
        :func:`sanhua.report.tables.check_curve`).
    """
    tables.check_loans(loans)
    checked_curve = tables.check_curve(curve) if curve is not None else None

    grid = tables.score_grid(loans)
    return Summaries(
        currency=tables.primary_currency(loans, record),
        currency_totals=tables.currency_totals(loans),
        mix=tables.category_mix(loans),
        values=tables.value_by_category_action(loans),
        grid=grid,
        unscored=loans.height - int(grid["loans"].sum()),
        thresholds=tables.segment_thresholds(record),
        reasons=tables.top_reasons(loans, min_loans=REASONS_MIN_LOANS),
        reasons_min_loans=REASONS_MIN_LOANS,
        row_counts=tables.row_counts(record),
        quarantined_by_reason=tables.reason_counts(record, "quarantined"),
        excluded_by_reason=tables.reason_counts(record, "excluded"),
        flags=tables.flag_counts(record),
        curve=checked_curve,
    )


def _page(record: Mapping[str, Any], summaries: Summaries, language: str, generated_at: datetime) -> _Page:
    return _Page(
        language=language,
        language_name=translate(f"language.{language}", language),
        toggle_label=translate("report.language_toggle", language),
        both_label=translate("language.both", language),
        title=translate("report.title", language),
        subtitle=translate("report.subtitle", language),
        generated=translate(
            "report.generated",
            language,
            version=record.get("sanhua_version") or "?",
            date=format_datetime(generated_at, language),
        ),
        aggregates_only=translate("report.aggregates_only", language),
        no_script=translate("report.no_script", language),
        empty=translate("report.empty", language),
        sections=build_sections(record, summaries, language),
    )


def write_report(
    run_dir: Path,
    loans: pl.DataFrame,
    record: dict,
    curve: pl.DataFrame | None,
    *,
    language: str = "zh-CN",
) -> Path:
    """Write ``run_dir/report.html``, the bilingual report of a run.

    Parameters
    ----------
    run_dir : Path
        Run folder; it must exist.
    loans : pl.DataFrame
        Scored loans with the columns of
        :data:`sanhua.report.tables.REQUIRED_LOAN_COLUMNS`.
    record : dict
        The run record (``run.json``). Every section is optional: a missing
        one is shown as not given, and the backtest section appears only
        when ``record["backtest"]`` is given.
    curve : pl.DataFrame or None
        Recovery curve (``month``, ``cumulative``, ``source``); None shows
        a note in its place.
    language : str
        Language shown first; the other one follows in the same file.

    Returns
    -------
    Path
        Path of the written report.

    Raises
    ------
    ReportDataError
        The loans frame or the curve is invalid.
    InputFileError
        ``run_dir`` does not exist or cannot be written.
    ConfigError
        ``language`` is not supported.
    """
    started = time.perf_counter()
    first = normalise_language(language)
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputFileError(f"Run folder {run_dir} does not exist or is not a folder. Create it before writing the report.")

    summaries = summarise(loans, record, curve)
    generated_at = datetime.now(timezone.utc).astimezone()
    order = [first] + [other for other in LANGUAGES if other != first]
    pages = [_page(record, summaries, language_code, generated_at) for language_code in order]

    html = _environment().get_template("report.html.j2").render(
        languages=order,
        pages=pages,
        run_id=record.get("run_id") or "",
        version=record.get("sanhua_version") or "",
        plotly_js=_plotly_js(),
        plotly_config=json.dumps(PLOTLY_CONFIG),
    )

    target = replace_file(run_dir / REPORT_FILE, lambda path: path.write_text(html, encoding="utf-8"))

    logger.info(
        "Wrote report %s: %d loans summarised, %d bytes, %.2f s",
        target,
        loans.height,
        target.stat().st_size,
        time.perf_counter() - started,
    )
    return target
