"""Command-line interface: a thin Typer layer over :mod:`sanhua.pipeline`.

Messages go to stderr in the chosen language (``--lang``, ``SANHUA_LANG``,
default zh-CN). A failure prints what failed and how to fix it, then exits
with code 2 for bad input or settings and 1 for anything else.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sanhua import __version__
from sanhua.cli_abs import app as abs_app
from sanhua.cli_plan import app as plan_app
from sanhua.errors import (
    CatalogueError,
    ConfigError,
    InputFileError,
    ModelError,
    NotFittedError,
    PrivacyError,
    ProfileError,
    SanhuaError,
)

# Tracebacks never show local variables: they may hold rows of a tape with personal data.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="sanhua (三化): disposal plans for personal non-performing loans.",
)
runs_app = typer.Typer(no_args_is_help=True, help="List and show recorded runs (catalogue at $SANHUA_HOME/catalogue.duckdb).")
app.add_typer(runs_app, name="runs")
models_app = typer.Typer(no_args_is_help=True, help="List, show and approve registered models (registry in $SANHUA_HOME/catalogue.duckdb).")
app.add_typer(models_app, name="models")
app.add_typer(abs_app, name="abs")
app.add_typer(plan_app, name="plan")

err = Console(stderr=True)
out = Console()

LangOption = Annotated[Optional[str], typer.Option("--lang", help="Language of messages and report: zh-CN or en (default: SANHUA_LANG, else zh-CN).")]
ProfileOption = Annotated[str, typer.Option("--profile", "-p", help="Mapping profile: a shipped name (cn-bank, lendingclub) or a TOML file path.")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="Settings file (TOML); see docs/configuration.md.")]
EncodingOption = Annotated[Optional[str], typer.Option("--encoding", help="Force the CSV encoding (utf-8, utf-8-sig, gbk, gb18030); detected when omitted.")]
WhereOption = Annotated[Optional[str], typer.Option("--where", help="DuckDB SQL condition on the source columns as read, e.g. \"issue_d < '2010-01-01'\".")]
AsOfOption = Annotated[Optional[str], typer.Option("--as-of", help="Cut-off date YYYY-MM-DD for every loan; otherwise the tape's or profile's per-loan date.")]

_ERROR_KEYS = {
    InputFileError: "cli.error_input_file",
    ProfileError: "cli.error_profile",
    ConfigError: "cli.error_config",
    PrivacyError: "cli.error_privacy",
    NotFittedError: "cli.error_not_fitted",
    ModelError: "cli.error_model",
    CatalogueError: "cli.error_catalogue",
}


def _language(value: str | None) -> str:
    from sanhua.report.i18n import resolve_language

    try:
        return resolve_language(value)
    except ConfigError as exc:
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc


def _t(key: str, language: str, **fields: object) -> str:
    from sanhua.report.i18n import translate

    return translate(key, language, **fields)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)


def _fail(exc: Exception, language: str) -> None:
    key = next((k for cls, k in _ERROR_KEYS.items() if isinstance(exc, cls)), None)
    if key is not None:
        err.print(f"[bold red]{_t('cli.error_prefix', language)}[/] ({_t(key, language)}): {exc}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(2)
    if isinstance(exc, SanhuaError):
        err.print(f"[bold red]{_t('cli.error_prefix', language)}[/]: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    raise exc


def _parse_date(value: str | None, language: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(ConfigError(f"--as-of {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2024-06-30"), language)
    return None


class _Stages:
    """Rich progress display with one step per pipeline stage."""

    def __init__(self, language: str, total: int) -> None:
        self.language = language
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=False
        )
        self.task = self.progress.add_task("", total=total)
        self.started = False

    def __enter__(self) -> "_Stages":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.update(self.task, completed=self.progress.tasks[0].total)
        self.progress.__exit__(*exc)

    def __call__(self, stage: str) -> None:
        from sanhua.report.i18n import has_message

        key = f"stage.{stage}"
        label = _t(key, self.language) if has_message(key, self.language) else stage
        if self.started:
            self.progress.advance(self.task)
        self.started = True
        self.progress.update(self.task, description=label)


def _print_table(frame) -> None:
    table = Table(show_lines=False)
    for column in frame.columns:
        table.add_column(column, no_wrap=True)
    for row in frame.iter_rows():
        table.add_row(*["" if v is None else str(v) for v in row])
    # Piped output (scripts, tests) gets full-width rows instead of truncated cells.
    Console(width=None if sys.stdout.isatty() else 240).print(table)


def _settings(config: Path | None):
    from sanhua.config import load_settings

    return load_settings(config)


@app.command()
def fit(
    history: Annotated[Path, typer.Argument(help="History: a loans file, or a folder of canonical tables with outcomes.")],
    profile: ProfileOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    config: ConfigOption = None,
    encoding: EncodingOption = None,
    where: WhereOption = None,
    as_of: AsOfOption = None,
    lang: LangOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage with counts and timings.")] = False,
) -> None:
    """Fit the willingness, ability and recovery models on a history."""
    _setup_logging(verbose)
    language = _language(lang)
    try:
        from sanhua import pipeline

        from sanhua.governance.registry import Registry

        settings = _settings(config)
        with _Stages(language, total=4) as stages:
            result = pipeline.fit(
                history, profile, out=out, settings=settings, encoding=encoding, where=where, as_of=_parse_date(as_of, language),
                registry=Registry(), on_stage=stages,
            )
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    counts = result.tape.counts.get("loans", {})
    refusals = result.record.get("external_refusals", {})
    if refusals.get("records_refused"):
        err.print(_t("cli.refusals", language, records=refusals["records_refused"], debtors=refusals["debtors_affected"]))
    err.print(
        _t(
            "cli.fit_finished",
            language,
            model_version=result.assessor.version_,
            loans=result.assessor.metrics_["n_training_loans"],
            seconds=f"{sum(result.record['stage_seconds'].values()):.1f}",
            model_dir=result.model_dir,
        )
    )
    err.print(
        _t(
            "cli.summary",
            language,
            input_rows=counts.get("input_rows", 0),
            scored=counts.get("loaded", 0),
            quarantined=counts.get("quarantined", 0),
            excluded=sum(counts.get("excluded", {}).values()),
        )
    )


def _run_and_report(language: str, **kwargs) -> None:
    from sanhua import pipeline
    from sanhua.governance.catalogue import Catalogue
    from sanhua.governance.registry import Registry

    with _Stages(language, total=12 if kwargs.get("history") is not None else 8) as stages:
        registry = Registry() if kwargs.get("history") is not None else None
        result = pipeline.run(catalogue=Catalogue(), registry=registry, language=language, on_stage=stages, **kwargs)
    counts = result.record["counts"]
    err.print(_t("cli.summary", language, **{k: counts[k] for k in ("input_rows", "scored", "quarantined", "excluded")}))
    err.print(_t("cli.run_finished", language, run_id=result.record["run_id"], seconds=f"{result.record['duration_s']:.1f}", run_dir=result.run_dir))
    err.print(_t("cli.report_written", language, path=result.run_dir / "report.html"))


@app.command()
def run(
    tape: Annotated[Path, typer.Argument(help="Tape: a loans file, or a folder of canonical tables.")],
    profile: ProfileOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder to write.")],
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="Model folder written by `sanhua fit`.")] = None,
    history: Annotated[Optional[Path], typer.Option("--history", help="History to fit on first (instead of --model).")] = None,
    history_where: Annotated[Optional[str], typer.Option("--history-where", help="DuckDB SQL condition selecting the history's rows (with --history).")] = None,
    config: ConfigOption = None,
    encoding: EncodingOption = None,
    where: WhereOption = None,
    as_of: AsOfOption = None,
    lang: LangOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage with counts and timings.")] = False,
) -> None:
    """Score, segment and value a tape; write loans.parquet, quarantine.csv, run.json and report.html."""
    _setup_logging(verbose)
    language = _language(lang)
    if (model is None) == (history is None):
        _fail(ConfigError("give exactly one of --model MODEL_DIR and --history HISTORY"), language)
    try:
        _run_and_report(
            language,
            tape_path=tape,
            profile=profile,
            out=out,
            model_dir=model,
            history=history,
            history_where=history_where,
            settings=_settings(config),
            encoding=encoding,
            where=where,
            as_of=_parse_date(as_of, language),
        )
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)


def _demo_realised(latent: Path) -> "pl.DataFrame":
    """Return the generator's recoveries after the tape's cut-off, for the demo's backtest."""
    import polars as pl

    return pl.read_parquet(latent, columns=["loan_id", "book", "future_recovery"]).filter(pl.col("book") == "tape").select(
        "loan_id", pl.col("future_recovery").alias("recovered")
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo data (DIR/data) and run (DIR/run).")] = Path("demo-output"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated portfolio.")] = 20261204,
    lang: LangOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage with counts and timings.")] = False,
) -> None:
    """Generate a demo portfolio in cn-bank format (GBK), fit on its history and run on its tape."""
    _setup_logging(verbose)
    language = _language(lang)
    try:
        from sanhua import pipeline
        from sanhua.demo import DEMO_CAPACITIES, DemoSettings, write_demo
        from sanhua.governance.catalogue import Catalogue
        from sanhua.governance.registry import Registry

        if not os.environ.get("SANHUA_PSEUDONYM_KEY"):
            err.print(f"[yellow]{_t('cli.warning_prefix', language)}[/]: {_t('cli.demo_key', language)}")
        paths = write_demo(out, DemoSettings(seed=seed))
        settings = _settings(None)
        strategy = settings.strategy.model_copy(update={"capacity": settings.strategy.capacity.with_capacities(DEMO_CAPACITIES)})
        settings = settings.model_copy(update={"strategy": strategy})
        with _Stages(language, total=4) as stages:
            pipeline.fit(paths.history, "cn-bank", out=out / "model", settings=settings, demo=True, registry=Registry(), on_stage=stages)
        with _Stages(language, total=8) as stages:
            result = pipeline.run(
                paths.tape, "cn-bank", out=out / "run", model_dir=out / "model", settings=settings, demo=True,
                command="demo", language=language, catalogue=Catalogue(), on_stage=stages, realised=_demo_realised(paths.latent),
            )
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    counts = result.record["counts"]
    err.print(_t("cli.summary", language, **{k: counts[k] for k in ("input_rows", "scored", "quarantined", "excluded")}))
    err.print(_t("cli.demo_finished", language, path=result.run_dir / "report.html"))


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option("--limit", help="Number of runs to show, newest first.")] = 20,
    lang: LangOption = None,
) -> None:
    """List recorded runs, newest first."""
    language = _language(lang)
    try:
        from sanhua.governance.catalogue import Catalogue

        catalogue = Catalogue()
        frame = catalogue.list(limit=limit)
    except Exception as exc:  # noqa: BLE001
        _fail(exc, language)
        return
    if frame.height == 0:
        err.print(_t("cli.no_runs", language, path=catalogue.path))
        return
    columns = [c for c in ("run_id", "started_at", "command", "profile", "input_rows", "scored", "quarantined", "excluded", "model_version") if c in frame.columns]
    _print_table(frame.select(columns))


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix of it.")],
    lang: LangOption = None,
) -> None:
    """Print the run record (run.json) of one run."""
    language = _language(lang)
    try:
        from sanhua.governance.catalogue import Catalogue

        record = Catalogue().show(run_id)
    except Exception as exc:  # noqa: BLE001
        _fail(exc, language)
        return
    out.print_json(json.dumps(record, ensure_ascii=False, default=str))


@models_app.command("list")
def models_list(
    status: Annotated[Optional[str], typer.Option("--status", help="Only models with this status: draft, validated, approved or retired.")] = None,
    lang: LangOption = None,
) -> None:
    """List registered models, newest registration first."""
    language = _language(lang)
    try:
        from sanhua.governance.registry import Registry

        registry = Registry()
        frame = registry.list(status=status)
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    if frame.height == 0:
        err.print(_t("models.no_models", language, path=registry.path))
        return
    _print_table(frame)


@models_app.command("show")
def models_show(
    version: Annotated[str, typer.Argument(help="Model version or a unique prefix of it.")],
    lang: LangOption = None,
) -> None:
    """Print a model's registry record: data hash, features, settings, metrics, fairness, status and audit trail."""
    language = _language(lang)
    try:
        from sanhua.governance.registry import Registry

        record = Registry().show(version)
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    if record["files"] != "unchanged":
        err.print(
            f"[yellow]{_t('cli.warning_prefix', language)}[/]: "
            + _t("models.files_changed", language, version=record["version"], model_dir=record["model_dir"], state=record["files"]),
            highlight=False,
        )
    out.print_json(json.dumps(record, ensure_ascii=False, default=str))


@models_app.command("approve")
def models_approve(
    version: Annotated[str, typer.Argument(help="Model version or a unique prefix of it.")],
    by: Annotated[str, typer.Option("--by", help="Name of the person making the change (recorded in the audit trail).")],
    status: Annotated[str, typer.Option("--status", help="New status: validated, approved or retired. Lifecycle: draft -> validated -> approved; any -> retired.")] = "approved",
    note: Annotated[Optional[str], typer.Option("--note", help="Text recorded with the change.")] = None,
    lang: LangOption = None,
) -> None:
    """Change a model's approval status and record who did it."""
    language = _language(lang)
    try:
        from sanhua.governance.registry import Registry

        record = Registry().set_status(version, status, by=by, note=note)
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    change = record["history"][-1]
    err.print(_t("models.status_changed", language, version=record["version"], from_status=change["from_status"], to_status=change["to_status"], by=change["changed_by"]))


@app.command()
def monitor(
    model: Annotated[Path, typer.Option("--model", "-m", help="Model folder written by `sanhua fit`.")],
    tape: Annotated[Path, typer.Option("--tape", "-t", help="Tape to monitor: a loans file or a folder of canonical tables (with outcomes, AUC and KS decay too).")],
    profile: ProfileOption,
    config: ConfigOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for monitor.json and monitor.html.")] = Path("monitor-output"),
    encoding: EncodingOption = None,
    where: WhereOption = None,
    as_of: AsOfOption = None,
    lang: LangOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage with counts and timings.")] = False,
) -> None:
    """Report PSI per feature and score, AUC/KS decay and calibration drift of a model on a tape, with a recommendation."""
    _setup_logging(verbose)
    language = _language(lang)
    try:
        from sanhua.governance.monitor import monitor as run_monitor
        from sanhua.governance.monitor_report import reason_text

        result = run_monitor(model, tape, profile, settings=_settings(config), out=out, encoding=encoding, where=where, as_of=_parse_date(as_of, language), language=language)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    table = Table(show_lines=False)
    for key in ("variable", "kind", "psi", "level"):
        table.add_column(_t(f"monitor.col_{key}", language), no_wrap=True)
    for row in result.stability.iter_rows(named=True):
        table.add_row(row["variable"], _t(f"monitor.kind.{row['kind']}", language), f"{row['psi']:.4f}", _t(f"monitor.level.{row['level']}", language))
    Console(width=None if sys.stdout.isatty() else 240).print(table)
    if result.performance.height:
        perf = Table(show_lines=False)
        for key in ("model", "auc", "baseline_auc", "auc_drop", "ks", "baseline_ks", "level"):
            perf.add_column(_t(f"monitor.col_{key}", language), no_wrap=True)
        for row in result.performance.iter_rows(named=True):
            cells = ["" if row[k] is None else f"{row[k]:.4f}" for k in ("auc", "baseline_auc", "auc_drop", "ks", "baseline_ks")]
            perf.add_row(row["model"], *cells, _t(f"monitor.level.{row['level']}", language))
        Console(width=None if sys.stdout.isatty() else 240).print(perf)
    for reason in result.reasons:
        err.print(f"- {reason_text(reason, language)}", highlight=False)
    err.print(
        _t("monitor.finished", language, recommendation=_t(f"monitor.level.{result.recommendation}", language), json=out / "monitor.json", html=out / "monitor.html"),
        highlight=False,
    )


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="Run folder written by `sanhua run`.")],
    loan_id: Annotated[str, typer.Argument(help="The bank's loan id as in loans.parquet.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the record as JSON to this file.")] = None,
    lang: LangOption = None,
) -> None:
    """Print the explanation record of one debtor's assessment (PIPL art. 24)."""
    language = _language(lang)
    try:
        from sanhua.assess.explain import explain_loan, explanation_text

        record = explain_loan(run_dir, loan_id)
        if out is not None:
            out.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - mapped to a message and exit code
        _fail(exc, language)
        return
    Console(width=None if sys.stdout.isatty() else 200).print(explanation_text(record, language), highlight=False, markup=False)


@app.command()
def version() -> None:
    """Print the sanhua version."""
    out.print(__version__)


if __name__ == "__main__":
    app()
