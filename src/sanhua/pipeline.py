"""The main job as one sequence of stage calls, with its run record.

``fit`` reads a history and writes a model folder; ``run`` reads a tape,
scores, segments and values every loan and writes the run folder:

- ``loans.parquet``: one row per loan (columns in
  :data:`sanhua.tape.schema.OUTPUT_COLUMNS`, plus ``exposure_at_default``,
  ``product``, ``hardship``, ``lost_contact``, ``segment_rule``,
  ``expected_recovery_rate``);
- ``quarantine.csv``: every rejected input row with its reason;
- ``run.json``: configuration, input hashes, model version, row counts,
  assumptions, metrics and, when the tape carries outcomes, the backtest;
- ``report.html``: the bilingual report.

The CLI, the demo and the benchmarks call these functions; none of them
re-implements a step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from sanhua import __version__
from sanhua.assess import Assessor, backtest
from sanhua.assess.fairness import audit_tape
from sanhua.config import Settings
from sanhua.errors import ConfigError, InputFileError, ModelError, SanhuaError
from sanhua.features import build_features
from sanhua.governance.monitor import BASELINE_KEY, SCORES, build_baseline
from sanhua.governance.registry import Registry
from sanhua.securitize.pool import schedule_collections
from sanhua.securitize.proposal import build_abs_proposal
from sanhua.segment.rules import Segmenter
from sanhua.strategy import ActionValuer, PlanResult, plan_actions, write_values
from sanhua.strategy.hardship import HardshipProgramme, HardshipResult
from sanhua.strategy.valuer import ActionResult
from sanhua.tape.load import Tape, load_tape, write_quarantine
from sanhua.tape.privacy import Pseudonymiser
from sanhua.tape.profile import Profile, load_profile
from sanhua.value.curves import RecoveryCurve
from sanhua.value.segments import SegmentedCurves
from sanhua.value.settings import CurveModelSettings
from sanhua.value.backtest import error_summary, package_backtest
from sanhua.value.valuer import ValuationResult, Valuer

logger = logging.getLogger(__name__)

CURVE_FILE = "curve.json"
PACKAGES_FILE = "packages.csv"
ABS_DIR = "abs"
RELIEF_FILE = "relief_offers.csv"
StageCallback = Callable[[str], None]


@dataclass
class FitResult:
    """Outcome of :func:`fit`."""

    assessor: Assessor
    curve: RecoveryCurve
    model_dir: Path
    tape: Tape
    record: dict


@dataclass
class RunResult:
    """Outcome of :func:`run`."""

    run_dir: Path
    loans: pl.DataFrame
    record: dict
    quarantine: pl.DataFrame
    extra: dict = field(default_factory=dict)


class _Clock:
    """Stage timer that also reports stage starts to a callback (progress bars)."""

    def __init__(self, callback: StageCallback | None) -> None:
        self.callback = callback
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._start = 0.0

    def stage(self, name: str) -> None:
        self.stop()
        self._stage = name
        self._start = time.perf_counter()
        if self.callback is not None:
            self.callback(name)

    def stop(self) -> None:
        if self._stage is not None:
            self.seconds[self._stage] = round(self.seconds.get(self._stage, 0.0) + time.perf_counter() - self._start, 3)
            self._stage = None


def _require_path(path: str | Path, role: str, fix: str) -> None:
    if not Path(path).exists():
        raise InputFileError(f"{role} {path} not found; {fix}")


def _profile(profile: Profile | str | Path) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def _pseudonymiser(settings: Settings, demo: bool) -> Pseudonymiser:
    key = settings.privacy.pseudonym_key.get_secret_value() if settings.privacy.pseudonym_key is not None else None
    pseudonymiser = Pseudonymiser.from_environment(config_key=key, demo=demo)
    pseudonymiser.masking = settings.privacy.masking
    return pseudonymiser


def _assess_settings(settings: Settings, profile: Profile):
    """Apply the profile's target definitions unless the configuration sets them explicitly."""
    explicit = settings.assess.targets.model_fields_set
    overrides = {k: v for k, v in profile.targets.items() if k not in explicit}
    if not overrides:
        return settings.assess
    targets = settings.assess.targets.model_validate({**settings.assess.targets.model_dump(), **overrides})
    return settings.assess.model_copy(update={"targets": targets})


def _training_hash(tape: Tape, where: str | None, profile: Profile) -> str:
    digest = hashlib.sha256()
    for item in sorted(tape.inputs, key=lambda i: str(i.get("path"))):
        digest.update(str(item.get("sha256")).encode())
    digest.update((where or "").encode())
    digest.update(profile.sha256.encode())
    return digest.hexdigest()


def _curve_for(tape: Tape, settings: Settings) -> RecoveryCurve:
    """Fit the empirical recovery curve where the history has monthly outcomes, else the configured one."""
    outcomes = tape.table("outcomes")
    if outcomes is not None and outcomes.filter(pl.col("month").is_not_null()).height > 0 and "default_date" in tape.loans.columns:
        return RecoveryCurve(max_month=settings.curve.max_month).fit(outcomes, tape.loans)
    logger.info("the history has no monthly recoveries: the configured recovery curve is used and recorded as an assumption")
    return RecoveryCurve.configured(settings.curve)


def _curve_payload(curve: RecoveryCurve) -> dict:
    """Return the curve table, its confidence bands and its assumptions as JSON-ready data."""
    return {"curve": curve.curve_.to_dicts(), "bands": curve.bands_.to_dicts(), "assumptions": curve.assumptions()}


def _curve_from_payload(payload: dict) -> RecoveryCurve:
    """Rebuild a curve written by :func:`_curve_payload`, with its bands when the payload has them."""
    curve = RecoveryCurve.from_table(pl.DataFrame(payload["curve"]), assumptions=payload.get("assumptions", []))
    if payload.get("bands"):
        curve.bands_ = pl.DataFrame(payload["bands"])
    return curve


def _segment_curves_for(tape: Tape, settings: Settings) -> SegmentedCurves | None:
    """Fit the recovery curves by segment where the history has monthly outcomes, else return None."""
    outcomes = tape.table("outcomes")
    if outcomes is None or outcomes.filter(pl.col("month").is_not_null()).height == 0 or "default_date" not in tape.loans.columns:
        return None
    return SegmentedCurves(settings.valuation.curves).fit(outcomes, tape.loans)


def _save_curve(curve: RecoveryCurve, model_dir: Path, segments: SegmentedCurves | None = None) -> None:
    payload = _curve_payload(curve)
    if segments is not None:
        payload["segments"] = {
            "settings": segments.settings.model_dump(mode="json") if segments.settings is not None else None,
            "curves": {key: _curve_payload(item) for key, item in segments.curves_.items()},
            "fallbacks": segments.fallbacks_.to_dicts(),
        }
    (model_dir / CURVE_FILE).write_text(json.dumps(payload, ensure_ascii=False, default=str, allow_nan=False), encoding="utf-8")


def _read_curve_file(model_dir: Path) -> dict:
    path = model_dir / CURVE_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing from the model folder; refit with `sanhua fit`.")
    return json.loads(path.read_text(encoding="utf-8"))


def _load_curve(model_dir: Path) -> RecoveryCurve:
    return _curve_from_payload(_read_curve_file(model_dir))


def _load_segment_curves(model_dir: Path) -> SegmentedCurves | None:
    """Return the segment curves saved with the model, or None for a model fit without monthly outcomes."""
    saved = _read_curve_file(model_dir).get("segments")
    if not saved:
        return None
    segments = SegmentedCurves(CurveModelSettings.model_validate(saved["settings"]) if saved.get("settings") else None)
    segments.curves_ = {key: _curve_from_payload(item) for key, item in saved["curves"].items()}
    segments.fallbacks_ = pl.DataFrame(
        saved["fallbacks"], schema={"segment": pl.Utf8, "level": pl.Int32, "loans": pl.Int64, "curve": pl.Utf8, "reason": pl.Utf8}
    )
    return segments


def fit(
    history: str | Path,
    profile: Profile | str | Path,
    *,
    out: str | Path,
    settings: Settings | None = None,
    encoding: str | None = None,
    where: str | None = None,
    as_of: date | None = None,
    demo: bool = False,
    registry: Registry | None = None,
    on_stage: StageCallback | None = None,
) -> FitResult:
    """Fit the assessment models and the recovery curve on a history and save them to ``out``.

    The bundle also stores the monitoring baseline (the binned features and
    scores of the history, see :mod:`sanhua.governance.monitor`). With a
    ``registry``, the model is registered there as a draft. A fit that would
    replace a validated or approved model is rejected before anything is written.
    """
    _require_path(history, "history", "give a loans file or a folder of canonical tables with outcomes")
    settings = settings or Settings()
    profile = _profile(profile)
    clock = _Clock(on_stage)

    clock.stage("tape")
    tape = load_tape(history, profile, pseudonymiser=_pseudonymiser(settings, demo), encoding=encoding, where=where, as_of=as_of)

    clock.stage("features")
    features = build_features(tape)

    clock.stage("fit")
    training_sha256 = _training_hash(tape, where, profile)
    curve = _curve_for(tape, settings)
    # An empirical curve develops the observed recoveries of the history to ultimate for the recovery target.
    share = curve.curve_["cumulative"].to_numpy() if curve.curve_["source"][0] == "empirical" else None
    assessor = Assessor(_assess_settings(settings, profile)).fit(
        features, tape.loans, tape.table("outcomes"), training_sha256=training_sha256, cumulative_share=share
    )

    clock.stage("save")
    model_dir = Path(out)
    if registry is not None:
        registry.check_registrable(assessor.version_, model_dir)
    record = {
        "profile": {"name": profile.name, "sha256": profile.sha256},
        "history": {"path": str(history), "where": where, "inputs": tape.inputs, "counts": tape.counts},
        "feature_groups": features.groups,
        # External records left out because their legal basis does not allow their use.
        "external_refusals": features.refusals,
    }
    scores = assessor.predict(features).select("loan_id", *SCORES)
    baseline = build_baseline(features, scores, {name: enc.features for name, enc in assessor.encoders_.items()}, n_bins=settings.monitor.bins)
    assessor.save(model_dir, extra={"fit": record, BASELINE_KEY: baseline})
    _save_curve(curve, model_dir, _segment_curves_for(tape, settings))
    if registry is not None:
        registry.register(model_dir)
    clock.stop()
    record["stage_seconds"] = clock.seconds
    logger.info("model %s written to %s", assessor.version_, model_dir)
    return FitResult(assessor=assessor, curve=curve, model_dir=model_dir, tape=tape, record=record)


def _new_run_id(started_at: datetime) -> str:
    return started_at.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _counts(tape: Tape) -> dict:
    loans = tape.counts.get("loans", {})
    excluded = loans.get("excluded", {})
    quarantine = tape.quarantine
    by_reason: dict[str, int] = {}
    if quarantine.height:
        # Rows of the loans file: in a single-file tape these include borrower-column failures.
        loans_files = {Path(str(item.get("path"))).name for item in tape.inputs if item.get("table") == "loans"}
        per_row = quarantine.filter(pl.col("file").is_in(list(loans_files))).unique(subset=["file", "row"], keep="first")
        by_reason = dict(per_row.group_by("reason").len().iter_rows())
    return {
        "input_rows": int(loans.get("input_rows", tape.loans.height)),
        "scored": int(tape.loans.height),
        "quarantined": int(loans.get("quarantined", 0)),
        "excluded": int(sum(excluded.values())),
        "excluded_by_reason": {k: int(v) for k, v in excluded.items()},
        "quarantined_by_reason": {str(k): int(v) for k, v in by_reason.items()},
        "tables": tape.counts,
    }


def _latest_as_of(tape: Tape, as_of: date | None) -> str | None:
    if as_of is not None:
        return as_of.isoformat()
    if tape.loans.height == 0 or "as_of_date" not in tape.loans.columns:
        return None
    latest = tape.loans["as_of_date"].max()
    return latest.isoformat() if latest is not None else None


def score_tape(
    tape: Tape, assessor: Assessor, curve: RecoveryCurve, settings: Settings
) -> tuple[pl.DataFrame, ActionResult, dict, HardshipResult]:
    """Score, segment and value every loan of a loaded tape.

    Returns the output frame, the action result (best action per loan), the
    feature refusals and the hardship relief programme's flags and offers.
    """
    features = build_features(tape)
    _check_model_format(assessor, tape, features)
    scores = assessor.predict(features)

    loans = tape.loans
    wanted = [
        c
        for c in (
            "loan_id", "currency", "product", "exposure_at_default", "principal_outstanding", "interest_outstanding",
            "dpd", "default_date", "as_of_date", "written_off", "collateral", "litigation_status", "notarised", "interest_rate",
        )
        if c in loans.columns
    ]
    frame = loans.select(wanted).join(scores, on="loan_id", how="left").join(features.flags, on="loan_id", how="left")
    frame = frame.join(_borrower_columns(tape), on="loan_id", how="left")

    # The relief programme's rules (events, vulnerability, lapsed insurance, income collapse) widen the hardship flag.
    strategy = settings.strategy
    hardship = HardshipProgramme(strategy.hardship, strategy.restructure, strategy.discount_rate).run(frame)
    frame = frame.join(hardship.flags.select("loan_id", pl.col("hardship").alias("_relief")), on="loan_id", how="left").with_columns(
        (pl.col("hardship").fill_null(False) | pl.col("_relief").fill_null(False)).alias("hardship")
    ).drop("_relief")
    frame = Segmenter(settings.segment).run(frame)
    actions = ActionValuer(settings.strategy).run(frame, curve)
    frame = frame.join(actions.chosen, on="loan_id", how="left")
    frame = frame.with_columns(
        (pl.col("expected_recovery_rate") * pl.col("exposure_at_default")).alias("expected_recovery"),
    )
    if "expected_recovery_rate_low" in frame.columns:
        frame = frame.with_columns(
            (pl.col("expected_recovery_rate_low") * pl.col("exposure_at_default")).alias("expected_recovery_low"),
            (pl.col("expected_recovery_rate_high") * pl.col("exposure_at_default")).alias("expected_recovery_high"),
        )
    return frame, actions, features.refusals, hardship


# Largest share of a model's features a tape of another profile may lack before the model is refused.
_MAX_ABSENT_SHARE = 0.5


def _check_model_format(assessor: Assessor, tape: Tape, features) -> None:
    """Refuse a model fit on another profile when the tape lacks most of its features.

    A tape of the model's own profile may lack whole tables (a single loans
    file scored by a model fit on a full history): its absent features are
    treated as missing and listed in run.json. A tape of another profile that
    lacks more than half of a model's features was almost certainly exported
    in another format, and its scores would mean little.
    """
    trained = ((getattr(assessor, "bundle_", None) or {}).get("fit") or {}).get("profile", {}).get("name")
    profile = getattr(getattr(tape, "profile", None), "name", None)
    if trained is None or profile is None or trained == profile:
        return
    shares = assessor.absent_shares(features.frame.columns)
    worst = max(shares, key=shares.get)
    if shares[worst] > _MAX_ABSENT_SHARE:
        raise ModelError(
            f"the model was fit on profile {trained!r} and this tape uses {profile!r}: {shares[worst]:.0%} of the {worst} "
            f"model's features are absent from it. Fit a model on a history in the {profile!r} format "
            f"(`sanhua fit HISTORY --profile {profile} --out MODEL_DIR`) and run with it."
        )
    logger.warning("the model was fit on profile %r and this tape uses %r; features absent from the tape are treated as missing", trained, profile)


def _borrower_columns(tape: Tape) -> pl.DataFrame:
    """Return, per loan, the debtor's annual income and age, which the restructuring and policy rules read."""
    loans, borrowers = tape.loans, tape.table("borrowers")
    columns = [c for c in ("income_annual", "age") if borrowers is not None and c in borrowers.columns]
    if not columns or "borrower_id_hash" not in loans.columns or "borrower_id_hash" not in borrowers.columns:
        return loans.select("loan_id")
    return loans.select("loan_id", "borrower_id_hash").join(
        borrowers.select("borrower_id_hash", *columns).unique("borrower_id_hash"), on="borrower_id_hash", how="left"
    ).drop("borrower_id_hash")


def _group_backtest(data: pl.DataFrame, tape: Tape) -> dict:
    """Compare predicted and realised recovery by group of loans, as a bidder would see packages.

    Groups are the origination quarter and the grade where the tape has them
    (LendingClub: issue quarter x grade), else the product.
    """
    loans = tape.loans
    keys = []
    if "origination_date" in loans.columns:
        keys.append(pl.col("origination_date").dt.year().cast(pl.Utf8) + pl.lit("Q") + pl.col("origination_date").dt.quarter().cast(pl.Utf8))
    if "grade" in loans.columns:
        keys.append(pl.col("grade").cast(pl.Utf8).fill_null("?"))
    if not keys and "product" in loans.columns:
        keys.append(pl.col("product").cast(pl.Utf8).fill_null("?"))
    if not keys:
        return {}
    group = pl.concat_str(keys, separator=" / ").fill_null("?").alias("group")
    frame = data.join(loans.select("loan_id", group), on="loan_id", how="left").with_columns(
        pl.col("recovered").alias("realised_recovery"), pl.col("expected_recovery_rate").clip(lower_bound=0.0)
    )
    table = package_backtest(frame, ["group"])
    return {"by": "origination quarter / grade" if "grade" in loans.columns else "product", "groups": table.to_dicts(), **error_summary(table)}


def _offer_only_sold_packages(frame: pl.DataFrame, valuation: ValuationResult) -> pl.DataFrame:
    """Return the frame with the transfer price the plan may use: the allocated bid of a package to sell, else 0.

    A loan is sold only in a package, and a package is sold whole or not at
    all. So the loans of packages the valuation decided to hold, and loans in
    no package, get a price of 0: the plan never transfers them at a price no
    bidder was asked for. ``transfer_price`` in ``loans.parquet`` keeps the
    allocated bid, for the record.
    """
    sold = valuation.packages.filter(pl.col("decision") == "sell")["package_id"]
    return frame.with_columns(
        pl.when(pl.col("package_id").is_in(sold.implode())).then(pl.col("transfer_price")).otherwise(0.0).alias("_plan_transfer_price")
    )


def _no_action_columns() -> list[pl.Expr]:
    """Return placeholder action columns, which :func:`plan_tape` replaces."""
    return [
        pl.lit(None, dtype=pl.Utf8).alias("action"),
        pl.lit(None, dtype=pl.Float64).alias("action_value"),
        pl.lit(None, dtype=pl.Float64).alias("expected_recovery_pv"),
    ]


def plan_tape(frame: pl.DataFrame, curve: RecoveryCurve, settings: Settings) -> tuple[pl.DataFrame, ActionResult, PlanResult]:
    """Value every action again with the valuation's transfer prices and choose one action per loan within capacity.

    The chosen action, its value and the expected recovery PV of the
    portfolio optimiser (:func:`sanhua.strategy.plan_actions`) replace the
    best-action-per-loan choice of :func:`score_tape`.
    """
    priced = frame.with_columns(pl.col("_plan_transfer_price").alias("transfer_price")) if "_plan_transfer_price" in frame.columns else frame
    actions = ActionValuer(settings.strategy).run(priced, curve)
    if "_plan_transfer_price" in frame.columns:
        # A loan in no package to sell cannot be transferred at all, whatever its other actions are worth.
        unsold = frame.filter(pl.col("_plan_transfer_price") <= 0)["loan_id"].implode()
        values = actions.values.with_columns(
            (pl.col("feasible") & ~((pl.col("action").cast(pl.Utf8) == "transfer") & pl.col("loan_id").is_in(unsold))).alias("feasible")
        )
        actions = replace(actions, values=values)
    plan = plan_actions(actions, settings.strategy, curve=curve)
    frame = frame.drop("action", "action_value", "expected_recovery_pv").join(
        plan.chosen.select("loan_id", "action", "action_value", "expected_recovery_pv"), on="loan_id", how="left"
    )
    return frame, actions, plan


def _cutoff_date(tape: Tape, as_of: date | None) -> date:
    """Return the tape's cut-off date: the given as-of date, else the latest per-loan as-of date, else today."""
    latest = _latest_as_of(tape, as_of)
    return date.fromisoformat(latest) if latest else date.today()


def value_tape(
    frame: pl.DataFrame, tape: Tape, actions: object, curve: RecoveryCurve | SegmentedCurves, settings: Settings, cutoff: date
) -> ValuationResult:
    """Price every loan, form the bulk-transfer packages and build their disclosure (:class:`sanhua.value.Valuer`).

    The scored frame is joined with the loan columns the disclosure reads
    (debtor, region, five-tier class, fees, origination date) and the
    borrowers' age band where the tape has it.
    """
    extra = [
        c for c in ("borrower_id_hash", "region", "five_tier", "fees_outstanding", "origination_date")
        if c in tape.loans.columns and c not in frame.columns
    ]
    data = frame.join(tape.loans.select("loan_id", *extra), on="loan_id", how="left")
    borrowers = tape.table("borrowers")
    if borrowers is not None and "age" in borrowers.columns and "borrower_id_hash" in data.columns and "age" not in data.columns:
        data = data.join(borrowers.select("borrower_id_hash", "age").unique("borrower_id_hash"), on="borrower_id_hash", how="left")
    return Valuer(settings.valuation).run(data, actions, curve, cutoff)


def propose_abs(frame: pl.DataFrame, actions: ActionResult, settings: Settings, cutoff: date, run_dir: Path, language: str) -> dict:
    """Propose, size and report an ABS on the loans chosen for restructuring; return the run.json record.

    The pool's monthly collections are the new schedules of those loans,
    each weighted by the restructuring's probability of success
    (:func:`sanhua.securitize.pool.schedule_collections`). Loans in other
    currencies than the pool's main one are left out and counted. The deal
    report is written to ``run_dir/abs``.
    """
    if not settings.securitize.enabled:
        return {"status": "disabled"}
    chosen = frame.filter(pl.col("action").cast(pl.Utf8) == "restructure").select("loan_id", "currency", "exposure_at_default")
    if chosen.height == 0 or actions.terms is None:
        return {"status": "no_pool", "loans": 0}

    currency = chosen.group_by("currency").agg(pl.col("exposure_at_default").sum()).sort("exposure_at_default", descending=True)["currency"][0]
    pool = chosen.filter(pl.col("currency") == currency)
    success = actions.values.filter(pl.col("action").cast(pl.Utf8) == "restructure").select("loan_id", "p_success")
    pool = pool.join(success, on="loan_id", how="left").join(actions.terms, on="loan_id", how="left")
    collections = schedule_collections(pool, pool["p_success"].fill_null(0.0).to_numpy())
    if collections.height == 0 or collections["expected_collections"].sum() <= 0:
        return {"status": "no_pool", "loans": pool.height}

    # The fixed fees are set in CNY; a pool in another currency pays them converted at the valuation's rate.
    fx = settings.valuation.pricing.fx_cny_per_unit.get(currency)
    if fx is None:
        raise ConfigError(f"no exchange rate for {currency}: add it to valuation.pricing.fx_cny_per_unit (CNY per unit) in the settings file")
    securitize = settings.securitize.model_copy(update={"rating_fee_per_year": settings.securitize.rating_fee_per_year / fx})
    proposal = build_abs_proposal(
        collections, cutoff, securitize, outstanding_claims=float(pool["exposure_at_default"].sum()), currency=currency,
    )
    report = proposal.write(run_dir / ABS_DIR, language)
    return {
        "status": "proposed",
        "loans": pool.height,
        "loans_other_currencies": chosen.height - pool.height,
        "currency": currency,
        "outstanding_claims": float(pool["exposure_at_default"].sum()),
        "expected_collections": float(collections["expected_collections"].sum()),
        "months": collections.height,
        **proposal.summary(),
        "report": str(report.relative_to(run_dir)),
    }


def _valuation_record(valuation: ValuationResult, files: list[Path], run_dir: Path) -> dict:
    """Summarise the valuation for run.json and the report: packages, curve bands, notes and the disclosure files."""
    segments = valuation.curve_bands["segment"]
    shown = "all" if (segments == "all").any() else segments[0]
    bands = valuation.curve_bands.filter(pl.col("segment") == shown)
    return {
        "cutoff_date": valuation.cutoff_date.isoformat(),
        "packages": valuation.packages.to_dicts(),
        "curve_bands": bands.select(
            "month", *[c for c in ("cumulative", "cumulative_low", "cumulative_high") if c in bands.columns]
        ).to_dicts(),
        "curve_segments": valuation.curve_fallbacks.to_dicts(),
        "eligibility": valuation.loans["eligibility"].value_counts(sort=True).to_dicts(),
        "k_anonymity": valuation.k_anonymity.to_dicts(),
        "k": valuation.settings.disclosure.k_anonymity,
        "monte_carlo": {
            "scenarios": valuation.settings.monte_carlo.n_scenarios,
            "seed": valuation.settings.monte_carlo.seed,
            "seconds": round(valuation.mc_seconds, 3),
        },
        "target_irr": valuation.settings.pricing.target_irr,
        "discount_rate": valuation.settings.pricing.discount_rate,
        "notes": list(valuation.notes),
        "note_codes": [{"code": getattr(note, "code", None), **getattr(note, "params", {})} for note in valuation.notes],
        "files": [str(path.relative_to(run_dir)) for path in files] + [PACKAGES_FILE],
    }


def _output(frame: pl.DataFrame) -> pl.DataFrame:
    first = ["loan_id", "currency", "willingness", "ability", "category", "expected_recovery", "expected_recovery_pv", "action", "action_value", "reasons_zh", "reasons_en"]
    rest = [
        c
        for c in (
            "exposure_at_default", "expected_recovery_rate", "p_any_recovery", "expected_recovery_rate_if_any", "expected_recovery_low", "expected_recovery_high",
            "product", "hardship", "lost_contact", "segment_rule", "short_plan", "hold_value", "package_id", "transfer_price",
        )
        if c in frame.columns
    ]
    return frame.select(first + rest)


def run(
    tape_path: str | Path,
    profile: Profile | str | Path,
    *,
    out: str | Path,
    model_dir: str | Path | None = None,
    history: str | Path | None = None,
    history_where: str | None = None,
    settings: Settings | None = None,
    encoding: str | None = None,
    where: str | None = None,
    as_of: date | None = None,
    demo: bool = False,
    command: str = "run",
    language: str = "zh-CN",
    catalogue: object | None = None,
    registry: Registry | None = None,
    on_stage: StageCallback | None = None,
    realised: pl.DataFrame | None = None,
) -> RunResult:
    """Run the main job on a tape and write the run folder ``out``.

    Exactly one of ``model_dir`` (a folder written by :func:`fit`) and
    ``history`` (fit first, in memory and into ``out/model``) must be given.
    A model fit here is registered in ``registry`` as a draft when one is given.
    ``realised`` (``loan_id``, ``recovered`` in the loan's currency) gives
    recoveries known outside the tape, such as the demo generator's; the
    backtest uses it when the tape has no outcomes.
    """
    if (model_dir is None) == (history is None):
        raise SanhuaError("give exactly one of a model folder (--model) and a history (--history)")
    _require_path(tape_path, "tape", "give a loans file or a folder of canonical tables")
    if history is not None:
        _require_path(history, "history", "give a loans file or a folder of canonical tables with outcomes")
    else:
        _require_path(model_dir, "model folder", "create one with `sanhua fit HISTORY --profile P --out MODEL_DIR`")
    settings = settings or Settings()
    profile = _profile(profile)
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(timezone.utc)
    run_id = _new_run_id(started_at)
    t0 = time.perf_counter()
    clock = _Clock(on_stage)

    if history is not None:
        fitted = fit(
            history, profile, out=run_dir / "model", settings=settings, encoding=encoding, where=history_where,
            as_of=None, demo=demo, registry=registry, on_stage=on_stage,
        )
        assessor, curve, model_path = fitted.assessor, fitted.curve, fitted.model_dir
    else:
        model_path = Path(model_dir)
        assessor = Assessor.load(model_path)
        curve = _load_curve(model_path)

    clock.stage("tape")
    tape = load_tape(tape_path, profile, pseudonymiser=_pseudonymiser(settings, demo), encoding=encoding, where=where, as_of=as_of)

    clock.stage("score")
    frame, actions, refusals, hardship = score_tape(tape, assessor, curve, settings)
    cutoff = _cutoff_date(tape, as_of)

    clock.stage("value")
    segments = _load_segment_curves(Path(model_path))
    valuation = value_tape(frame, tape, actions, segments if segments is not None else curve, settings, cutoff)
    frame = frame.join(valuation.loans.select("loan_id", "hold_value", "package_id", "transfer_price"), on="loan_id", how="left")
    frame = _offer_only_sold_packages(frame, valuation)

    clock.stage("plan")
    frame, actions, plan = plan_tape(frame, curve, settings)

    clock.stage("fairness")
    replanned: dict[str, PlanResult] = {}

    def replan(unplanned: pl.DataFrame) -> tuple[pl.DataFrame, ActionResult]:
        # The mitigation's categories are planned under capacity like the audited plan, so before and after compare.
        planned, planned_actions, replanned["plan"] = plan_tape(unplanned.with_columns(_no_action_columns()), curve, settings)
        return planned, planned_actions

    fairness = audit_tape(
        frame, tape, settings.fairness, targets=assessor.settings_.targets, segment=settings.segment, strategy=settings.strategy,
        curve=curve, replan=replan,
    )
    if fairness.actions is not None:
        frame, actions, plan = fairness.frame, fairness.actions, replanned["plan"]

    clock.stage("abs")
    abs_record = propose_abs(frame, actions, settings, cutoff, run_dir, language)

    clock.stage("backtest")
    backtest_record = None
    outcomes = tape.table("outcomes")
    source = "tape"
    if outcomes is not None and outcomes.height:
        realised_by_loan = outcomes.group_by("loan_id").agg(pl.col("amount").sum().alias("recovered"))
    elif realised is not None:
        realised_by_loan, source = realised.select("loan_id", pl.col("recovered").cast(pl.Float64)), "given"
    else:
        realised_by_loan = None
    if realised_by_loan is not None:
        data = (
            frame.select(
                "loan_id", "exposure_at_default", "expected_recovery_rate",
                *[c for c in ("expected_recovery_rate_low", "expected_recovery_rate_high") if c in frame.columns],
            )
            .join(realised_by_loan, on="loan_id", how="left")
            .with_columns(pl.col("recovered").fill_null(0.0))
            .with_columns(assessor.baseline_rate(tape.loans.select("loan_id", *(["grade"] if "grade" in tape.loans.columns else []))).alias("baseline_rate"))
        )
        backtest_record = backtest(data, settings.backtest).record
        backtest_record["realised_source"] = source
        backtest_record["by_group"] = _group_backtest(data, tape)

    clock.stage("write")
    output = _output(frame)
    output.write_parquet(run_dir / "loans.parquet")
    disclosure_files = valuation.write(run_dir)
    write_values(actions, run_dir)
    # UTF-8 with BOM, so that Excel on a Chinese Windows reads the notices.
    (run_dir / RELIEF_FILE).write_bytes(b"\xef\xbb\xbf" + hardship.offers.write_csv().encode("utf-8"))
    plan_files = plan.write(run_dir)
    valuation.packages.write_csv(run_dir / PACKAGES_FILE)
    write_quarantine(tape.quarantine, run_dir / "quarantine.csv")
    clock.stop()

    duration = time.perf_counter() - t0
    counts = _counts(tape)
    currency = output["currency"].drop_nulls().unique().to_list()
    record = {
        "run_id": run_id,
        "sanhua_version": __version__,
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(duration, 3),
        "run_dir": str(run_dir.resolve()),
        "language": language,
        "profile": {"name": profile.name, "path": str(profile.path), "sha256": profile.sha256},
        "config": settings.public_dump(),
        "filters": {"where": where, "history_where": history_where, "as_of": as_of.isoformat() if as_of else None},
        # The latest per-loan cut-off date: the tape's state is known up to this date.
        "as_of": _latest_as_of(tape, as_of),
        "inputs": [{"role": "tape", **item} for item in tape.inputs],
        "model": {
            "version": assessor.version_,
            "dir": str(Path(model_path).resolve()),
            "trained_at": assessor.trained_at_,
            "training_data_sha256": assessor.training_sha256_,
            "metrics": assessor.metrics_,
            "median_rate": assessor.median_rate_,
            "absent_features": getattr(assessor, "absent_features_", []),
        },
        "counts": counts,
        "flags": tape.flags,
        "external_refusals": refusals,
        "assumptions": (
            curve.assumptions() + settings.segment.assumptions() + settings.strategy.assumptions() + settings.fairness.assumptions()
            + settings.valuation.assumptions() + (settings.securitize.assumptions() if abs_record.get("report") else [])
        ),
        "metrics": {
            "stage_seconds": clock.seconds,
            "loans_per_second": round(counts["scored"] / duration, 1) if duration > 0 else None,
        },
        "totals": {
            "currency": currency[0] if len(currency) == 1 else currency,
            "loans": output.height,
            "exposure_at_default": float(output["exposure_at_default"].sum()),
            "expected_recovery": float(output["expected_recovery"].sum()),
            "expected_recovery_pv": float(output["expected_recovery_pv"].sum()),
            "action_value": float(output["action_value"].sum()),
        },
        "backtest": backtest_record,
        "fairness": fairness.record,
        "valuation": _valuation_record(valuation, disclosure_files, run_dir),
        "plan": {
            **plan.summary(),
            "capacity": plan.capacity.to_dicts(),
            "by_action": plan.by_action.with_columns(pl.col("action").cast(pl.Utf8)).to_dicts(),
            "files": [str(path.relative_to(run_dir)) for path in plan_files],
        },
        "hardship": {
            "loans": hardship.offers.height,
            "by_kind": hardship.summary().to_dicts(),
            "file": RELIEF_FILE,
        },
        "abs": abs_record,
    }
    record = _json_ready(record)
    (run_dir / "run.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False, default=str, allow_nan=False), encoding="utf-8"
    )

    from sanhua.report import write_report

    write_report(run_dir, output, record, curve.curve_, language=language)

    if catalogue is not None:
        catalogue.record(record)
    logger.info(
        "run %s: %d rows read, %d scored, %d quarantined, %d excluded in %.1f s",
        record["run_id"], counts["input_rows"], counts["scored"], counts["quarantined"], counts["excluded"], duration,
    )
    return RunResult(run_dir=run_dir, loans=output, record=record, quarantine=tape.quarantine, extra={"actions": actions, "tape": tape})


def _json_ready(value: object) -> object:
    """Replace NaN and infinities by None, recursively, so run.json is strict JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value
