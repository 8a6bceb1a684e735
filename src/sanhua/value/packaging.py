"""Bulk-transfer packages: eligibility by the transfer rules, homogeneous cells, size limits.

Heuristic (what it optimises)
-----------------------------
The goal is the largest total *sale gain*, the sum over sold packages of
net sale proceeds minus hold value, subject to every package having at
least ``min_debtors`` debtors and ``min_package_principal_cny`` principal.

1. **Eligibility.** Product in ``eligible_products``; unsecured when
   ``require_unsecured`` (collateral ``none``, or empty for the products in
   ``unsecured_when_collateral_unknown``); chosen action ``transfer`` when
   ``only_chosen_transfer``. A loan whose own sale gain is <= 0 (before the
   package's fixed due-diligence cost) stays with the bank: adding it can only
   lower its package's gain.
2. **Homogeneous cells.** Loans are grouped by currency and every column of
   ``homogeneity`` (``dpd_band`` and ``balance_band`` derived from the edges).
3. **Coarsening.** A cell below a minimum is pooled with the other small cells
   of the same parent (the key without its last column), repeatedly, up to
   currency alone; a cell that meets the minimums keeps its full key. Loans
   still below the minimums at the currency level are not packaged
   (reason ``too_small``).
4. **Splitting.** A cell above ``max_package_principal_cny`` is dealt round
   robin, in order of principal, into the fewest parts under the maximum, so
   the parts have similar balance profiles.

The package decision (sell or hold, with the due-diligence cost) is made per
package by :class:`sanhua.value.valuer.Valuer`.
"""

from __future__ import annotations

import logging

import polars as pl

from sanhua.value.checks import InputDataError, bin_left_closed, require_columns
from sanhua.value.segments import dpd_band
from sanhua.value.settings import PackagingSettings

__all__ = ["eligibility", "form_packages", "balance_band", "package_principal_check", "PACKAGE_INPUT_COLUMNS"]

logger = logging.getLogger(__name__)

_STAGE = "packaging"

PACKAGE_INPUT_COLUMNS: tuple[str, ...] = ("loan_id", "debtor", "currency", "principal_outstanding", "principal_cny", "sale_gain")
"""Columns :func:`form_packages` requires (plus the ``homogeneity`` columns other than the derived bands)."""


def balance_band(principal_cny: pl.Expr, edges: tuple[float, ...]) -> pl.Expr:
    """Label principal outstanding (CNY) by band, for example ``"10000-50000"``."""
    labels = [f"<{edges[0]:.0f}"] + [f"{low:.0f}-{high:.0f}" for low, high in zip(edges[:-1], edges[1:], strict=True)] + [f">={edges[-1]:.0f}"]
    return bin_left_closed(principal_cny, list(edges), labels)


def eligibility(frame: pl.DataFrame, settings: PackagingSettings) -> pl.Series:
    """Return why each loan may or may not be packaged, as a ``reason`` string per loan.

    Parameters
    ----------
    frame : polars.DataFrame
        ``product``, ``collateral`` (either may be null), ``action`` (chosen
        action or null) and ``sale_gain`` (net sale proceeds minus hold value
        of the loan alone); ``category`` when present (loans of
        ``candidate_categories`` skip the sale-gain rule).
    settings : PackagingSettings

    Returns
    -------
    polars.Series
        ``eligible``, ``ineligible_product``, ``secured``,
        ``not_chosen_for_transfer`` or ``sale_below_hold``, first failing
        rule first.
    """
    require_columns(frame, ["product", "collateral", "action", "sale_gain"], _STAGE)
    unsecured = (pl.col("collateral") == "none") | (
        pl.col("collateral").is_null() & pl.col("product").is_in(list(settings.unsecured_when_collateral_unknown))
    )
    chosen = pl.col("action").cast(pl.Utf8) == "transfer"
    # Loans of the candidate categories are packaged whatever their own sale gain; the package's decision follows.
    if "category" in frame.columns:
        candidate = pl.col("category").cast(pl.Utf8).is_in(list(settings.candidate_categories)).fill_null(False)
    else:
        candidate = pl.lit(False)
    reason = (
        pl.when(~pl.col("product").is_in(list(settings.eligible_products)).fill_null(False))
        .then(pl.lit("ineligible_product"))
        .when(pl.lit(settings.require_unsecured) & ~unsecured.fill_null(False))
        .then(pl.lit("secured"))
        .when(pl.lit(settings.only_chosen_transfer) & ~chosen.fill_null(False))
        .then(pl.lit("not_chosen_for_transfer"))
        .when((pl.col("sale_gain") <= 0) & ~candidate)
        .then(pl.lit("sale_below_hold"))
        .otherwise(pl.lit("eligible"))
    )
    return frame.select(reason.alias("reason"))["reason"]


def _meets(cells: pl.DataFrame, settings: PackagingSettings) -> pl.Expr:
    return (pl.col("debtors") >= settings.min_debtors) & (pl.col("principal_cny") >= settings.min_package_principal_cny)


def form_packages(frame: pl.DataFrame, settings: PackagingSettings) -> pl.DataFrame:
    """Group eligible loans into homogeneous packages within the size limits.

    Parameters
    ----------
    frame : polars.DataFrame
        Eligible loans only: :data:`PACKAGE_INPUT_COLUMNS` (``debtor`` is the
        debtor key, ``principal_cny`` principal outstanding in CNY) and the
        ``homogeneity`` columns (``dpd`` for ``dpd_band``).
    settings : PackagingSettings

    Returns
    -------
    polars.DataFrame
        ``loan_id``, ``package_id`` (``P0001`` ... or null when the loan is
        in no package), ``package_key`` (the homogeneity values the package
        shares, ``*`` where pooled) and ``package_reason`` (``packaged`` or
        ``too_small``), in input order.

    Raises
    ------
    InputDataError
        A required column is missing.
    """
    require_columns(frame, PACKAGE_INPUT_COLUMNS, _STAGE)
    columns = list(settings.homogeneity)
    work = frame.with_row_index("_row")
    if "dpd_band" in columns:
        require_columns(work, ["dpd"], _STAGE)
        work = work.with_columns(dpd_band(pl.col("dpd").cast(pl.Float64), settings.dpd_band_edges).alias("dpd_band"))
    if "balance_band" in columns:
        work = work.with_columns(balance_band(pl.col("principal_cny"), settings.balance_band_edges_cny).alias("balance_band"))
    require_columns(work, columns, _STAGE)
    work = work.with_columns([pl.col(name).cast(pl.Utf8).fill_null("unknown") for name in columns])

    # Start from the full key; pool cells below the minimums into their parent, level by level.
    work = work.with_columns(pl.lit(len(columns)).alias("_depth"))
    for depth in range(len(columns), -1, -1):
        key = pl.concat_str([pl.col("currency"), *[pl.when(pl.lit(i < depth)).then(pl.col(c)).otherwise(pl.lit("*")) for i, c in enumerate(columns)]], separator="|")
        current = work.filter(pl.col("_depth") == depth).with_columns(key.alias("_key"))
        if current.height == 0:
            continue
        cells = current.group_by("_key").agg(pl.col("debtor").n_unique().alias("debtors"), pl.col("principal_cny").sum())
        small = cells.filter(~_meets(cells, settings))["_key"]
        demote = current.filter(pl.col("_key").is_in(small.implode())).select("_row")
        if depth > 0:
            work = work.with_columns(
                pl.when(pl.col("_row").is_in(demote["_row"].implode())).then(pl.lit(depth - 1)).otherwise(pl.col("_depth")).alias("_depth")
            )
        else:
            work = work.with_columns(
                pl.when(pl.col("_row").is_in(demote["_row"].implode())).then(pl.lit(-1)).otherwise(pl.col("_depth")).alias("_depth")
            )

    key = pl.concat_str(
        [pl.col("currency"), *[pl.when(pl.lit(i) < pl.col("_depth")).then(pl.col(c)).otherwise(pl.lit("*")) for i, c in enumerate(columns)]],
        separator="|",
    )
    work = work.with_columns(pl.when(pl.col("_depth") >= 0).then(key).alias("package_key"))

    # Split cells above the maximum into round-robin parts by principal.
    work = work.with_columns(
        pl.col("principal_cny").sum().over("package_key").alias("_cell_principal"),
        pl.col("principal_cny").rank("ordinal", descending=True).over("package_key").alias("_rank"),
    ).with_columns(
        (pl.col("_cell_principal") / settings.max_package_principal_cny).ceil().clip(1, None).cast(pl.Int64).alias("_parts")
    ).with_columns(((pl.col("_rank") - 1) % pl.col("_parts")).alias("_part"))

    labels = (
        work.filter(pl.col("package_key").is_not_null())
        .select("package_key", "_part")
        .unique()
        .sort("package_key", "_part")
        .with_row_index("_n", offset=1)
        .with_columns(pl.format("P{}", pl.col("_n").cast(pl.Utf8).str.zfill(4)).alias("package_id"))
        .drop("_n")
    )
    result = (
        work.join(labels, on=["package_key", "_part"], how="left")
        .sort("_row")
        .select(
            "loan_id",
            "package_id",
            "package_key",
            pl.when(pl.col("package_id").is_null()).then(pl.lit("too_small")).otherwise(pl.lit("packaged")).alias("package_reason"),
        )
    )
    logger.info(
        "%s: %d loans in %d package(s), %d left out as too small",
        _STAGE,
        result.filter(pl.col("package_id").is_not_null()).height,
        labels.height,
        result.filter(pl.col("package_id").is_null()).height,
    )
    if result.height != frame.height:
        raise InputDataError(f"{_STAGE}: loan_id must be unique among the loans to package.")
    return result


def package_principal_check(result: pl.DataFrame, frame: pl.DataFrame, settings: PackagingSettings) -> pl.DataFrame:
    """Return one row per package with ``debtors``, ``principal_cny`` and whether it meets the minimums (for tests and the report)."""
    joined = frame.join(result, on="loan_id").filter(pl.col("package_id").is_not_null())
    cells = joined.group_by("package_id").agg(pl.col("debtor").n_unique().alias("debtors"), pl.col("principal_cny").sum())
    return cells.with_columns(_meets(cells, settings).alias("meets_minimums")).sort("package_id")

