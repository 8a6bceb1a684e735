"""Loan-level features from the canonical ``loans`` table.

Every feature is computed from the loan's state at its ``as_of_date``; the
loans table holds nothing later than that by construction. Durations are in
months of 30.4375 days (365.25 / 12); amounts are in the row's currency.
"""

from __future__ import annotations

import polars as pl

DAYS_PER_MONTH = 30.4375

# Loan columns used as categorical features when present.
LOAN_CATEGORICAL = ("product", "five_tier", "collateral", "litigation_status", "grade")


def _months_between(later: str, earlier: str) -> pl.Expr:
    return ((pl.col(later) - pl.col(earlier)).dt.total_days() / DAYS_PER_MONTH).cast(pl.Float64)


def loan_features(loans: pl.DataFrame) -> pl.DataFrame:
    """Build loan-level features, one row per loan.

    Parameters
    ----------
    loans : pl.DataFrame
        Canonical loans table (see :mod:`sanhua.tape.schema`).

    Returns
    -------
    pl.DataFrame
        ``loan_id`` and the features that the table's columns allow:
        ``log_ead`` (natural log of 1 + EAD), ``share_principal_repaid``
        (fraction of original principal repaid), ``months_on_book``,
        ``months_since_last_payment``, ``months_since_default`` (months),
        ``dpd`` (days), ``interest_rate`` (annual fraction), ``term_months``,
        ``installment``, ``written_off``, ``notarised`` (0/1) and the
        categorical columns of :data:`LOAN_CATEGORICAL`.
    """
    cols = set(loans.columns)
    exprs: list[pl.Expr] = [pl.col("loan_id")]

    if "exposure_at_default" in cols:
        exprs.append(pl.col("exposure_at_default").clip(lower_bound=0).log1p().alias("log_ead"))
    if {"principal_original", "principal_outstanding"} <= cols:
        repaid = 1 - pl.col("principal_outstanding") / pl.col("principal_original")
        exprs.append(
            pl.when(pl.col("principal_original") > 0).then(repaid).otherwise(None).alias("share_principal_repaid")
        )
    if "origination_date" in cols:
        exprs.append(_months_between("as_of_date", "origination_date").alias("months_on_book"))
    if "last_payment_date" in cols:
        exprs.append(_months_between("as_of_date", "last_payment_date").alias("months_since_last_payment"))
    if "default_date" in cols:
        exprs.append(_months_between("as_of_date", "default_date").alias("months_since_default"))
    if "maturity_date" in cols:
        exprs.append(_months_between("maturity_date", "as_of_date").alias("months_to_maturity"))

    for name in ("dpd", "interest_rate", "term_months", "installment"):
        if name in cols:
            exprs.append(pl.col(name).cast(pl.Float64))
    for name in ("written_off", "notarised"):
        if name in cols:
            exprs.append(pl.col(name).cast(pl.Float64))
    for name in LOAN_CATEGORICAL:
        if name in cols:
            exprs.append(pl.col(name).cast(pl.Utf8))

    return loans.select(exprs)
