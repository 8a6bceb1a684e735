"""Category rules: A (repair), B (transform), C (quick exit) from willingness and ability.

The rules follow the three-category disposal model. A is *repairable*:
willing but temporarily unable, so restructure. B is *negotiable*: wavering
willingness that outside intervention can steer by mediation, settlement or
outsourcing. C is *to dispose*: no willingness, or contact lost, so batch
litigation or bulk transfer.

Rules, first match wins:

=====================  ===============================================  ========
rule (``segment_rule``)  condition                                       category
=====================  ===============================================  ========
``lost_contact``       ``lost_contact`` is true                         C
``hardship``           ``hardship`` is true (relief programme)          A
``wavering``           ``willing_low <= willingness < willing_high``    B
``willing_unable``     willing, ``ability < able_min``                  A
``willing_able``       willing and able (short plan, ``short_plan``)    A
``able_unwilling``     unwilling, able (pressure or mediation moves it) B [#]_
``unwilling_unable``   unwilling and unable                             C
=====================  ===============================================  ========

.. [#] ``SegmentSettings.able_unwilling_category`` can send this quadrant to C.

"Willing" means ``willingness >= willing_high``, "unwilling" means
``willingness < willing_low``, "able" means ``ability >= able_min``.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

from sanhua.value.checks import InputDataError, check_unit_interval, fill_false, require_columns
from sanhua.value.params import assumption_rows, param

__all__ = ["SegmentSettings", "Segmenter", "CATEGORIES", "SEGMENT_RULES"]

logger = logging.getLogger(__name__)

CATEGORIES: tuple[str, ...] = ("A", "B", "C")
"""Disposal categories: A repair, B transform, C quick exit."""

SEGMENT_RULES: dict[str, str] = {
    "lost_contact": "C",
    "hardship": "A",
    "wavering": "B",
    "willing_unable": "A",
    "willing_able": "A",
    "able_unwilling": "B",
    "unwilling_unable": "C",
}
"""Rule codes with their default category, in order of precedence."""

_STAGE = "segment"


class SegmentSettings(BaseModel):
    """Thresholds of the category rules.

    The cut-offs apply to calibrated probabilities (``willingness``: the
    debtor engages and pays voluntarily; ``ability``: the debtor can pay the
    configured share of the balance), so 0.5 is the even-odds point. No
    published source fixes them: each bank sets them against its capacity.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    willing_high: float = param(
        0.6, "Willingness at or above which a debtor counts as willing.", unit="probability", ge=0, le=1
    )
    willing_low: float = param(
        0.4,
        "Willingness below which a debtor counts as unwilling; the band [willing_low, willing_high) is 'wavering' (category B).",
        unit="probability",
        ge=0,
        le=1,
    )
    able_min: float = param(0.5, "Ability at or above which a debtor counts as able to pay.", unit="probability", ge=0, le=1)
    able_unwilling_category: Literal["B", "C"] = param(
        "B",
        "Category of able but unwilling debtors: B when outside pressure or mediation is expected to move them, C to send them straight to quick exit.",
        unit="category",
    )
    hardship_overrides: bool = param(
        True,
        "A debtor flagged in hardship goes to A (relief) unless contact is lost, whatever the scores say.",
        unit="flag",
        policy=True,
    )

    @model_validator(mode="after")
    def _check_band(self) -> SegmentSettings:
        if self.willing_low > self.willing_high:
            raise ValueError(
                f"willing_low ({self.willing_low}) must not exceed willing_high ({self.willing_high}); "
                "the wavering band is [willing_low, willing_high)."
            )
        return self

    def assumptions(self) -> list[dict[str, object]]:
        """Return every parameter with its value, unit, source and tag (for run.json)."""
        return assumption_rows(self, prefix="segment.")


class Segmenter:
    """Assign each loan its disposal category and the rule that decided it.

    Parameters
    ----------
    settings : SegmentSettings or None
        Thresholds; defaults when None.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"loan_id": ["a", "b"], "willingness": [0.9, 0.1],
    ...                       "ability": [0.2, 0.1], "hardship": [False, None],
    ...                       "lost_contact": [None, False]})
    >>> Segmenter().run(frame)["category"].to_list()
    ['A', 'C']
    """

    def __init__(self, settings: SegmentSettings | None = None) -> None:
        self.settings = settings

    def run(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add ``category``, ``segment_rule`` and ``short_plan`` to ``frame``.

        Parameters
        ----------
        frame : polars.DataFrame
            One row per loan with ``loan_id``, ``willingness`` and ``ability``
            (floats in [0, 1]), ``hardship`` and ``lost_contact`` (Boolean,
            null read as false). Other columns pass through unchanged.

        Returns
        -------
        polars.DataFrame
            ``frame`` in the same row order with ``hardship`` and
            ``lost_contact`` null-filled, plus ``category`` ("A", "B", "C"),
            ``segment_rule`` (a code of :data:`SEGMENT_RULES`) and
            ``short_plan`` (True for willing and able debtors, who get a short
            repayment plan rather than a full restructuring).

        Raises
        ------
        InputDataError
            A required column is missing; a score is null, NaN or outside
            [0, 1]; a flag column is not Boolean.
        """
        settings = self.settings if self.settings is not None else SegmentSettings()
        if not isinstance(settings, SegmentSettings):
            raise InputDataError(f"{_STAGE}: settings must be a SegmentSettings, got {type(settings).__name__}.")

        started = time.perf_counter()

        require_columns(frame, ["loan_id", "willingness", "ability", "hardship", "lost_contact"], _STAGE)
        check_unit_interval(frame, ["willingness", "ability"], _STAGE)
        frame = fill_false(frame, ["hardship", "lost_contact"], _STAGE)

        willing = pl.col("willingness") >= settings.willing_high
        unwilling = pl.col("willingness") < settings.willing_low
        able = pl.col("ability") >= settings.able_min
        hardship = pl.col("hardship") if settings.hardship_overrides else pl.lit(False)

        rule = (
            pl.when(pl.col("lost_contact"))
            .then(pl.lit("lost_contact"))
            .when(hardship)
            .then(pl.lit("hardship"))
            .when(~willing & ~unwilling)
            .then(pl.lit("wavering"))
            .when(willing & ~able)
            .then(pl.lit("willing_unable"))
            .when(willing & able)
            .then(pl.lit("willing_able"))
            .when(able)
            .then(pl.lit("able_unwilling"))
            .otherwise(pl.lit("unwilling_unable"))
        )

        categories = dict(SEGMENT_RULES, able_unwilling=settings.able_unwilling_category)
        out = frame.with_columns(rule.alias("segment_rule")).with_columns(
            pl.col("segment_rule").replace_strict(categories, return_dtype=pl.Utf8).alias("category"),
            (pl.col("segment_rule") == "willing_able").alias("short_plan"),
        )

        counts = out.group_by("category").len().sort("category")
        logger.info(
            "segment: %d loans in %.3f s; by category %s",
            out.height,
            time.perf_counter() - started,
            dict(zip(counts["category"].to_list(), counts["len"].to_list(), strict=True)),
        )
        return out
