"""Recovery curves by segment, with sparse segments falling back to their parent.

Segments nest in the order of ``CurveModelSettings.segment_by``: with
``("product", "dpd_band")`` the levels are the whole book (``all``), each
product, and each product and DPD band. A segment gets its own chain-ladder
curve when it has at least ``min_segment_loans`` loans and the fit succeeds;
otherwise it uses the curve of its nearest ancestor that has one, and the
``fallbacks_`` table says so with the reason. A loan of a segment never seen
in the history walks up the same way.

``dpd_band`` is derived from ``dpd`` (days past due at the loan's as-of date,
which is the tape's cut-off for a tape) with the band edges of the settings.
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import polars as pl

from sanhua.errors import ModelError, NotFittedError
from sanhua.value.checks import InputDataError, bin_left_closed, require_columns
from sanhua.value.curves import RecoveryCurve
from sanhua.value.settings import CurveModelSettings

__all__ = ["SegmentedCurves", "dpd_band", "ROOT"]

logger = logging.getLogger(__name__)

_STAGE = "segmented curves"
ROOT = "all"
"""Key of the whole-book segment."""


def dpd_band(dpd: pl.Expr, edges: tuple[int, ...]) -> pl.Expr:
    """Label days past due by band: ``"<edge0"``, ``"edge0-edge1"``, ..., ``">=edgeN"``; null stays null."""
    labels = [f"<{edges[0]}"] + [f"{low}-{high}" for low, high in zip(edges[:-1], edges[1:], strict=True)] + [f">={edges[-1]}"]
    return bin_left_closed(dpd, list(edges), labels)


def _key_expr(columns: list[str]) -> pl.Expr:
    if not columns:
        return pl.lit(ROOT)
    return pl.concat_str([pl.format(f"{name}={{}}", pl.col(name).fill_null("unknown")) for name in columns], separator="|")


class SegmentedCurves:
    """Fit one recovery curve per segment and assign each loan the curve of its segment or nearest ancestor.

    Parameters
    ----------
    settings : CurveModelSettings or None
        Segment columns, minimum loans, curve parameters; defaults when None.

    Attributes
    ----------
    curves_ : dict of str to RecoveryCurve
        Fitted curves by segment key (``all`` always present).
    fallbacks_ : polars.DataFrame
        One row per segment seen in the history: ``segment``, ``level``
        (0 = whole book), ``loans``, ``curve`` (key of the curve used) and
        ``reason`` (``own``, ``sparse``: fewer loans than the minimum, or
        ``fit_failed`` with the error).
    """

    def __init__(self, settings: CurveModelSettings | None = None) -> None:
        self.settings = settings

    def _curve(self, settings: CurveModelSettings) -> RecoveryCurve:
        return RecoveryCurve(
            max_month=settings.max_month,
            cohort=settings.cohort,
            tail=settings.tail,
            band_level=settings.band_level,
            min_cohort_loans=settings.min_cohort_loans,
            recovery_cap=settings.recovery_cap,
        )

    def prepare(self, loans: pl.DataFrame) -> pl.DataFrame:
        """Add ``dpd_band`` and null-filled absent segment columns to ``loans`` (string-typed)."""
        settings = self.settings or CurveModelSettings()
        frame = loans
        if "dpd_band" in settings.segment_by:
            if "dpd" not in frame.columns:
                frame = frame.with_columns(pl.lit(None, dtype=pl.Int32).alias("dpd"))
            frame = frame.with_columns(dpd_band(pl.col("dpd").cast(pl.Float64), settings.dpd_band_edges).alias("dpd_band"))

        absent = [name for name in settings.segment_by if name not in frame.columns]
        if absent:
            logger.info("%s: segment column(s) %s absent; their segments read as 'unknown'", _STAGE, absent)
            frame = frame.with_columns([pl.lit(None, dtype=pl.Utf8).alias(name) for name in absent])
        return frame.with_columns([pl.col(name).cast(pl.Utf8) for name in settings.segment_by])

    def fit(self, outcomes: pl.DataFrame, loans: pl.DataFrame, cutoff_date: date | None = None) -> SegmentedCurves:
        """Fit the whole-book curve and every segment's curve with enough loans.

        Parameters
        ----------
        outcomes, loans, cutoff_date
            As for :meth:`RecoveryCurve.fit`; ``loans`` also carries the
            segment columns (``dpd`` for ``dpd_band``). Absent segment columns
            read as ``unknown``.

        Returns
        -------
        SegmentedCurves
            ``self``, fitted.

        Raises
        ------
        ModelError
            The whole-book curve cannot be fitted (see :meth:`RecoveryCurve.fit`).
        """
        settings = self.settings or CurveModelSettings()
        require_columns(loans, ["loan_id"], _STAGE)
        frame = self.prepare(loans)
        columns = list(settings.segment_by)

        root = self._curve(settings).fit(outcomes, loans, cutoff_date=cutoff_date)
        self.curves_: dict[str, RecoveryCurve] = {ROOT: root}
        rows = [{"segment": ROOT, "level": 0, "loans": frame.height, "curve": ROOT, "reason": "own"}]

        for level in range(1, len(columns) + 1):
            keyed = frame.with_columns(_key_expr(columns[:level]).alias("_segment"), _key_expr(columns[: level - 1]).alias("_parent"))
            counts = keyed.group_by("_segment", "_parent").len().sort("_segment")
            for segment, parent, count in counts.iter_rows():
                parent_curve = self._resolve(parent)
                if count < settings.min_segment_loans:
                    rows.append({"segment": segment, "level": level, "loans": count, "curve": parent_curve, "reason": "sparse"})
                    continue

                members = keyed.filter(pl.col("_segment") == segment).drop("_segment", "_parent")
                member_outcomes = outcomes.join(members.select("loan_id"), on="loan_id", how="semi")
                try:
                    self.curves_[segment] = self._curve(settings).fit(member_outcomes, members, cutoff_date=root.cutoff_date_)
                except (ModelError, InputDataError) as error:
                    rows.append(
                        {"segment": segment, "level": level, "loans": count, "curve": parent_curve, "reason": f"fit_failed: {error}"}
                    )
                    continue
                rows.append({"segment": segment, "level": level, "loans": count, "curve": segment, "reason": "own"})

        self.fallbacks_ = pl.DataFrame(
            rows, schema={"segment": pl.Utf8, "level": pl.Int32, "loans": pl.Int64, "curve": pl.Utf8, "reason": pl.Utf8}
        )
        fallen = self.fallbacks_.filter(pl.col("reason") != "own").height
        logger.info("%s: %d segment curve(s) fitted, %d segment(s) use an ancestor's curve", _STAGE, len(self.curves_), fallen)
        return self

    def _resolve(self, segment: str) -> str:
        """Return the key of the curve that ``segment`` uses: its own or its nearest fitted ancestor's."""
        key = segment
        while key not in self.curves_:
            key = key.rsplit("|", 1)[0] if "|" in key else ROOT
        return key

    def assign(self, loans: pl.DataFrame) -> pl.Series:
        """Return the curve key of each loan (its deepest segment with a fitted curve), in input order.

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called.
        """
        if not hasattr(self, "curves_"):
            raise NotFittedError("SegmentedCurves is not fitted: call fit(outcomes, loans) first.")

        settings = self.settings or CurveModelSettings()
        frame = self.prepare(loans)
        keys = frame.select(_key_expr(list(settings.segment_by)).alias("segment"))["segment"]
        mapping = {key: self._resolve(key) for key in keys.unique().to_list()}
        return keys.replace_strict(mapping, return_dtype=pl.Utf8).alias("curve")

    def marginal_matrix(self, keys: list[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Return the curve keys and their marginals, shape (n_curves, max_month)."""
        if not hasattr(self, "curves_"):
            raise NotFittedError("SegmentedCurves is not fitted: call fit(outcomes, loans) first.")
        keys = list(self.curves_) if keys is None else keys
        return keys, np.vstack([self.curves_[key].curve_["marginal"].to_numpy() for key in keys])

    def bands(self) -> pl.DataFrame:
        """Stack the bands of every fitted curve with a ``segment`` column."""
        if not hasattr(self, "curves_"):
            raise NotFittedError("SegmentedCurves is not fitted: call fit(outcomes, loans) first.")
        return pl.concat([curve.bands_.with_columns(pl.lit(key).alias("segment")) for key, curve in self.curves_.items()])
