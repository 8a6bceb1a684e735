"""Write a drift monitor result as ``monitor.json`` and a bilingual ``monitor.html``.

Both files hold aggregates only: shares of loans per bin, PSI, AUC, KS and
mean rates per decile, never a loan id or any personal data. The HTML page
shows the chosen language first and the other one below it, with its text
from the message catalogues in ``sanhua/report/locales``.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from sanhua import __version__
from sanhua.governance.catalogue import _finite
from sanhua.governance.monitor import MonitorResult
from sanhua.report.i18n import LANGUAGES, MISSING, format_count, format_decimal, format_percent, normalise_language, translate

__all__ = ["write_monitor", "reason_text"]

logger = logging.getLogger(__name__)

JSON_FILE = "monitor.json"
HTML_FILE = "monitor.html"

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ pages[0].language }}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="sanhua {{ version }}">
<title>{{ pages[0].title }} · {{ model_version }}</title>
<style>
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif; color: #1f2933; margin: 0; font-size: 14px; line-height: 1.5; }
article { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
article + article { border-top: 4px solid #d9e2ec; }
h2 { font-size: 18px; border-bottom: 2px solid #d9e2ec; padding-bottom: 4px; margin-top: 28px; }
.note { color: #52606d; }
.stable { color: #2e7d32; } .watch { color: #b26a00; } .retrain { color: #c62828; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #d9e2ec; padding: 4px 10px; text-align: left; white-space: nowrap; }
th { background: #f5f7fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
{% for page in pages %}
<article lang="{{ page.language }}">
  <h1>{{ page.title }}</h1>
  <p class="note">{{ page.subtitle }}</p>
  <p class="note">{{ page.generated }} · {{ page.aggregates_only }}</p>
  <p class="note">{{ page.loans }}</p>
  <h2>{{ page.recommendation_label }}: <span class="{{ recommendation }}">{{ page.recommendation }}</span></h2>
  {% if page.reasons %}<ul>{% for reason in page.reasons %}<li class="{{ reason.level }}">{{ reason.text }}</li>{% endfor %}</ul>
  {% else %}<p>{{ page.no_reasons }}</p>{% endif %}
  {% for table in page.tables %}
  <h2>{{ table.title }}</h2>
  {% if table.note %}<p class="note">{{ table.note }}</p>{% endif %}
  {% if table.rows %}
  <table>
    <thead><tr>{% for header in table.headers %}<th>{{ header }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in table.rows %}<tr>{% for cell in row %}<td class="{{ cell.css }}">{{ cell.text }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table>
  {% endif %}
  {% endfor %}
  <h2>{{ page.binning_title }}</h2>
  <p>{{ page.binning }}</p>
  <p>{{ page.formula }}</p>
</article>
{% endfor %}
</body>
</html>
"""


def _number(value: Any, language: str, decimals: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    return format_decimal(value, language, max_decimals=decimals)


def reason_text(reason: dict[str, Any], language: str) -> str:
    """Return one finding of the monitor (an item of ``MonitorResult.reasons``) as a sentence."""
    return translate(
        f"monitor.reason.{reason['check']}",
        language,
        name=reason["name"],
        value=_number(reason["value"], language),
        threshold=_number(reason["threshold"], language),
    )


def _cell(text: str, css: str = "") -> dict[str, str]:
    return {"text": text, "css": css}


def _page(result: MonitorResult, language: str) -> dict[str, Any]:
    settings = result.settings
    stability_rows = [
        [
            _cell(row["variable"]),
            _cell(translate(f"monitor.kind.{row['kind']}", language)),
            _cell(row["models"]),
            _cell(_number(row["psi"], language), "num"),
            _cell(translate(f"monitor.level.{row['level']}", language), row["level"]),
            _cell(format_percent(row["missing_expected"], language), "num"),
            _cell(format_percent(row["missing_actual"], language) + (f" ({translate('monitor.absent', language)})" if row["absent"] else ""), "num"),
        ]
        for row in result.stability.iter_rows(named=True)
    ]
    performance_rows = [
        [
            _cell(row["model"]),
            _cell(format_count(row["loans"], language), "num"),
            _cell(format_percent(row["positive_share"], language), "num"),
            *(_cell(_number(row[key], language), "num") for key in ("auc", "baseline_auc", "auc_drop", "ks", "baseline_ks", "ks_drop")),
            _cell(translate(f"monitor.level.{row['level']}", language), row["level"]),
        ]
        for row in result.performance.iter_rows(named=True)
    ]
    calibration_rows = [
        [
            _cell(row["model"]),
            _cell(str(row["decile"]), "num"),
            _cell(format_count(row["loans"], language), "num"),
            _cell(_number(row["mean_predicted"], language), "num"),
            _cell(_number(row["observed_rate"], language), "num"),
        ]
        for row in result.calibration.iter_rows(named=True)
    ]
    no_outcomes = translate("monitor.no_outcomes", language) if result.performance.height == 0 else None

    def headers(*keys: str) -> list[str]:
        return [translate(f"monitor.col_{key}", language) for key in keys]

    return {
        "language": language,
        "title": translate("monitor.title", language),
        "subtitle": translate("monitor.subtitle", language, version=result.model["version"], tape=result.tape["path"] or MISSING),
        "generated": translate("monitor.generated", language, version=__version__, date=result.created_at),
        "aggregates_only": translate("monitor.aggregates_only", language),
        "loans": translate("monitor.loans", language, loans=format_count(result.tape["loans"], language), outcomes=format_count(result.tape["loans_with_outcomes"], language)),
        "recommendation_label": translate("monitor.recommendation", language),
        "recommendation": translate(f"monitor.level.{result.recommendation}", language),
        "reasons": [{"level": r["level"], "text": reason_text(r, language)} for r in result.reasons],
        "no_reasons": translate("monitor.no_reasons", language, watch=_number(settings.psi_watch, language)),
        "tables": [
            {
                "title": translate("monitor.stability", language),
                "note": None,
                "headers": headers("variable", "kind", "models", "psi", "level", "missing_expected", "missing_actual"),
                "rows": stability_rows,
            },
            {
                "title": translate("monitor.performance", language),
                "note": no_outcomes,
                "headers": headers("model", "loans", "positive_share", "auc", "baseline_auc", "auc_drop", "ks", "baseline_ks", "ks_drop", "level"),
                "rows": performance_rows,
            },
            {
                "title": translate("monitor.calibration", language),
                "note": no_outcomes,
                "headers": headers("model", "decile", "loans", "mean_predicted", "observed_rate"),
                "rows": calibration_rows,
            },
        ],
        "binning_title": translate("monitor.binning", language),
        "binning": translate("monitor.binning_text", language, bins=settings.bins, loans=format_count(result.model["baseline_loans"], language)),
        "formula": translate(
            "monitor.formula",
            language,
            floor=_number(settings.psi_floor, language),
            watch=_number(settings.psi_watch, language),
            act=_number(settings.psi_act, language),
        ),
    }


def write_monitor(result: MonitorResult, out: str | Path, *, language: str = "zh-CN") -> tuple[Path, Path]:
    """Write ``monitor.json`` and ``monitor.html`` to the folder ``out`` and return their paths.

    Parameters
    ----------
    result : MonitorResult
    out : str or Path
        Folder, created when missing.
    language : str
        Language shown first in the HTML page; the other follows.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    first = normalise_language(language)

    payload = _finite(result.to_dict())
    json_path = folder / JSON_FILE
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8")

    languages = [first, *(other for other in LANGUAGES if other != first)]
    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = environment.from_string(_TEMPLATE).render(
        pages=[_page(result, lang) for lang in languages],
        version=__version__,
        model_version=result.model["version"],
        recommendation=result.recommendation,
    )
    html_path = folder / HTML_FILE
    html_path.write_text(html, encoding="utf-8")
    logger.info("monitor.json and monitor.html written to %s", folder)
    return json_path, html_path
