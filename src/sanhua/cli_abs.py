"""``sanhua abs``: run, stress and size an ABS deal file; a thin Typer layer over :mod:`sanhua.securitize`.

Messages go to stderr in the chosen language (``--lang``, ``SANHUA_LANG``, default zh-CN). A
failure prints what failed and how to fix it and exits with code 2.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from sanhua.errors import ConfigError, SanhuaError

__all__ = ["app", "parse_grid", "parse_target"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="ABS deals: run the waterfall, stress it and size the senior class (deal files: docs/securitization.md).",
)

err = Console(stderr=True)

LangOption = Annotated[Optional[str], typer.Option("--lang", help="Language of messages and report: zh-CN or en (default: SANHUA_LANG, else zh-CN).")]
DealArgument = Annotated[Path, typer.Argument(help="Deal file (TOML).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")]


def _language(value: str | None) -> str:
    from sanhua.report.i18n import resolve_language

    try:
        return resolve_language(value)
    except ConfigError as exc:
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc


def _say(key: str, language: str, **fields: object) -> None:
    from sanhua.report.i18n import translate

    err.print(translate(f"abs.cli.{key}", language, **fields), highlight=False, markup=False, soft_wrap=True)


def _fail(exc: Exception, language: str) -> None:
    from sanhua.report.i18n import translate

    if isinstance(exc, SanhuaError):
        err.print(f"{translate('abs.cli.error_prefix', language)}: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2)
    raise exc


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def parse_grid(text: str, language: str = "en") -> dict[str, list[float]]:
    """Parse ``NAME=V1,V2;NAME=V1,...`` into grid axes.

    Raises
    ------
    ConfigError
        The text is not of that form or names an unknown parameter.
    """
    from sanhua.report.i18n import translate
    from sanhua.securitize.scenarios import PARAMETERS

    names = ", ".join(p for p in PARAMETERS if p != "senior_share")
    axes: dict[str, list[float]] = {}
    try:
        for part in filter(None, (piece.strip() for piece in text.split(";"))):
            name, _, values = part.partition("=")
            name = name.strip()
            if name not in PARAMETERS or name == "senior_share" or not values.strip():
                raise ValueError(name)
            axes[name] = [float(value) for value in values.split(",") if value.strip()]
    except ValueError:
        raise ConfigError(translate("abs.cli.bad_grid", language, value=text, names=names)) from None
    if not axes or any(not values for values in axes.values()):
        raise ConfigError(translate("abs.cli.bad_grid", language, value=text, names=names))
    return axes


def parse_target(text: str, language: str = "en") -> dict[str, float]:
    """Parse ``NAME=VALUE,NAME=VALUE`` into one stress point.

    Raises
    ------
    ConfigError
        The text is not of that form or names an unknown parameter.
    """
    from sanhua.report.i18n import translate
    from sanhua.securitize.scenarios import PARAMETERS

    names = ", ".join(p for p in PARAMETERS if p != "senior_share")
    point: dict[str, float] = {}
    try:
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in PARAMETERS or name == "senior_share":
                raise ValueError(name)
            point[name] = float(value)
    except ValueError:
        raise ConfigError(translate("abs.cli.bad_target", language, value=text, names=names)) from None
    if not point:
        raise ConfigError(translate("abs.cli.bad_target", language, value=text, names=names))
    return point


@app.command("run")
def run_command(
    deal_file: DealArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the deal report (deal_report.html, summary.xlsx, deal.json).")] = Path("abs-report"),
    target: Annotated[Optional[str], typer.Option("--target", help="Also size the senior class against this stress, e.g. recovery_haircut=0.25,delay_months=3.")] = None,
    lang: LangOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run the base case and the standard stresses of DEAL and write the deal report."""
    language = _language(lang)
    _setup_logging(verbose)
    try:
        from sanhua.securitize import Scenarios, load_deal
        from sanhua.securitize.analysis import analyse_deal
        from sanhua.securitize.report import write_deal_report

        deal = load_deal(deal_file)
        target_stress = Scenarios.from_values(1, **parse_target(target, language)) if target else None
        started = time.perf_counter()
        analysis = analyse_deal(deal, target=target_stress)
        seconds = time.perf_counter() - started
        path = write_deal_report(analysis, out, language)
    except SanhuaError as exc:
        _fail(exc, language)
        return

    from sanhua.report.i18n import format_seconds

    _say("run_done", language, name=deal.name, scenarios=1, periods=analysis.base.periods, seconds=format_seconds(seconds, language))
    _say("wrote", language, path=path)


@app.command("stress")
def stress_command(
    deal_file: DealArgument,
    grid: Annotated[str, typer.Option("--grid", help="Grid axes NAME=V1,V2;NAME=... e.g. recovery_haircut=0,0.2,0.4;delay_months=0,6.")],
    paths: Annotated[int, typer.Option("--paths", help="Random scenarios per grid point (0: one deterministic scenario per point).", min=0)] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random scenarios.")] = 20261204,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file of the results, one row per point and class.")] = Path("abs-stress.csv"),
    lang: LangOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run DEAL over a stress grid and write one row per grid point and class."""
    language = _language(lang)
    _setup_logging(verbose)
    try:
        from sanhua.securitize import load_deal
        from sanhua.securitize.stress import monte_carlo_grid, stress_grid

        deal = load_deal(deal_file)
        axes = parse_grid(grid, language)
        table = monte_carlo_grid(deal, axes, paths, seed) if paths > 0 else stress_grid(deal, axes)
        try:
            table.write_csv(out)
        except OSError as error:
            raise ConfigError(f"Cannot write {out}: {error.strerror or error}. Choose a writable path with --out.") from None
    except SanhuaError as exc:
        _fail(exc, language)
        return

    points = 1
    for values in axes.values():
        points *= len(values)
    _say("stress_done", language, points=points, path=out)


@app.command("size")
def size_command(
    deal_file: DealArgument,
    target: Annotated[str, typer.Option("--target", help="Target stress NAME=VALUE,... e.g. recovery_haircut=0.25,delay_months=3.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the deal report of the sized deal into this folder.")] = None,
    lang: LangOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Find the largest senior share of DEAL's issue that survives the target stress with full and timely interest."""
    language = _language(lang)
    _setup_logging(verbose)
    try:
        from sanhua.report.i18n import format_money, format_percent
        from sanhua.securitize import Scenarios, load_deal
        from sanhua.securitize.analysis import analyse_deal
        from sanhua.securitize.report import write_deal_report
        from sanhua.securitize.sizing import size_senior

        deal = load_deal(deal_file)
        stress = Scenarios.from_values(1, **parse_target(target, language))
        sizing = size_senior(deal, stress)
        _say(
            "sized",
            language,
            sized=format_percent(sizing.senior_share, language, decimals=2),
            actual=format_percent(sizing.actual_share, language, decimals=2),
            senior=format_money(sizing.senior_balance, deal.currency, language, decimals=0),
            subordinated=format_money(sizing.subordinated_balance, deal.currency, language, decimals=0),
        )
        if out is not None:
            path = write_deal_report(analyse_deal(deal, target=stress), out, language)
            _say("wrote", language, path=path)
    except SanhuaError as exc:
        _fail(exc, language)
