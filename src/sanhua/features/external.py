"""Features from external data, used only where the record's legal basis allows.

A record whose ``legal_basis`` is not in the allowed set (default: consent,
contract, legal obligation) is refused: it never reaches a feature, and the
refusals are counted for the run report. Per debtor and field the latest
record on or before the loan's ``as_of_date`` is used.
"""

from __future__ import annotations

import polars as pl

# Known external fields: name -> how the text value is read.
NUMERIC_FIELDS = ("social_insurance_base", "court_enforcement_count", "consumption_index")
FLAG_FIELDS = ("dishonest_debtor",)
STATUS_FIELDS = {"social_insurance_status": {"active": 1.0, "lapsed": 0.5, "none": 0.0}}
HARDSHIP_FIELD = "hardship_event"
# Text fields kept for the strategy's policy rules (never model features): the hardship kind and the vulnerability.
HARDSHIP_KIND = "hardship_kind"
VULNERABILITY_FIELD = "vulnerability"
_NO_HARDSHIP = ("", "none", "no", "无", "否")
_TRUE_TEXT = ("1", "true", "yes", "y", "是")


def external_features(
    loans: pl.DataFrame,
    external: pl.DataFrame,
    borrower_key: str,
    allowed_bases: tuple[str, ...] = ("consent", "contract", "legal_obligation"),
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Pivot lawful external records into one row of features per loan.

    Parameters
    ----------
    loans : pl.DataFrame
        Canonical loans with ``loan_id``, ``as_of_date`` and ``borrower_key``.
    external : pl.DataFrame
        Canonical external table.
    borrower_key : str
        Column joining loans to the external table (the pseudonymised debtor id).
    allowed_bases : tuple of str
        Legal bases under which a record may be used.

    Returns
    -------
    features : pl.DataFrame
        ``loan_id`` with the numeric fields, ``social_insurance_status``
        (1 active, 0.5 lapsed, 0 none), ``dishonest_debtor`` (0/1) and
        ``hardship_event`` (bool: an event such as illness or job loss),
        ``hardship_kind`` (the event's text, null without one) and
        ``vulnerability`` (text such as ``serious_illness``, null when none).
        The two text columns feed the strategy's policy rules, never a model.
    refusals : dict
        ``{"records_refused": n, "debtors_affected": m}`` for records whose
        legal basis does not allow their use.
    """
    allowed = pl.col("legal_basis").is_in(list(allowed_bases))
    refused = external.filter(~allowed)
    refusals = {"records_refused": refused.height, "debtors_affected": refused[borrower_key].n_unique()}

    usable = (
        external.filter(allowed)
        .join(loans.select("loan_id", borrower_key, "as_of_date").rename({"as_of_date": "_cutoff"}), on=borrower_key)
        .filter(pl.col("as_of_date") <= pl.col("_cutoff"))
        .sort("as_of_date")
        .group_by("loan_id", "field")
        .agg(pl.col("value").last())
    )
    wide = usable.pivot(on="field", index="loan_id", values="value") if usable.height else pl.DataFrame(
        {"loan_id": pl.Series([], dtype=pl.Utf8)}
    )

    exprs: list[pl.Expr] = []
    for name in NUMERIC_FIELDS:
        source = pl.col(name) if name in wide.columns else pl.lit(None, dtype=pl.Utf8)
        exprs.append(source.cast(pl.Float64, strict=False).alias(name))
    for name in FLAG_FIELDS:
        source = pl.col(name) if name in wide.columns else pl.lit(None, dtype=pl.Utf8)
        exprs.append(
            pl.when(source.is_null()).then(None).otherwise(source.str.to_lowercase().is_in(_TRUE_TEXT).cast(pl.Float64)).alias(name)
        )
    for name, levels in STATUS_FIELDS.items():
        source = pl.col(name) if name in wide.columns else pl.lit(None, dtype=pl.Utf8)
        exprs.append(source.str.to_lowercase().replace_strict(levels, default=None, return_dtype=pl.Float64).alias(name))
    hardship = pl.col(HARDSHIP_FIELD) if HARDSHIP_FIELD in wide.columns else pl.lit(None, dtype=pl.Utf8)
    has_hardship = hardship.is_not_null() & ~hardship.str.to_lowercase().str.strip_chars().is_in(_NO_HARDSHIP)
    exprs.append(has_hardship.alias(HARDSHIP_FIELD))
    exprs.append(pl.when(has_hardship).then(hardship.str.strip_chars()).otherwise(None).alias(HARDSHIP_KIND))
    vulnerability = pl.col(VULNERABILITY_FIELD) if VULNERABILITY_FIELD in wide.columns else pl.lit(None, dtype=pl.Utf8)
    is_vulnerable = vulnerability.is_not_null() & ~vulnerability.str.to_lowercase().str.strip_chars().is_in(_NO_HARDSHIP)
    exprs.append(pl.when(is_vulnerable).then(vulnerability.str.strip_chars()).otherwise(None).alias(VULNERABILITY_FIELD))

    features = loans.select("loan_id").join(wide.select("loan_id", *exprs), on="loan_id", how="left").with_columns(
        pl.col(HARDSHIP_FIELD).fill_null(False)
    )
    return features, refusals
