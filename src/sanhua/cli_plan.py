"""``sanhua plan``: re-plan a finished run with new monthly capacities (a thin Typer layer over :func:`sanhua.strategy.plan.plan_run`).

Wire it into the main CLI with ``app.add_typer(cli_plan.app, name="plan")``.
Messages go to stderr in the chosen language (``--lang``, ``SANHUA_LANG``,
default zh-CN) and the capacity and action tables to stdout. Bad input or
settings exit with code 2.
"""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from sanhua.errors import ConfigError, SanhuaError

__all__ = ["app", "parse_capacities"]

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Re-plan a finished run with new monthly capacities (officers, mediation, litigation, transfer, outsourcing).",
)

err = Console(stderr=True)


def parse_capacities(items: list[str]) -> dict[str, float]:
    """Parse ``NAME=NUMBER`` items into monthly capacities.

    Raises
    ------
    ConfigError
        An item is not ``NAME=NUMBER``, the number is negative or not finite,
        or the name is not a resource (the message names the item).
    """
    from sanhua.strategy.settings import RESOURCES

    capacities: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not sep or name not in RESOURCES or not math.isfinite(value) or value < 0:
            raise ConfigError(item)
        capacities[name] = value
    return capacities


def _t(key: str, language: str, **fields: object) -> str:
    from sanhua.report.i18n import translate

    return translate(key, language, **fields)


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for name in header:
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 240).print(table)


@app.callback(invoke_without_command=True, context_settings={"allow_interspersed_args": True})
def plan(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by `sanhua run` (it contains run.json, loans.parquet and, when present, values.parquet).")],
    capacity: Annotated[
        Optional[list[str]],
        typer.Option(
            "--capacity",
            "-c",
            help="Monthly capacity NAME=NUMBER, repeatable: officers (full-time officers), mediation (slots a month), "
            "litigation (CNY a month), transfer and outsourcing (CNY of EAD a month). Others keep their configured value.",
        ),
    ] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the plan files (default RUN_DIR/plan).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Settings file (TOML); its \\[strategy] section is used.")] = None,
    solver: Annotated[str, typer.Option("--solver", help="auto, highs, highs-lp, lagrangian or greedy.")] = "auto",
    lang: Annotated[Optional[str], typer.Option("--lang", help="Language of messages: zh-CN or en (default: SANHUA_LANG, else zh-CN).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log the solver's steps with timings.")] = False,
) -> None:
    """Re-plan RUN_DIR with new monthly capacities and write the plan files."""
    from sanhua.report.i18n import format_number, format_percent, resolve_language, translate_code
    from sanhua.strategy.settings import RESOURCES

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        language = resolve_language(lang)
    except ConfigError as exc:
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc

    try:
        capacities = parse_capacities(capacity or [])
    except ConfigError as exc:
        err.print(f"{_t('cli.error_prefix', language)}: {_t('plan.bad_capacity', language, value=str(exc), names=', '.join(RESOURCES))}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc

    try:
        from sanhua.config import load_settings
        from sanhua.strategy.optimize import OptimiserSettings
        from sanhua.strategy.plan import plan_run

        settings = load_settings(config).strategy
        try:
            optimiser = OptimiserSettings(solver=solver)
        except ValueError as exc:
            raise ConfigError(f"--solver {solver!r} is not a solver; use auto, highs, highs-lp, lagrangian or greedy.") from exc
        result = plan_run(run_dir, capacities, settings, optimiser=optimiser)
        target = out if out is not None else Path(run_dir) / "plan"
        result.write(target)
    except SanhuaError as exc:
        err.print(f"{_t('cli.error_prefix', language)}: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc

    unlimited = _t("plan.unlimited", language)
    rows = []
    for row in result.capacity.iter_rows(named=True):
        rows.append(
            [
                _t(f"plan.resource.{row['resource']}", language),
                unlimited if row["monthly_capacity"] is None else format_number(row["monthly_capacity"], language, 0),
                format_number(row["used_per_month"], language, 1),
                "" if row["share_used"] is None else format_percent(row["share_used"], language),
                format_number(row["shadow_price_per_month"], language, 2),
            ]
        )
    header = [_t(f"plan.col_{k}", language) for k in ("resource", "monthly_capacity", "used_per_month", "share_used", "shadow_price")]
    _table(_t("plan.capacity_title", language), header, rows)

    rows = [
        [translate_code("action", row["action"], language), str(row["loans"]), format_number(row["npv_cny"], language, 0), str(row["greedy_loans"])]
        for row in result.by_action.iter_rows(named=True)
    ]
    header = [_t(f"plan.col_{k}", language) for k in ("action", "loans", "npv", "greedy_loans")]
    _table(_t("plan.action_title", language), header, rows)

    summary = result.summary()
    err.print(
        _t(
            "plan.finished",
            language,
            loans=summary["loans"],
            out=target,
            objective=format_number(summary["objective_cny"], language, 0),
            gap=format_percent(summary["gap"], language, decimals=4),
            solver=summary["solver"],
            seconds=format_number(summary["seconds"], language, 2),
        ),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    err.print(_t("plan.greedy", language, greedy=format_number(summary["greedy_unconstrained_cny"], language, 0)), highlight=False, markup=False)
    for note in summary["notes"]:
        err.print(_t("plan.note", language, note=note), highlight=False, markup=False, soft_wrap=True)
