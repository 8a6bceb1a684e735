"""Assemble the point-in-time feature table of a tape and its feature groups.

:class:`FeatureSet` is the container of this stage: one row per loan, the
names of the willingness, ability and recovery feature groups, and the flags
the segmentation uses (``hardship``, ``lost_contact``). Protected and
sensitive attributes (gender, age, region) are never in a group.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import polars as pl

from sanhua.features.events import collection_features, contact_features, repayment_features
from sanhua.features.external import HARDSHIP_FIELD, HARDSHIP_KIND, VULNERABILITY_FIELD, external_features
from sanhua.features.loan import DAYS_PER_MONTH, LOAN_CATEGORICAL, loan_features

logger = logging.getLogger(__name__)

# Never model features: protected attributes, the sensitive region, ids and dates.
EXCLUDED = frozenset({"gender", "age", "birth_date", "region", "loan_id", "source_row", "currency", "as_of_date"})

# Canonical features by group; the profile's [features] lists add source extras.
WILLINGNESS_BASE = (
    "share_principal_repaid",
    "months_on_book",
    "months_since_last_payment",
    "n_payments",
    "share_months_paid",
    "payment_gap_cv",
    "days_since_last_repayment",
    "paid_total_to_ead",
    "n_contacts",
    "contact_rate",
    "right_party_contacts",
    "promises_made",
    "promise_kept_rate",
    "promise_share",
    "refusal_share",
    "broken_promise_streak",
    "refusals",
    "disputes",
    "complaints",
    "days_since_last_contact",
    "dpd",
    "months_since_default",
)
ABILITY_BASE = (
    "income_annual",
    "employment",
    "employment_years",
    "installment_to_income",
    "ead_to_income",
    "social_insurance_status",
    "social_insurance_base",
    "court_enforcement_count",
    "dishonest_debtor",
    "consumption_index",
    "n_contacts_graph",
    "n_reachable_contacts",
    "log_ead",
)
LOAN_BASE = (
    "months_to_maturity",
    "interest_rate",
    "term_months",
    "installment",
    "written_off",
    "notarised",
    *LOAN_CATEGORICAL,
)

# Lost contact: no valid phone, no right-party contact in this many days, no reachable contact.
LOST_CONTACT_DAYS = 180


@dataclass
class FeatureSet:
    """Features of one tape.

    Attributes
    ----------
    frame : pl.DataFrame
        One row per loan: ``loan_id`` and every feature column.
    groups : dict of str to list of str
        ``willingness``, ``ability`` and ``recovery`` feature names present in
        ``frame``. Willingness and ability share no column.
    categorical : list of str
        Feature columns holding category labels (text).
    flags : pl.DataFrame
        ``loan_id``, ``hardship`` and ``lost_contact`` (bool), and the text
        of the lawful external records on the debtor's ``hardship_event``
        (kind, such as ``job_loss``) and ``vulnerability`` (such as
        ``serious_illness``), null when none: inputs of the strategy's
        policy rules, never of a model.
    refusals : dict
        External records refused for lack of a legal basis.
    """

    frame: pl.DataFrame
    groups: dict[str, list[str]]
    categorical: list[str]
    flags: pl.DataFrame
    refusals: dict[str, int] = field(default_factory=dict)


def _borrower_key(frame: pl.DataFrame) -> str | None:
    for name in ("borrower_id_hash", "borrower_id"):
        if name in frame.columns:
            return name
    return None


def _borrower_features(loans: pl.DataFrame, borrowers: pl.DataFrame, key: str) -> pl.DataFrame:
    wanted = [c for c in ("income_annual", "employment", "employment_years", "phone_valid", "phone_hash") if c in borrowers.columns]
    per_debtor = borrowers.unique(subset=[key], keep="first").select(key, *wanted)
    frame = loans.select("loan_id", key, *[c for c in ("installment", "exposure_at_default") if c in loans.columns]).join(
        per_debtor, on=key, how="left"
    )
    exprs: list[pl.Expr] = [pl.col("loan_id")]
    for name in wanted:
        exprs.append(pl.col(name))
    if "income_annual" in wanted:
        monthly_income = pl.col("income_annual") / 12
        if "installment" in frame.columns:
            exprs.append(
                pl.when(monthly_income > 0).then(pl.col("installment") / monthly_income).otherwise(None).alias("installment_to_income")
            )
        if "exposure_at_default" in frame.columns:
            exprs.append(
                pl.when(pl.col("income_annual") > 0)
                .then(pl.col("exposure_at_default") / pl.col("income_annual"))
                .otherwise(None)
                .alias("ead_to_income")
            )
    return frame.select(exprs)


def _lost_contact(frame: pl.DataFrame, has_events: bool, has_contacts: bool) -> pl.Expr:
    # A phone column that is empty on every row (a tape without phones, such as LendingClub) is no evidence.
    has_phones = "phone_valid" in frame.columns and frame["phone_valid"].null_count() < frame.height
    no_phone = ~pl.col("phone_valid").fill_null(False) if has_phones else pl.lit(False)
    if has_events:
        silent = pl.col("days_since_last_contact").is_null() | (pl.col("days_since_last_contact") > LOST_CONTACT_DAYS)
    else:
        silent = pl.lit(False)
    unreachable = (pl.col("n_reachable_contacts") == 0) if has_contacts else pl.lit(True)
    # Without any contact evidence (no events table, no phone on any row) no loan is flagged.
    if not has_events and not has_phones:
        return pl.lit(False)
    return ((no_phone | silent) & unreachable).alias("lost_contact")


def build_features(tape, extra_groups: dict[str, tuple[str, ...]] | None = None) -> FeatureSet:
    """Build the point-in-time features of every loan in ``tape``.

    Parameters
    ----------
    tape : sanhua.tape.load.Tape
        A loaded, validated and pseudonymised tape.
    extra_groups : dict, optional
        Source extras per group (``willingness``, ``ability``); defaults to
        the profile's ``[features]`` section.

    Returns
    -------
    FeatureSet
    """
    started = time.perf_counter()
    loans = tape.loans
    key = _borrower_key(loans)
    if extra_groups is None:
        extra_groups = dict(tape.profile.features)

    frame = loan_features(loans)
    refusals: dict[str, int] = {"records_refused": 0, "debtors_affected": 0}
    hardship = pl.lit(False)

    borrowers = tape.table("borrowers")
    if borrowers is not None and key is not None and key in borrowers.columns:
        frame = frame.join(_borrower_features(loans, borrowers, key), on="loan_id", how="left")

    repayments = tape.table("repayments")
    if repayments is not None and repayments.height:
        frame = frame.join(repayment_features(loans, repayments), on="loan_id", how="left")

    events = tape.table("collection_events")
    has_events = events is not None and events.height > 0
    if has_events:
        frame = frame.join(collection_features(loans, events), on="loan_id", how="left")

    contacts = tape.table("contacts")
    has_contacts = contacts is not None and key is not None and key in contacts.columns
    if has_contacts:
        frame = frame.join(contact_features(loans, contacts, key), on="loan_id", how="left")

    external = tape.table("external")
    if external is not None and key is not None and key in external.columns:
        ext, refusals = external_features(loans, external, key)
        frame = frame.join(ext, on="loan_id", how="left")
        hardship = pl.col(HARDSHIP_FIELD).fill_null(False)

    # Source extras declared by the profile (numeric or text) come straight from loans.
    extras = [c for c in tape.feature_columns if c in loans.columns and c not in frame.columns and c not in EXCLUDED]
    if extras:
        # A date extra becomes its age in months at the cut-off, so no calendar date reaches a model.
        exprs = [
            ((pl.col("as_of_date") - pl.col(c)).dt.total_days() / DAYS_PER_MONTH).alias(c) if loans.schema[c] == pl.Date else pl.col(c)
            for c in extras
        ]
        frame = frame.join(loans.select("loan_id", *exprs), on="loan_id", how="left")

    flags = frame.select(
        "loan_id",
        hardship.alias("hardship") if HARDSHIP_FIELD in frame.columns else pl.lit(False).alias("hardship"),
        _lost_contact(frame, has_events, has_contacts).alias("lost_contact"),
        *[
            (pl.col(name) if name in frame.columns else pl.lit(None, dtype=pl.Utf8)).alias(alias)
            for name, alias in ((HARDSHIP_KIND, "hardship_event"), (VULNERABILITY_FIELD, "vulnerability"))
        ],
    )

    present = set(frame.columns) - EXCLUDED - {"phone_valid", "phone_hash", HARDSHIP_FIELD, HARDSHIP_KIND, VULNERABILITY_FIELD}
    willingness = list(dict.fromkeys(c for c in (*WILLINGNESS_BASE, *extra_groups.get("willingness", ())) if c in present))
    ability = list(
        dict.fromkeys(c for c in (*ABILITY_BASE, *extra_groups.get("ability", ())) if c in present and c not in willingness)
    )
    loan_only = [c for c in LOAN_BASE if c in present]
    recovery = list(dict.fromkeys([*willingness, *ability, *loan_only]))
    categorical = [c for c in recovery if frame.schema[c] in (pl.Utf8, pl.String, pl.Categorical)]
    bool_cols = [c for c in recovery if frame.schema[c] == pl.Boolean]
    if bool_cols:
        frame = frame.with_columns([pl.col(c).cast(pl.Float64) for c in bool_cols])

    logger.info(
        "features built: %d loans, %d willingness, %d ability, %d recovery features in %.2f s",
        frame.height,
        len(willingness),
        len(ability),
        len(recovery),
        time.perf_counter() - started,
    )
    return FeatureSet(
        frame=frame.select("loan_id", *recovery),
        groups={"willingness": willingness, "ability": ability, "recovery": recovery},
        categorical=categorical,
        flags=flags,
        refusals=refusals,
    )
