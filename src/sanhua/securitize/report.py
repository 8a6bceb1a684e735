"""The deal report: one self-contained HTML page per language, an Excel export and the deal as JSON.

``write_deal_report(analysis, out_dir, language)`` writes

- ``deal_report.html``: structure diagram (inline SVG), structure and waterfall tables, tranche
  metrics, cash-flow and balance charts (Plotly, with ``plotly.min.js`` embedded: no network),
  the base-case period table, the stress matrix with break-evens, the liquidity stress, the
  sizing and the assumptions;
- ``summary.xlsx``: one sheet per table of :class:`~sanhua.securitize.analysis.DealAnalysis`
  (written by :func:`sanhua.report.excel.write_summary_excel`);
- ``deal.json``: the analysed deal, which ``Deal.model_validate_json`` reads back.

Every label comes from the ``[abs]`` table of the message catalogues.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Final

import jinja2
import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from sanhua.errors import InputFileError
from sanhua.report.charts import PLOTLY_CONFIG, figure_json
from sanhua.report.excel import write_summary_excel
from sanhua.report.files import replace_file
from sanhua.report.i18n import (
    format_count,
    format_date,
    format_decimal,
    format_money,
    format_number,
    format_percent,
    has_message,
    resolve_language,
    translate,
    translate_code,
)
from sanhua.securitize.analysis import DealAnalysis
from sanhua.securitize.diagram import structure_svg

__all__ = ["REPORT_FILE", "DEAL_FILE", "write_deal_report", "render_deal_report"]

logger = logging.getLogger(__name__)

REPORT_FILE: Final[str] = "deal_report.html"
"""File name of the HTML report inside the output folder."""

DEAL_FILE: Final[str] = "deal.json"
"""File name of the analysed deal (JSON) inside the output folder."""

_PERCENT_COLUMNS: Final[frozenset[str]] = frozenset(
    {"issue_share", "coupon_rate", "retained_share", "yield", "principal_loss_rate", "recovery_haircut", "rate_shift", "senior_share", "actual_senior_share"}
)
_COUNT_COLUMNS: Final[frozenset[str]] = frozenset(
    {"period", "order", "delay_months", "periods_short", "trigger_period", "final_period", "senior_periods_short"}
)
_BOOLEAN_COLUMNS: Final[frozenset[str]] = frozenset({"full_and_timely", "survives_range_end", "senior_timely", "trigger"})
_PERCENT_PARAMETERS: Final[frozenset[str]] = frozenset({"recovery_haircut", "rate_shift"})

_TEMPLATE = """<!doctype html>
<html lang="{{ language }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'Helvetica Neue', Arial, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; } th { background: #f4f6f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; max-height: 32rem; overflow-y: auto; }
.note { color: #555; font-size: .9rem; }
.kpi { display: flex; gap: 1.5rem; flex-wrap: wrap; } .kpi div { background: #f4f6f8; padding: .6rem 1rem; border-radius: 4px; }
.kpi b { display: block; font-size: 1.1rem; }
</style>
<script>{{ plotly_js | safe }}</script>
</head>
<body>
<h1>{{ title }}</h1>
<p class="note">{{ subtitle }}</p>
<div class="kpi">{% for label, value in kpis %}<div>{{ label }}<b>{{ value }}</b></div>{% endfor %}</div>
{% for section in sections %}
<h2 id="{{ section.id }}">{{ section.title }}</h2>
{% if section.note %}<p class="note">{{ section.note }}</p>{% endif %}
{% if section.svg %}{{ section.svg | safe }}{% endif %}
{% for chart in section.charts %}<div id="{{ chart.id }}" style="width:100%;height:420px"></div>
<script>Plotly.newPlot("{{ chart.id }}", ({{ chart.json | safe }}).data, ({{ chart.json | safe }}).layout, {{ plotly_config | safe }});</script>
{% endfor %}
{% for table in section.tables %}
<div class="scroll"><table><thead><tr>{% for h in table.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in table.rows %}<tr>{% for cell, numeric in row %}<td{% if numeric %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
{% endfor %}
{% endfor %}
</body>
</html>
"""


def _t(key: str, language: str, **fields: object) -> str:
    return translate(f"abs.{key}", language, **fields)


def column_label(column: str, language: str) -> str:
    """Return the label of a table column; ``kind:name`` flow columns read as ``<kind label> · name``."""
    if ":" in column:
        kind, name = column.split(":", 1)
        return f"{translate_code('abs.flow', kind, language)} · {name}"
    key = f"abs.col.{column}"
    return translate(key, language) if has_message(key, language) else column


def _cell(column: str, value: Any, row: dict[str, Any], language: str, currency: str) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—", True
    if column in _BOOLEAN_COLUMNS:
        return _t("yes" if value else "no", language), False
    if column in ("before_trigger", "after_trigger"):
        return translate_code("abs.step", str(value), language), False
    if column in ("seniority", "parameter"):
        return translate_code(f"abs.{column}", str(value), language), False
    if column == "payment_date":
        return format_date(value, language), False
    if column == "break_even":
        if row.get("parameter") in _PERCENT_PARAMETERS:
            return format_percent(value, language, decimals=2), True
        return format_decimal(value, language, max_decimals=2), True
    if column in _PERCENT_COLUMNS:
        return format_percent(value, language, decimals=2), True
    if column in _COUNT_COLUMNS:
        return format_count(value, language), True
    if column in ("wal_years", "redefault_multiple", "prepayment_multiple"):
        return format_number(value, language, decimals=2), True
    if isinstance(value, (int, float)):
        return format_money(value, currency, language), True
    return str(value), False


def _table(frame: pl.DataFrame, language: str, currency: str) -> dict[str, Any]:
    rows = []
    for row in frame.iter_rows(named=True):
        rows.append([_cell(column, value, row, language, currency) for column, value in row.items()])
    return {"header": [column_label(column, language) for column in frame.columns], "rows": rows}


def _period_layout(analysis: DealAnalysis, language: str, height: int) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 90, "r": 20, "t": 30, "b": 60},
        "xaxis": {"title": {"text": column_label("period", language)}},
        "yaxis": {"title": {"text": analysis.deal.currency}, "tickformat": ",.0f"},
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }


def _cash_flow_chart(analysis: DealAnalysis, language: str) -> go.Figure:
    periods = analysis.tables["periods"]
    figure = go.Figure()
    for tranche in analysis.deal.tranches:
        for kind in ("interest", "principal"):
            figure.add_bar(x=periods["period"].to_list(), y=periods[f"{kind}:{tranche.name}"].to_list(), name=column_label(f"{kind}:{tranche.name}", language))
    figure.add_bar(x=periods["period"].to_list(), y=periods["excess"].to_list(), name=column_label("excess", language))
    figure.add_scatter(x=periods["period"].to_list(), y=periods["collections"].to_list(), name=column_label("collections", language), mode="lines+markers")
    figure.update_layout(barmode="stack", **_period_layout(analysis, language, 420))
    return figure


def _balance_chart(analysis: DealAnalysis, language: str) -> go.Figure:
    periods = analysis.tables["periods"]
    figure = go.Figure()
    for tranche in analysis.deal.tranches:
        figure.add_scatter(x=periods["period"].to_list(), y=periods[f"balance:{tranche.name}"].to_list(), name=column_label(f"balance:{tranche.name}", language))
    figure.add_scatter(x=periods["period"].to_list(), y=periods["liquidity_reserve"].to_list(), name=column_label("liquidity_reserve", language))
    figure.update_layout(**_period_layout(analysis, language, 380))
    return figure


def _stress_pivot(analysis: DealAnalysis, tranche: str, value: str) -> pl.DataFrame:
    matrix = analysis.tables["stress_matrix"].filter(pl.col("tranche") == tranche)
    return matrix.pivot(on="delay_months", index="recovery_haircut", values=value, sort_columns=True).sort("recovery_haircut")


def _stress_chart(analysis: DealAnalysis, tranche: str, language: str) -> go.Figure:
    pivot = _stress_pivot(analysis, tranche, "principal_loss_rate")
    delays = [c for c in pivot.columns if c != "recovery_haircut"]
    z = [[row[c] for c in delays] for row in pivot.iter_rows(named=True)]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{float(d):g}" for d in delays],
            y=[f"{h:.0%}" for h in pivot["recovery_haircut"].to_list()],
            colorscale="Reds",
            zmin=0,
            zmax=max(0.01, max((v for row in z for v in row if v is not None), default=0.01)),
            texttemplate="%{z:.1%}",
            colorbar={"tickformat": ".1%"},
        )
    )
    figure.update_layout(
        title={"text": f"{tranche}: {_t('col.principal_loss_rate', language)}"},
        height=420,
        margin={"l": 90, "r": 20, "t": 50, "b": 60},
        xaxis={"title": {"text": _t("col.delay_months", language)}, "type": "category"},
        yaxis={"title": {"text": _t("col.recovery_haircut", language)}, "type": "category"},
        paper_bgcolor="white",
    )
    return figure


def _kpis(analysis: DealAnalysis, language: str) -> list[tuple[str, str]]:
    deal = analysis.deal
    currency = deal.currency
    collected = float(analysis.base.flows["collections"][0].sum())
    senior_share = sum(t.balance for t in deal.seniors) / deal.issue_balance
    kpis = [
        (_t("kpi.claims", language), format_money(deal.claims, currency, language, decimals=0)),
        (_t("kpi.collections", language), format_money(collected, currency, language, decimals=0)),
        (_t("kpi.issue", language), format_money(deal.issue_balance, currency, language, decimals=0)),
        (_t("kpi.senior_share", language), format_percent(senior_share, language, decimals=1)),
    ]
    if analysis.sizing is not None:
        kpis.append((_t("kpi.sized_share", language), format_percent(analysis.sizing.senior_share, language, decimals=1)))
    return kpis


def _period_columns(analysis: DealAnalysis) -> list[str]:
    deal = analysis.deal
    columns = ["period", "payment_date", "collections"]
    columns += [f"fee:{fee.name}" for fee in deal.fees]
    for tranche in deal.tranches:
        columns += [f"interest:{tranche.name}", f"principal:{tranche.name}"]
    columns += ["incentive_fee", "excess", "liquidity_reserve"]
    columns += [f"balance:{tranche.name}" for tranche in deal.tranches]
    if deal.facility is not None:
        columns += ["facility_draw", "facility_repayment"]
    return columns + ["trigger"]


def render_deal_report(analysis: DealAnalysis, language: str | None = None) -> str:
    """Render the deal report's HTML in ``language`` (zh-CN or en; default ``SANHUA_LANG``, else zh-CN)."""
    language = resolve_language(language)
    deal = analysis.deal
    currency = deal.currency
    tables = analysis.tables

    stress_tables = []
    for tranche in deal.tranches:
        pivot = _stress_pivot(analysis, tranche.name, "principal_loss_rate")
        renamed = pivot.rename({c: f"{_t('col.delay_months', language)} {float(c):g}" for c in pivot.columns if c != "recovery_haircut"})
        table = _table(renamed.select("recovery_haircut"), language, currency)
        for column in renamed.columns[1:]:
            for row_index, value in enumerate(renamed[column].to_list()):
                table["rows"][row_index].append((format_percent(value, language, decimals=2), True))
            table["header"].append(column)
        table["header"][0] = f"{tranche.name}: {_t('col.principal_loss_rate', language)} / {_t('col.recovery_haircut', language)}"
        stress_tables.append(table)

    sections = [
        {"id": "structure", "title": _t("section.structure", language), "svg": structure_svg(deal, language), "tables": [_table(tables["structure"], language, currency)], "charts": []},
        {"id": "waterfall", "title": _t("section.waterfall", language), "note": _t("note.waterfall", language), "tables": [_table(tables["waterfall"], language, currency)], "charts": []},
        {"id": "metrics", "title": _t("section.metrics", language), "note": _t("note.metrics", language), "tables": [_table(tables["tranche_metrics"], language, currency)], "charts": []},
        {
            "id": "cash-flows",
            "title": _t("section.cash_flows", language),
            "charts": [
                {"id": "chart-cash", "json": figure_json(_cash_flow_chart(analysis, language))},
                {"id": "chart-balance", "json": figure_json(_balance_chart(analysis, language))},
            ],
            "tables": [_table(tables["periods"].select(_period_columns(analysis)), language, currency)],
        },
        {
            "id": "stress",
            "title": _t("section.stress", language),
            "note": _t("note.stress", language),
            "charts": [{"id": f"chart-stress-{i}", "json": figure_json(_stress_chart(analysis, t.name, language))} for i, t in enumerate(deal.tranches)],
            "tables": [*stress_tables, _table(tables["break_even"], language, currency)],
        },
        {"id": "liquidity", "title": _t("section.liquidity", language), "note": _t("note.liquidity", language), "tables": [_table(tables["liquidity"], language, currency)], "charts": []},
    ]
    if "sizing" in tables:
        sections.append(
            {
                "id": "sizing",
                "title": _t("section.sizing", language),
                "note": _t("note.sizing", language),
                "tables": [_table(tables["sizing"], language, currency), _table(tables["target"], language, currency)],
                "charts": [],
            }
        )
    if analysis.assumptions:
        frame = pl.DataFrame([{k: str(v) for k, v in row.items()} for row in analysis.assumptions])
        sections.append({"id": "assumptions", "title": _t("section.assumptions", language), "tables": [_table(frame, language, currency)], "charts": []})

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(_TEMPLATE).render(
        language=language,
        title=_t("title", language, name=deal.name),
        subtitle=_t("subtitle", language, cutoff=format_date(deal.dates.cutoff, language), closing=format_date(deal.dates.closing, language), day_count=deal.dates.day_count.value, frequency=translate_code("abs.frequency", deal.dates.frequency.value, language)),
        kpis=_kpis(analysis, language),
        sections=[{"note": None, "svg": None, **section} for section in sections],
        plotly_js=get_plotlyjs(),
        plotly_config=json.dumps(PLOTLY_CONFIG),
    )


def write_deal_report(analysis: DealAnalysis, out_dir: Path | str, language: str | None = None) -> Path:
    """Write ``deal_report.html``, ``summary.xlsx`` and ``deal.json`` into ``out_dir``.

    Parameters
    ----------
    analysis : DealAnalysis
        Output of :func:`~sanhua.securitize.analysis.analyse_deal` (or ``AbsProposal.analysis``).
    out_dir : Path or str
        Output folder; created when missing.
    language : str or None
        zh-CN or en; default ``SANHUA_LANG``, else zh-CN.

    Returns
    -------
    Path
        Path of ``deal_report.html``.

    Raises
    ------
    InputFileError
        The folder cannot be created or a file cannot be written.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputFileError(f"Cannot create the deal report folder {out_dir}: {error.strerror or error}. Choose a writable folder.") from None

    html = render_deal_report(analysis, language)
    report = replace_file(out_dir / REPORT_FILE, lambda path: path.write_text(html, encoding="utf-8"))
    tables = dict(analysis.tables)
    if analysis.assumptions:
        tables["assumptions"] = pl.DataFrame([{k: str(v) for k, v in row.items()} for row in analysis.assumptions])
    write_summary_excel(out_dir, tables)
    replace_file(out_dir / DEAL_FILE, lambda path: path.write_text(analysis.deal.model_dump_json(indent=2), encoding="utf-8"))

    logger.info("Wrote deal report %s", report)
    return report
