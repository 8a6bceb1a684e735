"""The deal's structure diagram as inline SVG (no script, no network).

Boxes: originator and servicer, the pool, the trust with its accounts, the external facility,
and the classes of notes stacked by seniority with heights proportional to their balances.
"""

from __future__ import annotations

from html import escape

from sanhua.report.i18n import format_money, format_percent, translate
from sanhua.securitize.deal import Deal

__all__ = ["structure_svg"]

_WIDTH = 900
_HEIGHT = 340


def _box(x: int, y: int, w: int, h: int, lines: list[str], fill: str) -> str:
    text = "".join(
        f'<text x="{x + w / 2:.0f}" y="{y + 22 + 18 * i:.0f}" text-anchor="middle" font-size="13">{escape(line)}</text>' for i, line in enumerate(lines)
    )
    return f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="#555"/>{text}'


def _arrow(x1: int, y1: int, x2: int, y2: int, label: str = "") -> str:
    line = f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>'
    if label:
        line += f'<text x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 6:.0f}" text-anchor="middle" font-size="11" fill="#444">{escape(label)}</text>'
    return line


def structure_svg(deal: Deal, language: str) -> str:
    """Return an ``<svg>`` element showing the deal's parties, accounts and classes of notes."""

    def t(key: str, **fields: object) -> str:
        return translate(f"abs.diagram.{key}", language, **fields)

    currency = deal.currency
    issue = deal.issue_balance
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" width="100%" role="img" aria-label="{escape(t("label"))}">',
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#555"/></marker></defs>',
        _box(10, 40, 170, 70, [t("originator"), t("servicer")], "#eef3f8"),
        _box(10, 200, 170, 80, [t("pool"), format_money(deal.claims, currency, language, decimals=0)], "#f6f1e7"),
        _arrow(95, 110, 95, 198, t("transfer")),
        _box(290, 120, 220, 110, [t("trust"), t("reserve"), t("excess_account")], "#eef6ee"),
        _arrow(180, 240, 288, 190, t("collections")),
        _arrow(290, 140, 182, 90, t("fees")),
    ]
    if deal.facility is not None:
        parts.append(_box(290, 10, 220, 60, [t("facility"), format_money(deal.facility.limit, currency, language, decimals=0)], "#fbeeee"))
        parts.append(_arrow(400, 70, 400, 118, t("liquidity")))

    top, height = 30, 280
    y = top
    for tranche in deal.tranches:
        share = tranche.balance / issue
        box_height = max(44, int(height * share))
        fill = "#d7e6f5" if tranche.seniority == "senior" else "#f5dfd7"
        parts.append(
            _box(640, y, 240, box_height - 6, [f"{tranche.name} ({format_percent(share, language, decimals=1)})", format_money(tranche.balance, currency, language, decimals=0)], fill)
        )
        parts.append(_arrow(512, 175, 638, y + (box_height - 6) // 2))
        y += box_height
    parts.append("</svg>")
    return "".join(parts)
