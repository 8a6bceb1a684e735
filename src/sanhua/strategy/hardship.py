"""Hardship relief programme: detect debtors in real hardship and build the relief offer and its notice.

Rules, per loan, first match wins (``hardship_kind``; ``hardship_rule`` names the rule):

=================  =====================================================================  =================
rule               condition (columns read when present)                                  kind
=================  =====================================================================  =================
``event``          ``hardship_event`` is filled and not a "none" value (external data      the event's code
                   or a collector's record: illness, job_loss, accident, ...)
``vulnerability``  ``vulnerability`` is ``serious_illness`` or ``disability``             that code
``unemployed``     ``employment`` is ``unemployed``, or ``social_insurance_status`` is    ``job_loss``
                   lapsed or stopped (text ``lapsed``/``none`` or the feature's 0.5/0)
                   when ``HardshipSettings.social_insurance_lapse_is_job_loss``
``income``         ``income_annual`` fell by at least ``income_collapse_share`` from       ``income_collapse``
                   ``income_previous``, or ``consumption_index`` is at or below
                   ``consumption_collapse_index``
``flag``           the ``hardship`` flag of the feature stage is true                      ``declared``
=================  =====================================================================  =================

Each kind triggers a relief offer: the restructuring schedule of
:func:`~sanhua.strategy.restructure.restructure_terms` with the kind's interest
waiver, a payment holiday of ``relief_deferral_months`` (the first instalment
comes one month after it) and a term of ``relief_term_months``; the schedule's
annual rate by the IRR method, its fee and total are disclosed in the notice.
The notice text comes from the message catalogues (keys ``plan.notice.*``) in
zh-CN and English; it names no personal data.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.report.i18n import catalogue
from sanhua.strategy.restructure import restructure_terms
from sanhua.strategy.settings import HardshipSettings, RestructureSettings
from sanhua.value.checks import InputDataError, require_columns

__all__ = ["HARDSHIP_KINDS", "HardshipProgramme", "HardshipResult"]

logger = logging.getLogger(__name__)

HARDSHIP_KINDS: tuple[str, ...] = (
    "illness",
    "serious_illness",
    "disability",
    "job_loss",
    "accident",
    "business_failure",
    "income_collapse",
    "declared",
)
"""Kinds of hardship the programme recognises (``declared``: flagged without a known cause)."""

_NONE_VALUES = ("", "none", "no", "无", "否", "false", "0")
_VULNERABLE_KINDS = ("serious_illness", "disability")
_STAGE = "hardship"


@dataclass(frozen=True)
class HardshipResult:
    """Output of :class:`HardshipProgramme`.

    Attributes
    ----------
    flags : polars.DataFrame
        One row per loan in input order: ``loan_id``, ``hardship`` (bool),
        ``hardship_kind`` (null when none) and ``hardship_rule``.
    offers : polars.DataFrame
        One row per loan in hardship: ``loan_id``, ``hardship_kind``,
        ``interest_waiver`` (fraction), ``deferral_months``, the schedule
        (``trial_months``, ``trial_instalment``, ``term_months``,
        ``instalment``, ``balloon``, ``fee``, ``total_paid``, ``apr``,
        ``observation_months``, ``affordable``) in the loan's ``currency``,
        and the debtor notice ``notice_zh`` and ``notice_en``.
    """

    flags: pl.DataFrame
    offers: pl.DataFrame

    def summary(self) -> pl.DataFrame:
        """Return loans, total debt relieved (interest waived) and mean APR by hardship kind."""
        return (
            self.offers.group_by("hardship_kind")
            .agg(pl.len().alias("loans"), pl.col("interest_waived").sum(), pl.col("apr").mean().alias("mean_apr"))
            .sort("hardship_kind")
        )


class HardshipProgramme:
    """Detect hardship and build the relief offers.

    Parameters
    ----------
    settings : HardshipSettings or None
        Detection thresholds and relief terms; defaults when None.
    restructure : RestructureSettings or None
        The schedule's other terms (rate relief, trial, fee, affordability); defaults when None.
    discount_rate : float, default 0.08
        Bank's annual discount rate, for the schedule's PV (not shown in the notice).
    """

    def __init__(self, settings: HardshipSettings | None = None, restructure: RestructureSettings | None = None, discount_rate: float = 0.08) -> None:
        self.settings = settings
        self.restructure = restructure
        self.discount_rate = discount_rate

    def run(self, frame: pl.DataFrame) -> HardshipResult:
        """Flag hardship per loan and build each flagged loan's relief offer.

        Parameters
        ----------
        frame : polars.DataFrame
            One row per loan: ``loan_id``, ``currency``,
            ``principal_outstanding`` are required; ``interest_outstanding``,
            ``interest_rate``, ``income_annual``, ``income_previous``,
            ``hardship_event``, ``vulnerability``, ``employment``,
            ``social_insurance_status``, ``consumption_index`` and
            ``hardship`` are read when present.

        Returns
        -------
        HardshipResult

        Raises
        ------
        InputDataError
            A required column is missing, or a column has the wrong type.
        """
        settings = self.settings if self.settings is not None else HardshipSettings()
        restructure = self.restructure if self.restructure is not None else RestructureSettings()
        require_columns(frame, ("loan_id", "currency", "principal_outstanding"), _STAGE)

        flags = frame.select("loan_id", *self._rules(frame, settings))
        flagged = frame.join(flags.filter(pl.col("hardship")), on="loan_id", how="inner")
        offers = self._offers(flagged, settings, restructure)
        logger.info("hardship: %d of %d loans in hardship; %d offers", flagged.height, frame.height, offers.height)
        return HardshipResult(flags=flags, offers=offers)

    # ------------------------------------------------------------ rules

    @staticmethod
    def _rules(frame: pl.DataFrame, settings: HardshipSettings) -> list[pl.Expr]:
        columns = frame.columns
        kind = pl.lit(None, dtype=pl.Utf8)
        rule = pl.lit(None, dtype=pl.Utf8)

        # Rules in reverse order of precedence: each later `when` overrides the earlier ones.
        if "hardship" in columns:
            if frame.schema["hardship"] != pl.Boolean:
                raise InputDataError(f"{_STAGE}: column 'hardship' must be Boolean, got {frame.schema['hardship']}.")
            hit = pl.col("hardship").fill_null(False)
            kind, rule = pl.when(hit).then(pl.lit("declared")).otherwise(kind), pl.when(hit).then(pl.lit("flag")).otherwise(rule)

        income_hits = []
        if "income_annual" in columns and "income_previous" in columns:
            income_hits.append(
                (pl.col("income_previous") > 0) & (pl.col("income_annual") <= (1.0 - settings.income_collapse_share) * pl.col("income_previous"))
            )
        if "consumption_index" in columns:
            income_hits.append(pl.col("consumption_index").cast(pl.Float64) <= settings.consumption_collapse_index)
        if income_hits:
            hit = pl.any_horizontal(income_hits).fill_null(False)
            kind, rule = pl.when(hit).then(pl.lit("income_collapse")).otherwise(kind), pl.when(hit).then(pl.lit("income")).otherwise(rule)

        job_hits = []
        if "employment" in columns:
            job_hits.append(pl.col("employment").cast(pl.Utf8) == "unemployed")
        if "social_insurance_status" in columns and settings.social_insurance_lapse_is_job_loss:
            status = pl.col("social_insurance_status")
            if frame.schema["social_insurance_status"].is_numeric():
                job_hits.append(status < 1.0)
            else:
                job_hits.append(status.cast(pl.Utf8).str.to_lowercase().is_in(["lapsed", "none", "stopped"]))
        if job_hits:
            hit = pl.any_horizontal(job_hits).fill_null(False)
            kind, rule = pl.when(hit).then(pl.lit("job_loss")).otherwise(kind), pl.when(hit).then(pl.lit("unemployed")).otherwise(rule)

        if "vulnerability" in columns:
            text = pl.col("vulnerability").cast(pl.Utf8).str.strip_chars().str.to_lowercase()
            hit = text.is_in(list(_VULNERABLE_KINDS)).fill_null(False)
            kind, rule = pl.when(hit).then(text).otherwise(kind), pl.when(hit).then(pl.lit("vulnerability")).otherwise(rule)

        if "hardship_event" in columns:
            text = pl.col("hardship_event").cast(pl.Utf8).str.strip_chars().str.to_lowercase()
            hit = (text.is_not_null() & ~text.is_in(list(_NONE_VALUES))).fill_null(False)
            known = pl.when(text.is_in(list(HARDSHIP_KINDS))).then(text).otherwise(pl.lit("declared"))
            kind, rule = pl.when(hit).then(known).otherwise(kind), pl.when(hit).then(pl.lit("event")).otherwise(rule)

        return [kind.is_not_null().alias("hardship"), kind.alias("hardship_kind"), rule.alias("hardship_rule")]

    # ----------------------------------------------------------- offers

    def _offers(self, flagged: pl.DataFrame, settings: HardshipSettings, restructure: RestructureSettings) -> pl.DataFrame:
        parts = []
        for (kind,), group in flagged.group_by("hardship_kind", maintain_order=True):
            parts.append(self._offer_group(group, kind, settings, restructure))
        if not parts:
            return pl.DataFrame(schema=_OFFER_SCHEMA)
        offers = pl.concat(parts, how="vertical")
        return flagged.select("loan_id").join(offers, on="loan_id", how="left").with_columns(_notice("zh-CN", settings), _notice("en", settings))

    def _offer_group(self, group: pl.DataFrame, kind: str, settings: HardshipSettings, restructure: RestructureSettings) -> pl.DataFrame:
        def floats(name: str) -> np.ndarray:
            if name not in group.columns:
                return np.full(group.height, np.nan)
            return group[name].cast(pl.Float64).fill_null(np.nan).to_numpy()

        waiver = settings.relief_interest_waiver.get(kind, restructure.interest_waiver)
        deferral = settings.relief_deferral_months.get(kind, 0)
        term = settings.relief_term_months.get(kind, restructure.spread_months)
        interest = np.nan_to_num(floats("interest_outstanding"), nan=0.0)
        terms = restructure_terms(
            floats("principal_outstanding"),
            interest,
            floats("interest_rate"),
            floats("income_annual") / 12.0,
            np.zeros(group.height, dtype=bool),
            restructure,
            self.discount_rate,
            interest_waiver=waiver,
            delay_months=float(deferral + 1),
            term_months=term,
        )
        return pl.DataFrame(
            {
                "loan_id": group["loan_id"],
                "currency": group["currency"],
                "hardship_kind": [kind] * group.height,
                "interest_waiver": np.full(group.height, waiver),
                "interest_waived": waiver * interest,
                "deferral_months": np.full(group.height, deferral, dtype=np.int32),
                "trial_months": np.full(group.height, terms.trial_months, dtype=np.int32),
                "trial_instalment": terms.trial_instalment,
                "term_months": terms.term_months.astype(np.int32),
                "instalment": terms.instalment,
                "balloon": terms.balloon,
                "fee": terms.fee,
                "total_paid": terms.total_paid,
                "apr": terms.apr,
                "observation_months": terms.observation_months.astype(np.int32),
                "affordable": terms.affordable,
            },
            schema_overrides={"hardship_kind": pl.Utf8},
        )


_OFFER_SCHEMA = {
    "loan_id": pl.Utf8,
    "currency": pl.Utf8,
    "hardship_kind": pl.Utf8,
    "interest_waiver": pl.Float64,
    "interest_waived": pl.Float64,
    "deferral_months": pl.Int32,
    "trial_months": pl.Int32,
    "trial_instalment": pl.Float64,
    "term_months": pl.Int32,
    "instalment": pl.Float64,
    "balloon": pl.Float64,
    "fee": pl.Float64,
    "total_paid": pl.Float64,
    "apr": pl.Float64,
    "observation_months": pl.Int32,
    "affordable": pl.Boolean,
    "notice_zh": pl.Utf8,
    "notice_en": pl.Utf8,
}


def _two_decimals(value: pl.Expr) -> pl.Expr:
    """Text of a non-negative number with exactly two decimals (``1214.9`` -> ``"1214.90"``)."""
    cents = (value * 100).round(0).cast(pl.Int64)
    return pl.format("{}.{}", (cents // 100).cast(pl.Utf8), (cents % 100).cast(pl.Utf8).str.zfill(2))


def _notice(language: str, settings: HardshipSettings) -> pl.Expr:
    """Notice text per offer from the catalogue template ``plan.notice.body`` (vectorised with ``pl.format``)."""
    messages = catalogue(language)
    template = messages["plan.notice.body"]
    kinds = {kind: messages.get(f"plan.hardship_kind.{kind}", kind) for kind in HARDSHIP_KINDS}

    def money(name: str) -> pl.Expr:
        return _two_decimals(pl.col(name))

    fields = {
        "bank": pl.lit(settings.bank_name_zh if language == "zh-CN" else settings.bank_name_en),
        "hotline": pl.lit(settings.hotline),
        "kind": pl.col("hardship_kind").replace_strict(kinds, default=pl.col("hardship_kind")),
        "currency": pl.col("currency"),
        "waiver_pct": (pl.col("interest_waiver") * 100).round(0).cast(pl.Int64).cast(pl.Utf8),
        "deferral_months": pl.col("deferral_months").cast(pl.Utf8),
        "trial_months": pl.col("trial_months").cast(pl.Utf8),
        "trial_instalment": money("trial_instalment"),
        "term_months": pl.col("term_months").cast(pl.Utf8),
        "instalment": money("instalment"),
        "balloon": money("balloon"),
        "fee": money("fee"),
        "total_paid": money("total_paid"),
        "apr_pct": _two_decimals(pl.col("apr") * 100),
        "observation_months": pl.col("observation_months").cast(pl.Utf8),
    }
    parts = list(string.Formatter().parse(template))
    unknown = {name for _, name, _, _ in parts if name} - set(fields)
    if unknown:
        raise InputDataError(f"{_STAGE}: the notice template of {language} uses unknown fields {sorted(unknown)}; use {sorted(fields)}.")
    pattern = "".join(literal + ("{}" if name else "") for literal, name, _, _ in parts)
    values = [fields[name] for _, name, _, _ in parts if name]
    column = "notice_zh" if language == "zh-CN" else "notice_en"
    return pl.format(pattern, *values).alias(column)
