"""Plotly figures of the report, drawn from the summary tables.

Each function takes a table of :mod:`sanhua.report.tables` (aggregates only,
never one point per loan) and a language, and returns a
``plotly.graph_objects.Figure`` whose labels come from the message catalogue.
:func:`figure_json` turns a figure into the JSON that the page passes to
``Plotly.newPlot``; the page embeds the ``plotly.min.js`` shipped with the
Plotly Python package, so no chart needs the network.
"""

from __future__ import annotations

import json
from typing import Final

import plotly.graph_objects as go
import polars as pl

from sanhua.report.i18n import translate, translate_code
from sanhua.report.tables import CATEGORIES

__all__ = [
    "PLOTLY_CONFIG",
    "score_map",
    "category_mix_chart",
    "recovery_curve_chart",
    "value_chart",
    "figure_json",
]

PLOTLY_CONFIG: Final[dict[str, object]] = {
    "displaylogo": False,
    "responsive": True,
    "showLink": False,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
"""Options passed to ``Plotly.newPlot``: no Plotly logo, no link to a hosted service."""

CATEGORY_COLOURS: Final[dict[str, str]] = {"A": "#2e7d32", "B": "#f9a825", "C": "#c62828"}
"""Colour of each disposal category: green repair, amber transform, red quick exit."""

_FONT: Final[str] = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'Helvetica Neue', Arial, sans-serif"


def _layout(**extra: object) -> dict[str, object]:
    layout: dict[str, object] = {
        "font": {"family": _FONT, "size": 13},
        "margin": {"l": 90, "r": 20, "t": 30, "b": 60},
        "height": 420,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.2},
    }
    layout.update(extra)
    return layout


def score_map(grid: pl.DataFrame, thresholds: pl.DataFrame, language: str) -> go.Figure:
    """Draw the willingness x ability count grid as a heatmap with the segment thresholds.

    Parameters
    ----------
    grid : pl.DataFrame
        Output of :func:`sanhua.report.tables.score_grid`.
    thresholds : pl.DataFrame
        Output of :func:`sanhua.report.tables.segment_thresholds`; each row
        becomes a dashed line (vertical for willingness, horizontal for
        ability).
    language : str
        Language of the labels.
    """
    bins = int(grid["willingness_bin"].max()) + 1 if grid.height else 10
    width = 1.0 / bins
    z = [[0] * bins for _ in range(bins)]
    for w, a, count in grid.select("willingness_bin", "ability_bin", "loans").iter_rows():
        z[a][w] = int(count)
    centres = [round((i + 0.5) * width, 6) for i in range(bins)]

    hover = translate("report.map.hover", language, x="%{x:.2f}", y="%{y:.2f}", z="%{z:,}") + "<extra></extra>"
    figure = go.Figure(
        go.Heatmap(
            x=centres,
            y=centres,
            z=z,
            colorscale="Blues",
            hovertemplate=hover,
            colorbar={"title": {"text": translate("report.unit_loans", language)}},
        )
    )

    shapes: list[dict[str, object]] = []
    annotations: list[dict[str, object]] = []
    for name, score, value in thresholds.select("name", "score", "value").iter_rows():
        if score == "willingness":
            shapes.append({"type": "line", "x0": value, "x1": value, "y0": 0, "y1": 1, "xref": "x", "yref": "y", "line": {"dash": "dash", "color": "#d84315", "width": 2}})
            annotations.append({"x": value, "y": 1.0, "xref": "x", "yref": "y", "text": name, "showarrow": False, "yanchor": "bottom", "font": {"size": 10, "color": "#d84315"}})
        else:
            shapes.append({"type": "line", "x0": 0, "x1": 1, "y0": value, "y1": value, "xref": "x", "yref": "y", "line": {"dash": "dash", "color": "#6a1b9a", "width": 2}})
            annotations.append({"x": 1.0, "y": value, "xref": "x", "yref": "y", "text": name, "showarrow": False, "xanchor": "right", "yanchor": "bottom", "font": {"size": 10, "color": "#6a1b9a"}})

    figure.update_layout(
        **_layout(height=480, shapes=shapes, annotations=annotations),
        xaxis={"title": {"text": translate("report.map.willingness", language)}, "range": [0, 1], "dtick": 0.1},
        yaxis={"title": {"text": translate("report.map.ability", language)}, "range": [0, 1], "dtick": 0.1},
    )
    return figure


def category_mix_chart(mix: pl.DataFrame, currency: str, language: str) -> go.Figure:
    """Draw EAD, expected recovery and its PV by category, in one currency.

    Parameters
    ----------
    mix : pl.DataFrame
        Output of :func:`sanhua.report.tables.category_mix`; rows of other
        currencies are ignored.
    currency : str
        ISO 4217 code of the amounts drawn.
    """
    rows = mix.filter(pl.col("currency") == currency).sort("category")
    labels = [translate_code("category", category, language) for category in rows["category"].to_list()]

    figure = go.Figure()
    series = (
        ("exposure_at_default", "report.mix.ead", "#90a4ae"),
        ("expected_recovery", "report.mix.expected_recovery", "#1565c0"),
        ("expected_recovery_pv", "report.mix.expected_recovery_pv", "#26a69a"),
    )
    for column, key, colour in series:
        name = translate(key, language)
        figure.add_trace(
            go.Bar(
                x=labels,
                y=rows[column].to_list(),
                name=name,
                marker_color=colour,
                hovertemplate=f"{name}: %{{y:,.0f}} {currency}<extra>%{{x}}</extra>",
            )
        )

    figure.update_layout(
        **_layout(barmode="group"),
        yaxis={"title": {"text": translate("report.mix.chart_amount", language, currency=currency)}, "tickformat": ",.0f", "rangemode": "tozero"},
    )
    return figure


def recovery_curve_chart(curve: pl.DataFrame, language: str) -> go.Figure:
    """Draw the cumulative recovery curve(s) by month after default.

    Parameters
    ----------
    curve : pl.DataFrame
        Output of :func:`sanhua.report.tables.check_curve`; one line per
        ``source``.
    """
    figure = go.Figure()
    for source in curve["source"].unique(maintain_order=True).to_list():
        rows = curve.filter(pl.col("source") == source).sort("month")
        name = translate_code("report.curve", source, language)
        figure.add_trace(
            go.Scatter(
                x=rows["month"].to_list(),
                y=rows["cumulative"].to_list(),
                mode="lines+markers" if rows.height <= 60 else "lines",
                name=name,
                line={"shape": "hv" if source == "empirical" else "linear", "width": 2},
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.1%}}<extra></extra>",
            )
        )

    figure.update_layout(
        **_layout(),
        xaxis={"title": {"text": translate("report.curve.month", language)}, "rangemode": "tozero"},
        yaxis={"title": {"text": translate("report.curve.cumulative", language)}, "tickformat": ".0%", "range": [0, 1.02]},
    )
    return figure


def curve_band_chart(bands: pl.DataFrame, language: str) -> go.Figure:
    """Draw the cumulative recovery curve with its confidence band.

    Parameters
    ----------
    bands : pl.DataFrame
        ``month``, ``cumulative`` (share of lifetime recovery),
        ``cumulative_low`` and ``cumulative_high``.
    """
    rows = bands.sort("month")
    months = rows["month"].to_list()
    name = translate("report.valuation.curve", language)
    band = translate("report.valuation.band", language)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=months, y=rows["cumulative_high"].to_list(), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"))
    figure.add_trace(
        go.Scatter(
            x=months,
            y=rows["cumulative_low"].to_list(),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31, 119, 180, 0.2)",
            name=band,
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(x=months, y=rows["cumulative"].to_list(), mode="lines", name=name, line={"width": 2}, hovertemplate=f"{name}<br>%{{x}}: %{{y:.1%}}<extra></extra>")
    )
    figure.update_layout(
        **_layout(),
        xaxis={"title": {"text": translate("report.curve.month", language)}, "rangemode": "tozero"},
        yaxis={"title": {"text": translate("report.curve.cumulative", language)}, "tickformat": ".0%", "range": [0, 1.02]},
    )
    return figure


def value_chart(values: pl.DataFrame, currency: str, language: str) -> go.Figure:
    """Draw the action value (PV) by chosen action, stacked by category, in one currency.

    Parameters
    ----------
    values : pl.DataFrame
        Output of :func:`sanhua.report.tables.value_by_category_action`;
        rows of other currencies are ignored.
    """
    rows = values.filter(pl.col("currency") == currency)
    order = (
        rows.group_by("action").agg(pl.col("action_value").sum()).sort(["action_value", "action"], descending=[True, False])["action"].to_list()
    )
    labels = {action: translate_code("action", action, language) for action in order}

    figure = go.Figure()
    for category in CATEGORIES:
        part = rows.filter(pl.col("category") == category)
        by_action = dict(zip(part["action"].to_list(), part["action_value"].to_list()))
        loans = dict(zip(part["action"].to_list(), part["loans"].to_list()))
        name = translate_code("category", category, language)
        figure.add_trace(
            go.Bar(
                x=[labels[action] for action in order],
                y=[by_action.get(action, 0.0) for action in order],
                customdata=[loans.get(action, 0) for action in order],
                name=name,
                marker_color=CATEGORY_COLOURS[category],
                hovertemplate=f"{name}<br>%{{x}}: %{{y:,.0f}} {currency}<br>%{{customdata:,}} "
                + translate("report.unit_loans", language)
                + "<extra></extra>",
            )
        )

    figure.update_layout(
        **_layout(barmode="relative"),
        yaxis={"title": {"text": translate("report.value.chart_value", language, currency=currency)}, "tickformat": ",.0f"},
    )
    return figure


def figure_json(figure: go.Figure) -> str:
    """Serialise a figure for embedding in a ``<script>`` element.

    Returns
    -------
    str
        JSON of ``{"data": [...], "layout": {...}}`` in which ``<``, ``>``
        and ``&`` are escaped as ``\\u003c``-style sequences, so the text
        cannot close the script element or open a comment.
    """
    payload = json.loads(figure.to_json(validate=False, pretty=False))
    # The default "plotly" template adds about 10 kB to every figure; the
    # layouts above set what they need and plotly.js supplies the rest.
    payload.get("layout", {}).pop("template", None)
    return (
        json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
