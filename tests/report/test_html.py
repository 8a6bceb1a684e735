"""Tests of the HTML report: content, languages, no network, bounded size."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from report_data import make_curve, make_loans, make_record

from sanhua.errors import ConfigError, InputFileError
from sanhua.report import REPORT_FILE, ReportDataError, write_report
from sanhua.report.i18n import format_percent, translate


class _Page(HTMLParser):
    """Collect the attributes, scripts and visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
        if tag == "script":
            self._in_script = True
            self.scripts.append(dict((name, value or "") for name, value in attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def _parse(path: Path) -> tuple[str, _Page]:
    html = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    return html, page


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run-small")
    loans = make_loans(100)
    return write_report(run_dir, loans, make_record(loans), make_curve())


def test_report_written_in_run_dir(small_report: Path) -> None:
    assert small_report.name == REPORT_FILE
    assert small_report.is_file()
    assert not list(small_report.parent.glob(".report-*"))


def test_report_has_no_network_reference(small_report: Path) -> None:
    html, page = _parse(small_report)

    external = [(tag, name, value) for tag, name, value in page.attributes if re.match(r"\s*(https?:)?//", value, re.IGNORECASE)]
    assert external == []
    for script in page.scripts:
        assert "src" not in script
    assert "link" not in page.tags
    assert "iframe" not in page.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html, re.IGNORECASE)


def test_report_forbids_network_by_policy(small_report: Path) -> None:
    _, page = _parse(small_report)

    policies = [value for tag, name, value in page.attributes if tag == "meta" and name == "content" and "default-src" in value]
    assert len(policies) == 1
    assert "default-src 'none'" in policies[0]
    assert "http" not in policies[0]
    assert "unsafe-eval" not in policies[0]


def test_report_embeds_plotly_once(small_report: Path) -> None:
    html, _ = _parse(small_report)

    assert html.count("plotly.js v") >= 1
    assert html.count("Plotly.newPlot(") == 1
    assert len(re.findall(r"\*\s*plotly\.js v\d", html)) == 1


def test_report_contains_both_languages(small_report: Path) -> None:
    _, page = _parse(small_report)
    text = " ".join(page.text)

    for language in ("zh-CN", "en"):
        for key in ("report.title", "report.counts.title", "report.map.title", "report.mix.title", "report.curve.title", "report.value.title", "report.assumptions.title", "report.glossary.title"):
            assert translate(key, language) in text, (language, key)
    articles = [value for tag, name, value in page.attributes if tag == "article" and name == "lang"]
    assert articles == ["zh-CN", "en"]


def test_report_language_order_follows_argument(tmp_path: Path) -> None:
    loans = make_loans(100)

    path = write_report(tmp_path, loans, make_record(loans), None, language="en_US")

    _, page = _parse(path)
    articles = [value for tag, name, value in page.attributes if tag == "article" and name == "lang"]
    assert articles == ["en", "zh-CN"]


def test_report_rejects_unknown_language(tmp_path: Path) -> None:
    loans = make_loans(10)

    with pytest.raises(ConfigError, match="fr"):
        write_report(tmp_path, loans, make_record(loans), None, language="fr")


def test_report_has_no_personal_data(small_report: Path) -> None:
    html, _ = _parse(small_report)

    assert "LOAN-SECRET" not in html
    assert "DEBTOR-VALUE" not in html


def test_report_shows_units_and_currency(small_report: Path) -> None:
    _, page = _parse(small_report)
    text = " ".join(page.text)

    assert re.search(r"¥[\d,]+\.\d\d", text)
    assert re.search(r"CN¥[\d,]+\.\d\d", text)
    assert "%" in text
    assert "32.5 秒" in text
    assert "32.5 s" in text


def test_report_charts_are_valid_json(small_report: Path) -> None:
    html, page = _parse(small_report)

    figure_ids = [script["id"] for script in page.scripts if script.get("type") == "application/json"]
    assert len(figure_ids) == 8
    for element_id in figure_ids:
        match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.DOTALL)
        assert match is not None
        figure = json.loads(match.group(1))
        assert figure["data"]
        for trace in figure["data"]:
            for axis in ("x", "y", "z"):
                assert len(trace.get(axis) or []) <= 100


def test_report_counts_and_thresholds(small_report: Path) -> None:
    _, page = _parse(small_report)
    text = " ".join(page.text)

    assert translate("report.counts.balanced", "en") in text
    assert "willing_high" in text
    assert "able_min" in text
    assert "必填值缺失 (missing_required)" in text


def test_report_unbalanced_counts_flagged(tmp_path: Path) -> None:
    loans = make_loans(50)
    record = make_record(loans)
    record["counts"]["input_rows"] += 3

    path = write_report(tmp_path, loans, record, None)

    assert "Check failed: input rows 65 differ from scored + quarantined + excluded = 62." in path.read_text(encoding="utf-8")


def test_backtest_section_only_when_given(tmp_path: Path) -> None:
    loans = make_loans(100)
    title = translate("report.backtest.title", "en")

    without = write_report(tmp_path, loans, make_record(loans, backtest=False), make_curve()).read_text(encoding="utf-8")
    assert title not in without

    with_backtest = write_report(tmp_path, loans, make_record(loans, backtest=True), make_curve()).read_text(encoding="utf-8")
    assert title in with_backtest
    assert translate("report.backtest.title", "zh-CN") in with_backtest
    assert "[1.010, 1.180]" in with_backtest
    assert translate("report.backtest.baseline_grade", "zh-CN") in with_backtest


def test_report_tolerates_sparse_record(tmp_path: Path) -> None:
    loans = make_loans(30)

    path = write_report(tmp_path, loans, {"run_id": "r1"}, None)

    html = path.read_text(encoding="utf-8")
    assert translate("report.curve.missing", "en") in html
    assert translate("report.assumptions.none", "zh-CN") in html
    assert translate("report.map.no_thresholds", "en") in html


def test_report_handles_empty_loans(tmp_path: Path) -> None:
    loans = make_loans(10).head(0)

    path = write_report(tmp_path, loans, make_record(loans), make_curve())

    assert path.is_file()


def test_report_rejects_missing_column(tmp_path: Path) -> None:
    loans = make_loans(10).drop("category")

    with pytest.raises(ReportDataError, match="category"):
        write_report(tmp_path, loans, make_record(loans), None)


def test_report_rejects_missing_run_dir(tmp_path: Path) -> None:
    loans = make_loans(10)

    with pytest.raises(InputFileError, match="does-not-exist"):
        write_report(tmp_path / "does-not-exist", loans, make_record(loans), None)


def test_report_escapes_record_text(tmp_path: Path) -> None:
    loans = make_loans(20)
    record = make_record(loans)
    record["profile"]["name"] = "<script>alert(1)</script>"

    html = write_report(tmp_path, loans, record, None).read_text(encoding="utf-8")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_size_bounded_for_large_run(tmp_path: Path) -> None:
    small = make_loans(100)
    large = make_loans(200_000, seed=11)

    small_path = write_report(tmp_path, small, make_record(small), make_curve())
    small_size = small_path.stat().st_size
    large_dir = tmp_path / "large"
    large_dir.mkdir()
    large_size = write_report(large_dir, large, make_record(large), make_curve()).stat().st_size

    assert large_size < 6_000_000
    assert abs(large_size - small_size) < 100_000
    assert "LOAN-SECRET" not in (large_dir / REPORT_FILE).read_text(encoding="utf-8")


def test_report_multi_currency_tables(tmp_path: Path) -> None:
    loans = make_loans(300, currencies=("CNY", "USD"))

    html = write_report(tmp_path, loans, make_record(loans), None).read_text(encoding="utf-8")

    assert "分类构成 (CNY)" in html
    assert "Category mix (USD)" in html
    assert "US$" in html
    assert loans.filter(pl.col("currency") == "USD").height > 0


def test_report_reads_pipeline_record_shape(tmp_path: Path) -> None:
    loans = make_loans(200, currencies=("CNY", "USD"))
    record = make_record(loans)
    del record["config"]["as_of"]
    record["filters"] = {"where": None, "as_of": "2025-03-31"}
    record["totals"]["currency"] = ["CNY", "USD"]

    html = write_report(tmp_path, loans, record, make_curve()).read_text(encoding="utf-8")

    assert "2025年3月31日" in html
    assert "Mar 31, 2025" in html


def test_report_file_mode_follows_umask(tmp_path: Path) -> None:
    loans = make_loans(20)
    previous = os.umask(0o022)
    try:
        path = write_report(tmp_path, loans, make_record(loans), None)
    finally:
        os.umask(previous)

    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("recovery", "key"),
    [
        ({"model": "two_part", "any_recovery_share": 0.981, "any_recovery_degenerate": True}, "report.value.recovery_degenerate"),
        ({"model": "two_part", "any_recovery_share": 0.72, "any_recovery_degenerate": False, "any_validation_auc": 0.834}, "report.value.recovery_two_part"),
        ({"model": "single", "any_recovery_share": 0.72, "any_recovery_degenerate": False}, "report.value.recovery_single"),
    ],
)
def test_report_says_how_recovery_was_modelled(tmp_path: Path, recovery: dict, key: str) -> None:
    loans = make_loans(50)
    record = make_record(loans)
    record["model"]["metrics"]["recovery"] = recovery
    path = write_report(tmp_path, loans, record, make_curve(), language="en")
    _, page = _parse(path)
    text = " ".join(" ".join(page.text).split())
    expected = translate(key, "en", share=format_percent(recovery["any_recovery_share"], "en"), auc="0.834")
    assert expected in text
