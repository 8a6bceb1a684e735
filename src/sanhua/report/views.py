"""Sections of the report in one language: formatted tables, paragraphs and charts.

:func:`build_sections` turns the summary tables of :mod:`sanhua.report.tables`
and the run record into a list of :class:`Section` whose cells are already
formatted text (numbers with their unit and currency, dates per locale).
The HTML template only lays them out, so the same views could feed another
renderer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from sanhua.report import charts
from sanhua.report.i18n import (
    MISSING,
    format_count,
    format_date,
    format_datetime,
    format_decimal,
    format_money,
    format_number,
    format_percent,
    format_seconds,
    has_message,
    translate,
    translate_code,
)
from sanhua.report.tables import CATEGORIES

__all__ = ["Cell", "TableView", "ChartView", "Section", "Summaries", "build_sections"]

# Months after default at which the curve table reads the cumulative share.
_CURVE_MONTHS = (3, 6, 12, 18, 24, 36, 48, 60, 84, 120)

_BACKTEST_METRICS = ("rmse", "mae", "spearman", "auc_above_median")

# Groups of the backtest by group shown in the report, largest exposure first; the error figures cover all groups.
_MAX_GROUPS = 30


@dataclass(frozen=True)
class Cell:
    """One formatted table cell; ``numeric`` cells are right-aligned, ``title`` is hover text."""

    text: str
    numeric: bool = False
    title: str | None = None


@dataclass(frozen=True)
class TableView:
    """A table ready to render: caption, header texts and rows of cells."""

    caption: str
    headers: list[str]
    rows: list[list[Cell]]
    footer: list[Cell] | None = None


@dataclass(frozen=True)
class ChartView:
    """A chart: element id and the figure JSON passed to ``Plotly.newPlot``."""

    element_id: str
    figure_json: str


@dataclass
class Section:
    """A titled part of the report."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[ChartView] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    """Files of the run folder the section refers to: (text, path relative to the report)."""


@dataclass(frozen=True)
class Summaries:
    """Language-independent tables the sections are built from."""

    currency: str
    currency_totals: pl.DataFrame
    mix: pl.DataFrame
    values: pl.DataFrame
    grid: pl.DataFrame
    unscored: int
    thresholds: pl.DataFrame
    reasons: pl.DataFrame
    reasons_min_loans: int
    row_counts: pl.DataFrame
    quarantined_by_reason: pl.DataFrame
    excluded_by_reason: pl.DataFrame
    flags: pl.DataFrame
    curve: pl.DataFrame | None


def _text(value: Any) -> str:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return str(value)


def _num(text: str, title: str | None = None) -> Cell:
    return Cell(text, numeric=True, title=title)


def _hash_cell(value: Any) -> Cell:
    text = _text(value)
    if len(text) > 16:
        return Cell(text[:12] + "…", title=text)
    return Cell(text)


def _key_value_table(caption: str, pairs: Sequence[tuple[str, Cell]], language: str) -> TableView:
    return TableView(
        caption=caption,
        headers=[translate("report.counts.item", language), translate("report.metrics.value", language)],
        rows=[[Cell(label), Cell(cell.text, title=cell.title)] for label, cell in pairs],
    )


def _plain_value(value: Any, language: str) -> Cell:
    if isinstance(value, bool):
        return Cell(translate("report.yes" if value else "report.no", language))
    if isinstance(value, int):
        return _num(format_count(value, language))
    if isinstance(value, float):
        return _num(format_decimal(value, language))
    if isinstance(value, (list, tuple)):
        return Cell(", ".join(_plain_value(item, language).text for item in value))
    if isinstance(value, Mapping):
        return Cell(", ".join(f"{key}: {_plain_value(item, language).text}" for key, item in value.items()))
    return Cell(_text(value))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            pairs.extend(_flatten(value, f"{prefix}{key}."))
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


def _header(record: Mapping[str, Any], language: str) -> Section:
    profile = record.get("profile") or {}
    model = record.get("model") or {}
    config = record.get("config") or {}
    metrics = record.get("metrics") or {}
    filters = record.get("filters") or {}
    as_of = record.get("as_of") or filters.get("as_of") or config.get("as_of")

    profile_text = _text(profile.get("name"))
    if profile.get("path"):
        profile_text += f" ({profile['path']})"
    rate = metrics.get("loans_per_second")
    pairs = [
        (translate("report.header.run_id", language), Cell(_text(record.get("run_id")))),
        (translate("report.header.command", language), Cell(_text(record.get("command")))),
        (translate("report.header.version", language), Cell(_text(record.get("sanhua_version")))),
        (translate("report.header.started", language), Cell(format_datetime(record.get("started_at"), language))),
        (translate("report.header.finished", language), Cell(format_datetime(record.get("finished_at"), language))),
        (translate("report.header.duration", language), _num(format_seconds(record.get("duration_s"), language))),
        (translate("report.header.profile", language), Cell(profile_text)),
        (translate("report.header.profile_sha256", language), _hash_cell(profile.get("sha256"))),
        (translate("report.header.as_of", language), Cell(format_date(as_of, language) if as_of else translate("report.not_given", language))),
        (translate("report.header.model_version", language), Cell(_text(model.get("version")))),
        (translate("report.header.model_trained", language), Cell(format_datetime(model.get("trained_at"), language))),
        (translate("report.header.model_data", language), _hash_cell(model.get("training_data_sha256"))),
        (
            translate("report.header.throughput", language),
            _num(translate("report.header.throughput_value", language, rate=format_number(rate, language, decimals=0)) if isinstance(rate, (int, float)) else MISSING),
        ),
    ]
    section = Section("run", translate("report.header.title", language))
    section.tables.append(_key_value_table(translate("report.header.title", language), pairs, language))

    inputs = [item for item in (record.get("inputs") or []) if isinstance(item, Mapping)]
    rows = [
        [
            Cell(translate_code("report.inputs", f"role_{item['role']}", language).removeprefix("role_") if item.get("role") else MISSING),
            Cell(_text(item.get("path"))),
            Cell(_text(item.get("table"))),
            Cell(_text(item.get("format"))),
            Cell(_text(item.get("encoding"))),
            _num(format_count(item.get("bytes"), language)),
            _hash_cell(item.get("sha256")),
        ]
        for item in inputs
    ]
    section.tables.append(
        TableView(
            caption=translate("report.inputs.title", language),
            headers=[translate(f"report.inputs.{name}", language) for name in ("role", "path", "table", "format", "encoding", "size", "sha256")],
            rows=rows,
        )
    )
    return section


def _reason_table(caption: str, frame: pl.DataFrame, label_column: str, header_key: str, prefix: str | None, total: int | None, language: str) -> TableView:
    rows = []
    for label, count in frame.select(label_column, "rows").iter_rows():
        shown = f"{translate_code(prefix, label, language)} ({label})" if prefix and translate_code(prefix, label, language) != label else label
        share = format_percent(count / total, language, decimals=2) if total and count is not None else MISSING
        rows.append([Cell(shown), _num(format_count(count, language)), _num(share)])
    return TableView(
        caption=caption,
        headers=[translate(header_key, language), translate("report.counts.rows", language), translate("report.counts.share", language)],
        rows=rows,
    )


def _counts(record: Mapping[str, Any], summaries: Summaries, language: str) -> Section:
    section = Section("counts", translate("report.counts.title", language), paragraphs=[translate("report.counts.intro", language)])
    counts = summaries.row_counts
    values = dict(counts.select("item", "rows").iter_rows())

    section.tables.append(
        TableView(
            caption=translate("report.counts.title", language),
            headers=[translate("report.counts.item", language), translate("report.counts.rows", language), translate("report.counts.share", language)],
            rows=[
                [
                    Cell(translate(f"report.counts.{item}", language)),
                    _num(format_count(rows, language)),
                    _num(format_percent(share, language, decimals=2)),
                ]
                for item, rows, share in counts.iter_rows()
            ],
        )
    )

    parts = [values.get(name) for name in ("scored", "quarantined", "excluded")]
    if values.get("input_rows") is not None and all(part is not None for part in parts):
        accounted = sum(parts)
        if accounted == values["input_rows"]:
            section.paragraphs.append(translate("report.counts.balanced", language))
        else:
            section.paragraphs.append(
                translate(
                    "report.counts.unbalanced",
                    language,
                    input_rows=format_count(values["input_rows"], language),
                    accounted=format_count(accounted, language),
                )
            )

    total = values.get("input_rows")
    if summaries.quarantined_by_reason.height:
        section.tables.append(
            _reason_table(translate("report.counts.quarantine_title", language), summaries.quarantined_by_reason, "reason", "report.counts.reason", "reason_code", total, language)
        )
    if summaries.excluded_by_reason.height:
        section.tables.append(
            _reason_table(translate("report.counts.excluded_title", language), summaries.excluded_by_reason, "reason", "report.counts.reason", "reason_code", total, language)
        )

    per_table = (record.get("counts") or {}).get("tables") or {}
    if isinstance(per_table, Mapping) and per_table:
        pairs = [(str(name), _plain_value(value, language)) for name, value in _flatten(per_table)]
        section.tables.append(_key_value_table(translate("report.counts.tables_title", language), pairs, language))

    if summaries.flags.height:
        section.tables.append(
            _reason_table(translate("report.counts.flags_title", language), summaries.flags.rename({"flag": "reason"}), "reason", "report.counts.flag", "flag", total, language)
        )
    return section


def _score_map(summaries: Summaries, language: str) -> Section:
    section = Section("map", translate("report.map.title", language), paragraphs=[translate("report.map.intro", language)])
    section.charts.append(ChartView(f"chart-{language}-map", charts.figure_json(charts.score_map(summaries.grid, summaries.thresholds, language))))

    if summaries.unscored:
        section.paragraphs.append(translate("report.map.unscored", language, count=format_count(summaries.unscored, language)))
    if summaries.thresholds.height:
        section.tables.append(
            TableView(
                caption=translate("report.map.thresholds", language),
                headers=[translate("report.map.threshold", language), translate("report.map.value", language)],
                rows=[[Cell(name), _num(format_number(value, language, decimals=3))] for name, value in summaries.thresholds.select("name", "value").iter_rows()],
            )
        )
    else:
        section.paragraphs.append(translate("report.map.no_thresholds", language))
    return section


def _mix(summaries: Summaries, language: str) -> Section:
    currency = summaries.currency
    section = Section("mix", translate("report.mix.title", language), paragraphs=[translate("report.mix.intro", language, currency=currency)])
    section.charts.append(ChartView(f"chart-{language}-mix", charts.figure_json(charts.category_mix_chart(summaries.mix, currency, language))))

    headers = [
        translate(f"report.mix.{name}", language)
        for name in ("currency", "category", "loans", "loan_share", "ead", "expected_recovery", "expected_recovery_pv", "recovery_rate", "hardship", "lost_contact")
    ]
    for (code,), rows in summaries.mix.group_by("currency", maintain_order=True):
        body = [
            [
                Cell(code),
                Cell(translate_code("category", row["category"], language)),
                _num(format_count(row["loans"], language)),
                _num(format_percent(row["loan_share"], language)),
                _num(format_money(row["exposure_at_default"], code, language)),
                _num(format_money(row["expected_recovery"], code, language)),
                _num(format_money(row["expected_recovery_pv"], code, language)),
                _num(format_percent(row["recovery_rate"], language)),
                _num(format_count(row["hardship"], language)),
                _num(format_count(row["lost_contact"], language)),
            ]
            for row in rows.sort("category").iter_rows(named=True)
        ]
        ead = rows["exposure_at_default"].sum()
        recovered = rows["expected_recovery"].sum()
        footer = [
            Cell(code),
            Cell(translate("report.total", language)),
            _num(format_count(rows["loans"].sum(), language)),
            _num(format_percent(1.0 if rows["loans"].sum() else None, language)),
            _num(format_money(ead, code, language)),
            _num(format_money(recovered, code, language)),
            _num(format_money(rows["expected_recovery_pv"].sum(), code, language)),
            _num(format_percent(recovered / ead if ead else None, language)),
            _num(format_count(rows["hardship"].sum(), language)),
            _num(format_count(rows["lost_contact"].sum(), language)),
        ]
        section.tables.append(TableView(caption=f"{translate('report.mix.title', language)} ({code})", headers=headers, rows=body, footer=footer))
    return section


def _curve(summaries: Summaries, language: str) -> Section:
    section = Section("curve", translate("report.curve.title", language))
    curve = summaries.curve
    if curve is None or curve.height == 0:
        section.paragraphs.append(translate("report.curve.missing", language))
        return section

    section.paragraphs.append(translate("report.curve.intro", language))
    section.charts.append(ChartView(f"chart-{language}-curve", charts.figure_json(charts.recovery_curve_chart(curve, language))))

    sources = curve["source"].unique(maintain_order=True).to_list()
    last = int(curve["month"].max())
    months = sorted({month for month in _CURVE_MONTHS if month <= last} | {last})
    lookup = {(source, month): value for source, month, value in curve.select("source", "month", "cumulative").iter_rows()}
    rows = []
    for month in months:
        row = [_num(format_count(month, language))]
        for source in sources:
            # The curve is cumulative, so a month without a point takes the last point before it.
            known = [m for (s, m) in lookup if s == source and m <= month]
            value = lookup[(source, max(known))] if known else None
            row.append(_num(format_percent(value, language)))
        rows.append(row)
    section.tables.append(
        TableView(
            caption=translate("report.curve.title", language),
            headers=[translate("report.curve.month", language)] + [translate_code("report.curve", source, language) for source in sources],
            rows=rows,
        )
    )
    return section


def _value(summaries: Summaries, language: str) -> Section:
    currency = summaries.currency
    section = Section("value", translate("report.value.title", language), paragraphs=[translate("report.value.intro", language, currency=currency)])
    if summaries.values.height:
        section.charts.append(ChartView(f"chart-{language}-value", charts.figure_json(charts.value_chart(summaries.values, currency, language))))

    headers = [translate("report.mix.currency", language), translate("report.mix.category", language)] + [
        translate(f"report.value.{name}", language) for name in ("action", "loans", "ead", "expected_recovery_pv", "action_value", "value_rate")
    ]
    for (code,), rows in summaries.values.group_by("currency", maintain_order=True):
        body = [
            [
                Cell(code),
                Cell(translate_code("category", row["category"], language)),
                Cell(translate_code("action", row["action"], language)),
                _num(format_count(row["loans"], language)),
                _num(format_money(row["exposure_at_default"], code, language)),
                _num(format_money(row["expected_recovery_pv"], code, language)),
                _num(format_money(row["action_value"], code, language)),
                _num(format_percent(row["value_rate"], language)),
            ]
            for row in rows.iter_rows(named=True)
        ]
        ead = rows["exposure_at_default"].sum()
        value = rows["action_value"].sum()
        footer = [
            Cell(code),
            Cell(translate("report.total", language)),
            Cell(""),
            _num(format_count(rows["loans"].sum(), language)),
            _num(format_money(ead, code, language)),
            _num(format_money(rows["expected_recovery_pv"].sum(), code, language)),
            _num(format_money(value, code, language)),
            _num(format_percent(value / ead if ead else None, language)),
        ]
        section.tables.append(TableView(caption=f"{translate('report.value.title', language)} ({code})", headers=headers, rows=body, footer=footer))
    return section


def _add_recovery_model(section: Section, record: Mapping[str, Any], language: str) -> None:
    """Say how expected recovery was modelled: two parts, or one regression because the first part is degenerate."""
    recovery = (((record.get("model") or {}).get("metrics")) or {}).get("recovery")
    if not isinstance(recovery, Mapping) or "any_recovery_share" not in recovery:
        return
    share = format_percent(recovery["any_recovery_share"], language)
    if recovery.get("any_recovery_degenerate"):
        section.paragraphs.append(translate("report.value.recovery_degenerate", language, share=share))
    elif recovery.get("model") == "two_part":
        auc = recovery.get("any_validation_auc")
        auc_text = format_decimal(auc, language, 3) if auc is not None else MISSING
        section.paragraphs.append(translate("report.value.recovery_two_part", language, share=share, auc=auc_text))
    else:
        section.paragraphs.append(translate("report.value.recovery_single", language, share=share))


_PACKAGE_COLUMNS = (
    "loans", "debtors", "principal", "expected_recovery", "dcf_value", "bid", "p5", "p50", "p95", "expected_shortfall", "hold_value",
)


def _valuation(valuation: Mapping[str, Any], language: str) -> Section:
    """Curve with bands, packages with their prices and decision, and links to the disclosure files."""
    section = Section("valuation", translate("report.valuation.title", language))
    monte_carlo = valuation.get("monte_carlo") or {}
    section.paragraphs.append(
        translate(
            "report.valuation.intro",
            language,
            cutoff=valuation.get("cutoff_date", MISSING),
            discount_rate=format_percent(valuation.get("discount_rate"), language),
            target_irr=format_percent(valuation.get("target_irr"), language),
            scenarios=format_count(monte_carlo.get("scenarios"), language),
            seed=monte_carlo.get("seed", MISSING),
        )
    )
    for segment in valuation.get("curve_segments") or []:
        if segment.get("reason") not in (None, "empirical", "own") and segment.get("segment") == "all":
            section.paragraphs.append(translate("report.valuation.curve_source", language, source=translate_code("report.valuation.source", segment["reason"], language)))
    codes = valuation.get("note_codes") or []
    for index, note in enumerate(valuation.get("notes") or []):
        coded = codes[index] if index < len(codes) else {}
        key = f"report.valuation.notes.{coded.get('code')}"
        if coded.get("code") and has_message(key, language):
            params = {k: v for k, v in coded.items() if k != "code"}
            note = translate(key, language, **params)
        section.paragraphs.append(translate("report.valuation.note", language, note=note))

    bands = pl.DataFrame(valuation.get("curve_bands") or [])
    if bands.height and "cumulative_low" in bands.columns:
        section.charts.append(ChartView(f"chart-{language}-valuation-curve", charts.figure_json(charts.curve_band_chart(bands, language))))

    segments = [item for item in valuation.get("curve_segments") or [] if item.get("segment") != "all"]
    if segments:
        own = sum(1 for item in segments if item.get("reason") == "own")
        section.paragraphs.append(
            translate("report.valuation.segments", language, segments=format_count(len(segments), language), own=format_count(own, language))
        )
        section.tables.append(
            TableView(
                caption=translate("report.valuation.segments_title", language),
                headers=[translate(f"report.valuation.segment_{name}", language) for name in ("segment", "loans", "curve", "reason")],
                rows=[
                    [
                        Cell(str(item["segment"])),
                        _num(format_count(item.get("loans"), language)),
                        Cell(str(item.get("curve"))),
                        Cell(translate_code("report.valuation.segment_reasons", str(item.get("reason", "")).split(":")[0], language)),
                    ]
                    for item in segments[:_MAX_GROUPS]
                ],
            )
        )

    packages = valuation.get("packages") or []
    if not packages:
        section.paragraphs.append(translate("report.valuation.no_packages", language))
    headers = [translate("report.valuation.package", language)] + [translate(f"report.valuation.{name}", language) for name in _PACKAGE_COLUMNS] + [
        translate("report.valuation.decision", language)
    ]
    rows = []
    for package in packages:
        currency = package.get("currency") or "CNY"
        row = [Cell(str(package["package_id"]), title=str(package.get("package_key", "")))]
        for name in _PACKAGE_COLUMNS:
            value = package.get(name)
            text = format_count(value, language) if name in ("loans", "debtors") else format_money(value, currency, language)
            row.append(_num(text))
        row.append(Cell(translate_code("report.valuation.decisions", str(package.get("decision")), language)))
        rows.append(row)
    section.tables.append(TableView(caption=translate("report.valuation.packages", language), headers=headers, rows=rows))

    eligibility = valuation.get("eligibility") or []
    section.tables.append(
        TableView(
            caption=translate("report.valuation.eligibility", language),
            headers=[translate("report.valuation.reason", language), translate("report.valuation.loans", language)],
            rows=[
                [Cell(translate_code("report.valuation.reasons", str(item["eligibility"]), language)), _num(format_count(item["count"], language))]
                for item in eligibility
            ],
        )
    )
    k_report = valuation.get("k_anonymity") or []
    if k_report:
        section.paragraphs.append(
            translate(
                "report.valuation.k_anonymity",
                language,
                packages=format_count(len(k_report), language),
                k=valuation.get("k"),
                smallest=format_count(min(item.get("min_debtors_per_class") or 0 for item in k_report), language),
                suppressed=format_count(sum(item.get("suppressed") or 0 for item in k_report), language),
            )
        )
    section.links.extend((path, path) for path in valuation.get("files") or [])
    return section


def _plan(plan: Mapping[str, Any], hardship: Mapping[str, Any], language: str) -> Section:
    """Build the plan section: solver and gap, capacity use with shadow prices, NPV by action, relief offers."""
    section = Section("plan", translate("report.plan.title", language))
    section.paragraphs.append(
        translate(
            "report.plan.intro",
            language,
            loans=format_count(plan.get("loans"), language),
            objective=format_money(plan.get("objective_cny"), "CNY", language),
            gap=format_percent(plan.get("gap"), language, decimals=4),
            solver=_text(plan.get("solver")),
            greedy=format_money(plan.get("greedy_unconstrained_cny"), "CNY", language),
            horizon=format_count(plan.get("horizon_months"), language),
        )
    )

    rows = []
    for item in plan.get("capacity") or []:
        capacity = item.get("monthly_capacity")
        rows.append(
            [
                Cell(translate_code("plan.resource", str(item["resource"]), language)),
                _num(format_decimal(capacity, language, 0) if capacity is not None else translate("plan.unlimited", language)),
                _num(format_decimal(item.get("used_per_month"), language, 0)),
                _num(format_percent(item.get("share_used"), language, decimals=1)),
                _num(format_money(item.get("shadow_price_per_month"), "CNY", language)),
            ]
        )
    headers = [translate(f"plan.col_{name}", language) for name in ("resource", "monthly_capacity", "used_per_month", "share_used", "shadow_price")]
    section.tables.append(TableView(caption=translate("plan.capacity_title", language), headers=headers, rows=rows))

    rows = [
        [
            Cell(translate_code("action", str(item["action"]), language)),
            _num(format_count(item.get("loans"), language)),
            _num(format_money(item.get("npv_cny"), "CNY", language)),
            _num(format_count(item.get("greedy_loans"), language)),
            _num(format_money(item.get("greedy_npv_cny"), "CNY", language)),
        ]
        for item in plan.get("by_action") or []
    ]
    headers = [translate(f"plan.col_{name}", language) for name in ("action", "loans", "npv", "greedy_loans")] + [translate("report.plan.greedy_npv", language)]
    section.tables.append(TableView(caption=translate("plan.action_title", language), headers=headers, rows=rows))

    by_kind = hardship.get("by_kind") or []
    section.paragraphs.append(translate("report.plan.relief", language, loans=format_count(hardship.get("loans", 0), language)))
    if by_kind:
        section.tables.append(
            TableView(
                caption=translate("report.plan.relief_title", language),
                headers=[translate(f"report.plan.relief_{name}", language) for name in ("kind", "loans", "interest_waived", "mean_apr")],
                rows=[
                    [
                        Cell(translate_code("report.plan.kind", str(item["hardship_kind"]), language)),
                        _num(format_count(item.get("loans"), language)),
                        _num(format_decimal(item.get("interest_waived"), language, 2)),
                        _num(format_percent(item.get("mean_apr"), language, decimals=2)),
                    ]
                    for item in by_kind
                ],
            )
        )
    section.links.extend((path, path) for path in plan.get("files") or [])
    if hardship.get("file"):
        section.links.append((str(hardship["file"]), str(hardship["file"])))
    return section


def _abs(record: Mapping[str, Any], language: str) -> Section:
    """Build the ABS section: the pool's size, the sized senior share, break-evens and a link to the deal report."""
    section = Section("abs", translate("report.abs.title", language))
    status = record.get("status")
    if status != "proposed":
        section.paragraphs.append(translate(f"report.abs.{status}" if status in ("disabled", "no_pool") else "report.abs.no_pool", language))
        return section

    currency = str(record.get("currency") or "CNY")
    section.paragraphs.append(
        translate(
            "report.abs.intro",
            language,
            loans=format_count(record.get("loans"), language),
            claims=format_money(record.get("outstanding_claims"), currency, language),
            collections=format_money(record.get("expected_collections"), currency, language),
            months=format_count(record.get("months"), language),
        )
    )
    pairs = [
        (translate("report.abs.issue", language), _num(format_money(record.get("issue_balance"), currency, language))),
        (translate("report.abs.senior_share", language), _num(format_percent(record.get("senior_share"), language, decimals=1))),
        (translate("report.abs.senior", language), _num(format_money(record.get("senior_balance"), currency, language))),
        (translate("report.abs.subordinated", language), _num(format_money(record.get("subordinated_balance"), currency, language))),
    ]
    for name, value in sorted((record.get("break_even") or {}).items()):
        tranche, _, parameter = name.partition(".")
        label = translate("report.abs.break_even", language, tranche=translate_code("report.abs.tranche", tranche, language), stress=translate_code("report.abs.stress", parameter, language))
        text = format_percent(value, language, decimals=1) if parameter == "recovery_haircut" else format_decimal(value, language, 2)
        pairs.append((label, _num(text)))
    section.tables.append(_key_value_table(translate("report.abs.title", language), pairs, language))
    if not record.get("senior_share"):
        section.paragraphs.append(translate("report.abs.no_senior", language))
    if record.get("loans_other_currencies"):
        section.paragraphs.append(translate("report.abs.other_currencies", language, loans=format_count(record["loans_other_currencies"], language)))
    if record.get("report"):
        section.links.append((translate("report.abs.link", language), str(record["report"])))
    return section


def _reasons(summaries: Summaries, language: str) -> Section:
    minimum = summaries.reasons_min_loans
    section = Section("reasons", translate("report.reasons.title", language), paragraphs=[translate("report.reasons.intro", language, min_loans=minimum)])
    if summaries.reasons.height == 0:
        section.paragraphs.append(translate("report.reasons.none", language, min_loans=minimum))
        return section

    column = "reason_zh" if language == "zh-CN" else "reason_en"
    rows = [
        [
            _num(format_count(row["rank"], language)),
            Cell(row[column]),
            _num(format_count(row["loans"], language)),
            _num(format_percent(row["loan_share"], language)),
            *[_num(format_count(row[category], language)) for category in CATEGORIES],
        ]
        for row in summaries.reasons.iter_rows(named=True)
    ]
    section.tables.append(
        TableView(
            caption=translate("report.reasons.title", language),
            headers=[translate(f"report.reasons.{name}", language) for name in ("rank", "reason", "loans", "share")]
            + [translate_code("category", category, language) for category in CATEGORIES],
            rows=rows,
        )
    )
    return section


def _interval(values: Any, language: str, decimals: int = 3) -> str:
    if isinstance(values, (list, tuple)) and len(values) == 2 and all(isinstance(v, (int, float)) for v in values):
        return f"[{format_number(values[0], language, decimals)}, {format_number(values[1], language, decimals)}]"
    return MISSING


def _backtest(backtest: Mapping[str, Any], currency: str, language: str) -> Section:
    baseline = backtest.get("baseline")
    if baseline == "exposure-weighted recovery rate by grade on the history":
        baseline = translate("report.backtest.baseline_grade", language)
    section = Section(
        "backtest",
        translate("report.backtest.title", language),
        paragraphs=[
            translate(
                "report.backtest.intro",
                language,
                n_loans=format_count(backtest.get("n_loans"), language),
                cap=format_number(backtest.get("cap"), language, decimals=1) if isinstance(backtest.get("cap"), (int, float)) else MISSING,
                baseline=_text(baseline),
                coverage=format_percent(backtest.get("interval", 0.9), language, decimals=0),
            )
        ],
    )

    metrics = backtest.get("metrics") or {}
    passes = backtest.get("passes") or {}
    names = [name for name in _BACKTEST_METRICS if name in metrics] + sorted(set(metrics) - set(_BACKTEST_METRICS))
    # A pass/fail entry named like a metric is shown on the metric's row; the others get their own table.
    with_passes = any(name in passes for name in names)
    rows = []
    for name in names:
        entry = metrics.get(name) or {}
        row = [
            Cell(translate_code("report.backtest", name, language)),
            _num(format_number(entry.get("model"), language, decimals=3)),
            _num(_interval(entry.get("model_ci"), language)),
            _num(format_number(entry.get("baseline"), language, decimals=3)),
            _num(_interval(entry.get("baseline_ci"), language)),
        ]
        if with_passes:
            outcome = passes.get(name)
            if outcome is None:
                row.append(Cell(MISSING))
            else:
                key = "report.backtest.passed" if outcome else "report.backtest.failed"
                row.append(Cell(translate(key, language)))
        rows.append(row)
    columns = ["metric", "model", "model_ci", "baseline", "baseline_ci"] + (["passes"] if with_passes else [])
    section.tables.append(
        TableView(
            caption=translate("report.backtest.title", language),
            headers=[translate(f"report.backtest.{name}", language) for name in columns],
            rows=rows,
        )
    )

    total = backtest.get("total") or {}
    if total:
        pairs = [
            (translate("report.backtest.predicted", language), _num(format_money(total.get("predicted"), currency, language))),
            (translate("report.backtest.realised", language), _num(format_money(total.get("realised"), currency, language))),
            (translate("report.backtest.baseline_total", language), _num(format_money(total.get("baseline"), currency, language))),
            (translate("report.backtest.ratio", language), _num(format_number(total.get("ratio"), language, decimals=3))),
            (translate("report.backtest.ratio_ci", language), _num(_interval(total.get("ratio_ci"), language))),
        ]
        interval = backtest.get("prediction_interval") or {}
        if interval:
            pairs.append(
                (translate("report.backtest.interval_coverage", language), _num(format_percent(interval.get("coverage"), language, decimals=1)))
            )
            pairs.append(
                (translate("report.backtest.interval_width", language), _num(format_percent(interval.get("mean_width"), language, decimals=1)))
            )
        section.tables.append(_key_value_table(translate("report.backtest.total_title", language), pairs, language))

    if backtest.get("realised_source") == "given":
        section.paragraphs.append(translate("report.backtest.realised_given", language))
    by_group = backtest.get("by_group") or {}
    if by_group.get("groups"):
        section.paragraphs.append(
            translate(
                "report.backtest.group_intro",
                language,
                by=translate_code("report.backtest.group_by", str(by_group.get("by")), language),
                groups=format_count(len(by_group["groups"]), language),
                wape=format_percent(by_group.get("wape"), language, decimals=1),
                bias=format_percent(by_group.get("bias"), language, decimals=1),
            )
        )
        section.tables.append(
            TableView(
                caption=translate(
                    "report.backtest.group_title", language, shown=format_count(min(len(by_group["groups"]), _MAX_GROUPS), language)
                ),
                headers=[translate(f"report.backtest.group_{name}", language) for name in ("group", "loans", "predicted", "realised", "error")],
                rows=[
                    [
                        Cell(str(group["group"])),
                        _num(format_count(group["loans"], language)),
                        _num(format_money(group["predicted"], currency, language)),
                        _num(format_money(group["realised"], currency, language)),
                        _num(format_percent(group["relative_error"], language, decimals=1)),
                    ]
                    for group in sorted(by_group["groups"], key=lambda g: -(g.get("ead") or 0.0))[:_MAX_GROUPS]
                ],
            )
        )

    other = {name: value for name, value in passes.items() if name not in metrics}
    if other:
        section.tables.append(
            TableView(
                caption=translate("report.backtest.check", language),
                headers=[translate("report.backtest.check", language), translate("report.backtest.result", language)],
                rows=[
                    [
                        Cell(translate_code("report.backtest", name, language)),
                        Cell(translate("report.backtest.passed" if value else "report.backtest.failed", language)),
                    ]
                    for name, value in other.items()
                ],
            )
        )
    return section


def _verdict(value: Any, language: str) -> str:
    if value is None:
        return translate("report.fairness.not_judged", language)
    return translate("report.backtest.passed" if value else "report.backtest.failed", language)


def _fairness_group(attribute: str, group: Any, language: str) -> str:
    text = _text(group)
    if attribute == "gender":
        return translate_code("report.fairness", f"gender_{text}", language).removeprefix("gender_")
    if text == "(missing)":
        return translate("report.fairness.missing", language)
    return text


def _fairness(fairness: Mapping[str, Any], currency: str, language: str) -> Section:
    limits = fairness.get("limits") or {}
    unit = translate("report.fairness.unit_loan" if fairness.get("unit") == "loan" else "report.fairness.unit_debtor", language)
    section = Section(
        "fairness",
        translate("report.fairness.title", language),
        paragraphs=[
            translate(
                "report.fairness.intro",
                language,
                unit=unit,
                count=format_count(fairness.get("debtors"), language),
                ratio=format_number(limits.get("parity_ratio_min"), language, decimals=2),
                eo=format_number(limits.get("equal_opportunity_difference_max"), language, decimals=2),
                min_group=format_count(limits.get("min_group_debtors"), language),
            )
        ],
    )
    if not fairness.get("has_outcomes"):
        section.paragraphs.append(translate("report.fairness.no_outcomes", language))

    def ratio(value: Any) -> Cell:
        return _num(format_number(value, language, decimals=3) if isinstance(value, (int, float)) else MISSING)

    summary_rows = [
        [
            Cell(translate_code("report.fairness", f"attribute_{item.get('attribute')}", language).removeprefix("attribute_")),
            _num(f"{format_count(item.get('judged_groups'), language)} / {format_count(item.get('groups'), language)}"),
            ratio(item.get("parity_ratio")),
            ratio(item.get("parity_difference")),
            ratio(item.get("equal_opportunity_difference")),
            Cell(_verdict(item.get("passes"), language)),
            _num(format_count(item.get("affected_debtors"), language)),
            _num(format_percent(item.get("affected_share"), language)),
        ]
        for item in fairness.get("attributes") or []
    ]
    section.tables.append(
        TableView(
            caption=translate("report.fairness.summary", language),
            headers=[
                translate(f"report.fairness.{name}", language)
                for name in ("attribute", "judged_groups", "parity_ratio", "parity_difference", "eo_difference", "result", "affected", "affected_share")
            ],
            rows=summary_rows,
        )
    )
    section.tables.append(_fairness_groups(fairness.get("groups") or [], translate("report.fairness.groups", language), language))

    mitigation = fairness.get("mitigation")
    if isinstance(mitigation, Mapping):
        key = "report.fairness.mitigation_applied" if mitigation.get("applied") else "report.fairness.mitigation_option"
        section.paragraphs.append(translate(key, language, loans=format_count(mitigation.get("loans_changed_category"), language)))
        pairs = [
            (translate(f"report.fairness.{name}", language), _num(format_money(mitigation.get(name), currency, language)))
            for name in (
                "action_value_before", "action_value_after", "action_value_change",
                "expected_recovery_pv_before", "expected_recovery_pv_after", "expected_recovery_pv_change",
            )
        ]
        section.tables.append(_key_value_table(translate("report.fairness.cost", language), pairs, language))
        section.tables.append(
            TableView(
                caption=translate("report.fairness.shifts", language),
                headers=[translate(f"report.fairness.{name}", language) for name in ("attribute", "group", "shift", "target_reached")],
                rows=[
                    [
                        Cell(translate_code("report.fairness", f"attribute_{item.get('attribute')}", language).removeprefix("attribute_")),
                        Cell(_fairness_group(str(item.get("attribute")), item.get("group"), language)),
                        _num(format_number(item.get("shift"), language, decimals=3)),
                        Cell(translate("report.yes" if item.get("target_reached") else "report.no", language)),
                    ]
                    for item in mitigation.get("shifts") or []
                ],
            )
        )
        section.tables.append(_fairness_groups(mitigation.get("groups_after") or [], translate("report.fairness.groups_after", language), language))
    return section


def _fairness_groups(groups: Sequence[Mapping[str, Any]], caption: str, language: str) -> TableView:
    def share(value: Any) -> Cell:
        return _num(format_percent(value, language))

    rows = [
        [
            Cell(translate_code("report.fairness", f"attribute_{item.get('attribute')}", language).removeprefix("attribute_")),
            Cell(_fairness_group(str(item.get("attribute")), item.get("group"), language)),
            _num(format_count(item.get("debtors"), language)),
            share(item.get("favourable_rate")),
            _num(format_number(item.get("impact_ratio"), language, decimals=3) if isinstance(item.get("impact_ratio"), (int, float)) else MISSING),
            share(item.get("true_positive_rate")),
            share(item.get("mean_willingness")),
            share(item.get("observed_willing")),
            share(item.get("mean_ability")),
            share(item.get("observed_able")),
            Cell(_verdict(None if not item.get("judged") else not item.get("fails"), language)),
        ]
        for item in groups
    ]
    return TableView(
        caption=caption,
        headers=[
            translate(f"report.fairness.{name}", language)
            for name in (
                "attribute", "group", "debtors", "favourable_rate", "impact_ratio", "true_positive_rate",
                "mean_willingness", "observed_willing", "mean_ability", "observed_able", "result",
            )
        ],
        rows=rows,
    )


def _assumptions(record: Mapping[str, Any], language: str) -> Section:
    section = Section("assumptions", translate("report.assumptions.title", language), paragraphs=[translate("report.assumptions.intro", language)])
    items = [item for item in (record.get("assumptions") or []) if isinstance(item, Mapping)]
    if not items:
        section.paragraphs.append(translate("report.assumptions.none", language))
        return section

    rows = [
        [
            Cell(_text(item.get("name"))),
            _plain_value(item.get("value"), language),
            Cell(translate_code("unit", str(item["unit"]), language) if item.get("unit") else MISSING),
            Cell(_text(item.get("source"))),
            Cell(_text(item.get("tag"))),
        ]
        for item in items
    ]
    section.tables.append(
        TableView(
            caption=translate("report.assumptions.title", language),
            headers=[translate(f"report.assumptions.{name}", language) for name in ("name", "value", "unit", "source", "tag")],
            rows=rows,
        )
    )
    return section


def _metrics(record: Mapping[str, Any], language: str) -> Section:
    section = Section("metrics", translate("report.metrics.title", language))
    stages = ((record.get("metrics") or {}).get("stage_seconds")) or {}
    if isinstance(stages, Mapping) and stages:
        section.tables.append(
            TableView(
                caption=translate("report.metrics.title", language),
                headers=[translate("report.metrics.stage", language), translate("report.metrics.seconds", language)],
                rows=[
                    [Cell(translate_code("stage", str(stage), language)), _num(format_seconds(seconds, language) if isinstance(seconds, (int, float)) else MISSING)]
                    for stage, seconds in stages.items()
                ],
            )
        )

    model_metrics = ((record.get("model") or {}).get("metrics")) or {}
    if isinstance(model_metrics, Mapping) and model_metrics:
        pairs = [(name, _plain_value(value, language)) for name, value in _flatten(model_metrics)]
        section.tables.append(
            TableView(
                caption=translate("report.metrics.model_metrics", language),
                headers=[translate("report.metrics.metric", language), translate("report.metrics.value", language)],
                rows=[[Cell(name), cell] for name, cell in pairs],
            )
        )
    return section


def build_sections(record: Mapping[str, Any], summaries: Summaries, language: str) -> list[Section]:
    """Build every section of the report in ``language``, in reading order.

    The backtest and fairness sections are present only when
    ``record["backtest"]`` and ``record["fairness"]`` are non-empty mappings.
    """
    sections = [
        _header(record, language),
        _counts(record, summaries, language),
        _score_map(summaries, language),
        _mix(summaries, language),
        _curve(summaries, language),
        _value(summaries, language),
        _reasons(summaries, language),
    ]
    _add_recovery_model(sections[5], record, language)

    valuation = record.get("valuation")
    if isinstance(valuation, Mapping) and valuation:
        sections.append(_valuation(valuation, language))

    plan_record = record.get("plan")
    if isinstance(plan_record, Mapping) and plan_record:
        sections.append(_plan(plan_record, record.get("hardship") or {}, language))

    abs_record = record.get("abs")
    if isinstance(abs_record, Mapping) and abs_record:
        sections.append(_abs(abs_record, language))

    backtest = record.get("backtest")
    if isinstance(backtest, Mapping) and backtest:
        sections.append(_backtest(backtest, summaries.currency, language))

    fairness = record.get("fairness")
    if isinstance(fairness, Mapping) and fairness:
        sections.append(_fairness(fairness, summaries.currency, language))

    sections.append(_assumptions(record, language))
    metrics = _metrics(record, language)
    if metrics.tables:
        sections.append(metrics)
    sections.append(Section("glossary", translate("report.glossary.title", language), paragraphs=[translate("report.glossary.text", language)]))
    return sections
