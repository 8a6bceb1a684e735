"""The valuation stage's entry point: cash flows, prices, packages and disclosure in one run.

``Valuer(settings).run(loans, actions, curve, cutoff_date)`` returns a
:class:`ValuationResult`; ``result.write(out_dir)`` writes the disclosure
files. Amounts are in each loan's (and package's) currency; CNY costs are
converted with ``pricing.fx_cny_per_unit``. See :mod:`sanhua.value.pricing`
for the price definitions and :mod:`sanhua.value.packaging` for the
package heuristic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sanhua.value.cashflows import CashFlows, discount_vector, project_cash_flows
from sanhua.value.checks import InputDataError, check_codes, check_no_nulls, check_non_negative, require_columns
from sanhua.value.curves import RecoveryCurve, months_between
from sanhua.value.disclosure import LOAN_HEADERS_ZH, SUMMARY_HEADERS_ZH, derive_five_tier, loan_table, package_summary, write_table
from sanhua.value.packaging import eligibility, form_packages
from sanhua.value.pricing import bid_price, distribution_summary, sale_proceeds, simulate_package_pv
from sanhua.value.segments import SegmentedCurves
from sanhua.value.settings import ValuationSettings

if TYPE_CHECKING:
    # Imported for type hints only: sanhua.strategy imports sanhua.value.checks, so a runtime import would be circular.
    from sanhua.strategy.valuer import ActionResult

__all__ = ["Valuer", "ValuationResult", "Note", "REQUIRED_COLUMNS"]

logger = logging.getLogger(__name__)

_STAGE = "valuation"
_DAYS_PER_MONTH = 365.25 / 12
_DEFAULT_DPD = 90
_DEFAULT_MONTHS = 12.0

REQUIRED_COLUMNS: tuple[str, ...] = ("loan_id", "currency", "exposure_at_default", "principal_outstanding", "expected_recovery_rate")
"""Columns :meth:`Valuer.run` requires. It also reads, when present: ``product``, ``collateral``,
``region``, ``dpd``, ``default_date`` and ``as_of_date``, ``litigation_status``, ``interest_outstanding``,
``fees_outstanding``, ``five_tier``, ``written_off``, ``borrower_id_hash`` (or ``borrower_id``), ``age``,
``origination_date``."""


class Note(str):
    """A note of the valuation in English, with a ``code`` and ``params`` that the report translates.

    It is a ``str``, so ``ValuationResult.notes`` stays a tuple of texts for
    callers that only read them.
    """

    code: str
    params: dict[str, object]

    def __new__(cls, code: str, text: str, **params: object) -> Note:
        note = super().__new__(cls, text)
        note.code = code
        note.params = params
        return note


@dataclass(frozen=True)
class ValuationResult:
    """Output of :meth:`Valuer.run`; amounts in the row's currency.

    Attributes
    ----------
    cutoff_date : datetime.date
        Cut-off date of the tape.
    curve_bands : polars.DataFrame
        ``segment``, ``month``, ``cumulative`` (share of lifetime recovery)
        with ``cumulative_low``/``cumulative_high``, ``recovery_rate`` (of EAD)
        with ``recovery_rate_low``/``recovery_rate_high``.
    curve_fallbacks : polars.DataFrame
        Segments and the curve each uses (``segment``, ``level``, ``loans``,
        ``curve``, ``reason``); one ``all`` row for a single curve.
    loans : polars.DataFrame
        One row per input loan: ``loan_id``, ``currency``,
        ``months_since_default``, ``expected_recovery`` (lifetime still to
        come), ``dcf_value`` (PV at ``discount_rate`` net of servicing),
        ``hold_value``, ``buyer_pv`` (PV of gross cash at ``target_irr``),
        ``sale_gain`` (loan alone), ``eligibility``, ``package_id`` and
        ``transfer_price`` (the package bid allocated by ``buyer_pv``; null
        outside packages). The portfolio optimiser consumes ``transfer_price``.
    packages : polars.DataFrame
        One row per package: ``package_id``, ``package_key``, ``currency``,
        ``loans``, ``debtors``, ``principal``, ``expected_recovery``,
        ``dcf_value``, ``bid`` (at ``target_irr``, after due diligence),
        ``due_diligence``, ``sale_proceeds``, ``hold_value``, ``decision``
        (``sell`` or ``hold``), ``price_ratio`` (bid / (principal + interest
        + fees)), the Monte Carlo columns of the bid ``mc_mean``, ``mc_se``,
        ``p5``, ``p50``, ``p95``, ``expected_shortfall``.
    package_cash_flows : polars.DataFrame
        ``package_id``, ``month``, ``cash`` (expected gross cash).
    disclosure_summary : polars.DataFrame
        Announcement summary per package (:func:`package_summary`).
    disclosure_loans : polars.DataFrame
        De-identified loan tables (:func:`loan_table`).
    k_anonymity : polars.DataFrame
        Per package: rows, suppressed rows, smallest class, levels.
    notes : tuple of str
        What the run derived, assumed or could not provide.
    settings : ValuationSettings
    mc_seconds : float
        Wall-clock seconds of the Monte Carlo.
    """

    cutoff_date: date
    curve_bands: pl.DataFrame
    curve_fallbacks: pl.DataFrame
    loans: pl.DataFrame
    packages: pl.DataFrame
    package_cash_flows: pl.DataFrame
    disclosure_summary: pl.DataFrame
    disclosure_loans: pl.DataFrame
    k_anonymity: pl.DataFrame
    notes: tuple[str, ...]
    settings: ValuationSettings
    mc_seconds: float = field(default=0.0)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the disclosure files with Chinese headers and return their paths.

        ``out_dir/disclosure/package_summary.{csv,xlsx}`` (one row per
        package) and ``out_dir/disclosure/<package_id>_loans.{csv,xlsx}``
        (the de-identified loan table of each package).
        """
        folder = Path(out_dir) / "disclosure"
        paths = write_table(self.disclosure_summary, SUMMARY_HEADERS_ZH, folder / "package_summary")
        for (package_id,), table in self.disclosure_loans.group_by("package_id", maintain_order=True):
            paths += write_table(table.drop("package_id"), LOAN_HEADERS_ZH, folder / f"{package_id}_loans")
        logger.info("%s: %d disclosure file(s) written to %s", _STAGE, len(paths), folder)
        return paths


class Valuer:
    """Price every loan and package, form packages and build their disclosure.

    Parameters
    ----------
    settings : ValuationSettings or None
        Defaults when None.
    """

    def __init__(self, settings: ValuationSettings | None = None) -> None:
        self.settings = settings

    def _prepare(self, loans: pl.DataFrame, settings: ValuationSettings, actions: ActionResult | None) -> tuple[pl.DataFrame, list[str]]:
        notes: list[str] = []
        require_columns(loans, REQUIRED_COLUMNS, _STAGE)
        check_no_nulls(loans, ["loan_id", "currency"], _STAGE)
        check_non_negative(loans, ["exposure_at_default", "principal_outstanding", "expected_recovery_rate"], _STAGE)
        check_codes(loans, "currency", list(settings.pricing.fx_cny_per_unit), _STAGE, allow_null=False, fix="Add the currency to pricing.fx_cny_per_unit.")
        if loans["loan_id"].is_duplicated().any():
            raise InputDataError(f"{_STAGE}: loan_id must be unique; {int(loans['loan_id'].is_duplicated().sum())} rows share an id.")

        frame = loans
        for name, dtype in (("product", pl.Utf8), ("collateral", pl.Utf8), ("dpd", pl.Int32)):
            if name not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(name))
                notes.append(Note("column_absent", f"column {name} is absent and reads as unknown", column=name))

        debtor = next((name for name in ("borrower_id_hash", "borrower_id") if name in frame.columns), None)
        if debtor is None:
            notes.append(Note("no_debtor", "no debtor column: each loan counts as its own debtor (borrower counts are loan counts)"))
        frame = frame.with_columns((pl.col(debtor) if debtor else pl.col("loan_id")).cast(pl.Utf8).fill_null(pl.col("loan_id")).alias("debtor"))

        if actions is not None:
            context = actions.context.select("loan_id", "months_since_default")
            frame = frame.join(context, on="loan_id", how="left")
            chosen = actions.chosen.select("loan_id", pl.col("action").cast(pl.Utf8))
            frame = frame.join(chosen, on="loan_id", how="left")
        else:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("action"))
            months = ((pl.col("dpd").cast(pl.Float64) - _DEFAULT_DPD) / _DAYS_PER_MONTH).clip(lower_bound=0.0)
            if "default_date" in frame.columns and "as_of_date" in frame.columns:
                months = months.fill_null(months_between(pl.col("default_date"), pl.col("as_of_date")).cast(pl.Float64).clip(lower_bound=0.0))
            frame = frame.with_columns(months.alias("months_since_default"))
        missing_months = frame["months_since_default"].null_count()
        if missing_months:
            notes.append(
                Note(
                    "untimed",
                    f"{missing_months} loan(s) without dpd or dates are timed {_DEFAULT_MONTHS:.0f} months after default",
                    loans=missing_months,
                    months=int(_DEFAULT_MONTHS),
                )
            )
        frame = frame.with_columns(pl.col("months_since_default").fill_null(_DEFAULT_MONTHS))

        fx = pl.col("currency").replace_strict(settings.pricing.fx_cny_per_unit, return_dtype=pl.Float64)
        return frame.with_columns(fx.alias("_fx"), (pl.col("principal_outstanding") * fx).alias("principal_cny")), notes

    @staticmethod
    def _hold_values(frame: pl.DataFrame, actions: ActionResult | None, cash: CashFlows, settings: ValuationSettings) -> np.ndarray:
        pricing = settings.pricing
        curve_hold = (1.0 - pricing.hold_cost_rate) * cash.present_value(pricing.discount_rate) - pricing.hold_fixed_cost_cny / frame["_fx"].to_numpy()
        if actions is None:
            return curve_hold
        best = (
            actions.values.filter(pl.col("feasible") & (pl.col("action").cast(pl.Utf8) != "transfer"))
            .group_by("loan_id")
            .agg(pl.col("value").max().alias("_best"))
        )
        joined = frame.select("loan_id").join(best, on="loan_id", how="left")["_best"].to_numpy()
        return np.where(np.isnan(joined.astype(float)), curve_hold, joined.astype(float))

    def run(
        self,
        loans: pl.DataFrame,
        actions: ActionResult | None,
        curve: RecoveryCurve | SegmentedCurves,
        cutoff_date: date,
    ) -> ValuationResult:
        """Value the loans, form and price packages, and build their disclosure.

        Parameters
        ----------
        loans : polars.DataFrame
            One row per loan with :data:`REQUIRED_COLUMNS` (``expected_recovery_rate``
            is the assessment's lifetime recovery still to come, fraction of EAD).
        actions : ActionResult or None
            The strategy stage's result; its best non-transfer value per loan is
            the hold value, its ``months_since_default`` the timing, and its
            chosen action feeds ``packaging.only_chosen_transfer``. None uses
            the curve-based hold value of :mod:`sanhua.value.pricing`.
        curve : RecoveryCurve or SegmentedCurves
            Fitted timing; with segments each loan uses its segment's curve.
        cutoff_date : datetime.date
            Cut-off date of the tape (in the disclosure summary).

        Returns
        -------
        ValuationResult

        Raises
        ------
        InputDataError
            A required column is missing or invalid, or a currency has no FX rate.
        NotFittedError
            The curve is not fitted.
        """
        settings = self.settings if self.settings is not None else ValuationSettings()
        if not isinstance(settings, ValuationSettings):
            raise InputDataError(f"{_STAGE}: settings must be a ValuationSettings, got {type(settings).__name__}.")
        if not isinstance(cutoff_date, date):
            raise InputDataError(f"{_STAGE}: cutoff_date must be a datetime.date, got {cutoff_date!r}.")
        started = time.perf_counter()
        pricing = settings.pricing
        frame, notes = self._prepare(loans, settings, actions)

        # Timing: one curve, or each loan's segment curve.
        if isinstance(curve, SegmentedCurves):
            keys = curve.assign(frame)
            names, marginals = curve.marginal_matrix()
            curve_index = keys.replace_strict({name: i for i, name in enumerate(names)}, return_dtype=pl.Int64).to_numpy()
            bands, fallbacks = curve.bands(), curve.fallbacks_
        else:
            marginals = curve._check_fitted()
            curve_index = None
            bands = curve.bands_.with_columns(pl.lit("all").alias("segment"))
            fallbacks = pl.DataFrame({"segment": ["all"], "level": [0], "loans": [curve.n_loans_], "curve": ["all"], "reason": [curve.source_]})
            if curve.source_ != "empirical":
                notes.append(
                    Note("timing_assumed", f"recovery timing is {curve.source_}: the curve's shape is an assumption, not fitted on monthly recoveries")
                )

        expected = (frame["expected_recovery_rate"] * frame["exposure_at_default"]).cast(pl.Float64).to_numpy()
        cash = project_cash_flows(frame["loan_id"], expected, frame["months_since_default"].to_numpy(), marginals, curve_index)

        # Per-loan values.
        fx = frame["_fx"].to_numpy()
        buyer_pv = cash.gross @ discount_vector(pricing.target_irr, cash.n_months)
        dcf = cash.present_value(pricing.discount_rate, pricing.servicing_cost_rate)
        hold = self._hold_values(frame, actions, cash, settings)
        loan_bid = bid_price(buyer_pv, pricing.due_diligence_cost_per_loan_cny / fx, pricing)
        gain = sale_proceeds(loan_bid, pricing) - hold
        frame = frame.with_columns(
            pl.Series("expected_recovery", expected),
            pl.Series("buyer_pv", buyer_pv),
            pl.Series("dcf_value", dcf),
            pl.Series("hold_value", hold),
            pl.Series("sale_gain", gain),
        )
        frame = frame.with_columns(eligibility(frame, settings.packaging).alias("eligibility"))

        # Packages.
        eligible = frame.filter(pl.col("eligibility") == "eligible")
        homogeneity = [c for c in settings.packaging.homogeneity if c not in ("dpd_band", "balance_band")]
        for name in homogeneity:
            if name not in eligible.columns:
                eligible = eligible.with_columns(pl.lit(None, dtype=pl.Utf8).alias(name))
                notes.append(Note("homogeneity_absent", f"homogeneity column {name} is absent; packages are not split by it", column=name))
        packaged = form_packages(eligible, settings.packaging) if eligible.height else pl.DataFrame(
            schema={"loan_id": pl.Utf8, "package_id": pl.Utf8, "package_key": pl.Utf8, "package_reason": pl.Utf8}
        )
        frame = frame.join(packaged.select("loan_id", "package_id", "package_key", "package_reason"), on="loan_id", how="left").with_columns(
            pl.when(pl.col("package_reason") == "too_small").then(pl.lit("too_small")).otherwise(pl.col("eligibility")).alias("eligibility")
        )

        packages, frame, package_values, mc_seconds = self._price_packages(frame, cash, settings)
        notes += self._disclosure_notes(frame)
        in_packages = frame.filter(pl.col("package_id").is_not_null())
        disclosed, derived = derive_five_tier(in_packages)
        if derived:
            notes.append(Note("five_tier_derived", f"five-tier class derived from days past due for {derived} loan(s) (2023 rules, 2011 card rule)", loans=derived))
        summary = package_summary(disclosed, cutoff_date) if disclosed.height else pl.DataFrame()
        if disclosed.height:
            tables, k_report = loan_table(disclosed, settings.disclosure)
        else:
            tables, k_report = pl.DataFrame(schema={"package_id": pl.Utf8, "row": pl.UInt32}), pl.DataFrame()

        loans_out = frame.select(
            "loan_id", "currency", "months_since_default", "expected_recovery", "dcf_value", "hold_value", "buyer_pv",
            "sale_gain", "eligibility", "package_id", "transfer_price",
        )
        logger.info(
            "%s: %d loans, %d package(s) (%d to sell) in %.2f s",
            _STAGE, frame.height, packages.height, packages.filter(pl.col("decision") == "sell").height, time.perf_counter() - started,
        )
        return ValuationResult(
            cutoff_date=cutoff_date,
            curve_bands=bands,
            curve_fallbacks=fallbacks,
            loans=loans_out,
            packages=packages,
            package_cash_flows=cash.by_package(frame["package_id"]),
            disclosure_summary=summary,
            disclosure_loans=tables,
            k_anonymity=k_report,
            notes=tuple(notes),
            settings=settings,
            mc_seconds=mc_seconds,
        )

    @staticmethod
    def _disclosure_notes(frame: pl.DataFrame) -> list[str]:
        notes = []
        for name, text in (
            ("age", "borrower age is absent: the weighted-average age is not disclosed (join borrowers.age to disclose it)"),
            ("written_off", "write-off status is absent: its count is not disclosed"),
            ("litigation_status", "litigation status is absent: its counts are not disclosed"),
            ("region", "region is absent: the loan table has no region column"),
        ):
            if name not in frame.columns:
                notes.append(Note(f"disclosure_{name}_absent", text))
        return notes

    @staticmethod
    def _price_packages(
        frame: pl.DataFrame, cash: CashFlows, settings: ValuationSettings
    ) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray, float]:
        pricing = settings.pricing
        balance = [pl.col(name).cast(pl.Float64).fill_null(0.0).sum() if name in frame.columns else pl.lit(0.0) for name in ("interest_outstanding", "fees_outstanding")]
        packages = (
            frame.filter(pl.col("package_id").is_not_null())
            .group_by("package_id")
            .agg(
                pl.col("package_key").first(),
                pl.col("currency").first(),
                pl.len().alias("loans"),
                pl.col("debtor").n_unique().alias("debtors"),
                pl.col("principal_outstanding").sum().alias("principal"),
                (pl.col("principal_outstanding").sum() + balance[0] + balance[1]).alias("claim"),
                pl.col("expected_recovery").sum(),
                pl.col("dcf_value").sum(),
                pl.col("buyer_pv").sum(),
                pl.col("hold_value").sum(),
                pl.col("_fx").first(),
            )
            .sort("package_id")
        )
        due_diligence = (pricing.due_diligence_cost_cny + pricing.due_diligence_cost_per_loan_cny * packages["loans"].to_numpy()) / packages["_fx"].to_numpy()
        bid = bid_price(packages["buyer_pv"].to_numpy(), due_diligence, pricing)
        proceeds = sale_proceeds(bid, pricing)
        hold = packages["hold_value"].to_numpy()
        decision = np.where(proceeds > hold * (1.0 + pricing.sell_margin), "sell", "hold")

        ids = packages["package_id"].to_list()
        index = frame["package_id"].replace_strict({p: i for i, p in enumerate(ids)}, default=-1, return_dtype=pl.Int64).to_numpy()
        simulated = simulate_package_pv(cash.gross, index, len(ids), pricing.target_irr, settings.monte_carlo)
        scale = (1.0 - pricing.servicing_cost_rate) * pricing.buyer_recovery_factor
        bids = np.maximum(scale * simulated.values - due_diligence[:, None], 0.0)
        mc = distribution_summary(bids, settings.monte_carlo.tail_level) if len(ids) else pl.DataFrame(
            schema=dict.fromkeys(("mc_mean", "mc_se", "p5", "p50", "p95", "expected_shortfall"), pl.Float64)
        )

        packages = pl.concat(
            [
                packages.with_columns(
                    pl.Series("due_diligence", due_diligence),
                    pl.Series("bid", bid),
                    pl.Series("sale_proceeds", proceeds),
                    pl.Series("decision", decision, dtype=pl.Utf8),
                ).with_columns((pl.col("bid") / pl.col("claim")).alias("price_ratio")),
                mc,
            ],
            how="horizontal",
        )
        allocation = packages.select("package_id", pl.col("bid").alias("_bid"), pl.col("buyer_pv").alias("_package_pv"))
        frame = frame.join(allocation, on="package_id", how="left").with_columns(
            pl.when(pl.col("_package_pv") > 0).then(pl.col("_bid") * pl.col("buyer_pv") / pl.col("_package_pv")).otherwise(pl.when(pl.col("package_id").is_not_null()).then(0.0)).alias("transfer_price")
        )
        packages = packages.select(
            "package_id", "package_key", "currency", "loans", "debtors", "principal", "claim", "expected_recovery", "dcf_value", "buyer_pv",
            "bid", "due_diligence", "sale_proceeds", "hold_value", "decision", "price_ratio",
            "mc_mean", "mc_se", "p5", "p50", "p95", "expected_shortfall",
        )
        return packages, frame, bids, simulated.seconds
