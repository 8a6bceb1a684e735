"""Fairness of the disposal plan across protected and sensitive groups.

The favourable outcome is defined once, in :func:`favourable_outcome`: the
debtor is offered a non-litigation path. The unit of the analysis is the
debtor (``borrower_id``); a debtor gets the favourable outcome only when every
one of their loans does. Tapes without a debtor id use the loan as the unit.

Attributes (never model features, see :mod:`sanhua.features.build`):

- ``gender`` (``borrowers.gender``);
- ``age_band``: ``borrowers.age``, else the whole years from
  ``borrowers.birth_date`` to the loan's ``as_of_date``, cut into the bands of
  :attr:`FairnessSettings.age_bands`;
- ``region``: ``borrowers.region`` (residence), else ``loans.region``.

A debtor whose attribute is empty is counted in the group ``(missing)``,
which is reported and never judged.

Metrics per attribute follow fairlearn's definitions (fairlearn 0.15,
``fairlearn.metrics``):

- favourable-outcome rate per group: ``selection_rate``;
- demographic-parity ratio and difference: ``demographic_parity_ratio`` and
  ``demographic_parity_difference`` (min over max, and max minus min, of the
  group rates);
- equal-opportunity difference: ``equal_opportunity_difference``, the
  largest difference between groups in the true-positive rate of the
  favourable outcome among qualified debtors (realised outcome shows them
  willing, able or either, :attr:`FairnessSettings.qualified`);
- calibration per group: mean predicted willingness and ability against the
  observed willing and able rates (``mean_prediction`` against the mean of
  the realised flag). A group fails when either gap exceeds
  :attr:`FairnessSettings.calibration_gap_max`.

The last two need realised outcomes, so they appear on a history or a tape
with an outcomes table. A group smaller than
:attr:`FairnessSettings.min_group_debtors` is reported but not judged.

Mitigation: a per-group threshold search. For each judged group whose rate
is below ``parity_ratio_min`` times the highest group rate, the category
thresholds of the segmenter (``willing_low``, ``willing_high``, ``able_min``)
are lowered by the smallest shift, found by bisection, that lifts the group
to that rate. The segmenter and the action valuer then run again with the
adjusted categories, and the change in ``action_value`` and
``expected_recovery_pv`` is the cost of the adjustment.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    mean_prediction,
    selection_rate,
    true_positive_rate,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sanhua.assess.settings import TargetSettings
from sanhua.assess.targets import build_targets
from sanhua.errors import InputDataError, ModelError
from sanhua.segment.rules import SegmentSettings, Segmenter
from sanhua.strategy import ActionValuer
from sanhua.strategy.settings import StrategySettings
from sanhua.strategy.valuer import ActionResult
from sanhua.tape.load import Tape
from sanhua.value.curves import RecoveryCurve
from sanhua.value.params import assumption_rows, param

__all__ = [
    "ADVERSE_ACTIONS",
    "ATTRIBUTES",
    "FAVOURABLE_CATEGORIES",
    "MISSING_GROUP",
    "FairnessAudit",
    "FairnessResult",
    "FairnessRun",
    "FairnessSettings",
    "audit_tape",
    "favourable_outcome",
    "protected_attributes",
    "realised_flags",
]

logger = logging.getLogger(__name__)

Replan = Callable[[pl.DataFrame], tuple[pl.DataFrame, ActionResult]]
"""Chooses the actions of a frame without them: returns the frame with ``action``, ``action_value``
and ``expected_recovery_pv``, and the action values."""

FAVOURABLE_CATEGORIES: tuple[str, ...] = ("A", "B")
"""Categories that put the debtor on a non-litigation path (A repair, B transform)."""

ADVERSE_ACTIONS: tuple[str, ...] = ("litigate", "transfer")
"""Actions that take the debtor off a negotiated path: a lawsuit or a bulk transfer of the debt."""

ATTRIBUTES: tuple[str, ...] = ("gender", "age_band", "region")
"""Protected (gender, age) and sensitive (region) attributes the audit groups by."""

MISSING_GROUP = "(missing)"
"""Group of the debtors whose attribute is empty: reported, never judged."""

_BISECTION_STEPS = 20
_SUMMARY_SCHEMA = {
    "attribute": pl.Utf8,
    "groups": pl.Int64,
    "judged_groups": pl.Int64,
    "parity_ratio": pl.Float64,
    "parity_difference": pl.Float64,
    "equal_opportunity_difference": pl.Float64,
    "passes_parity": pl.Boolean,
    "passes_equal_opportunity": pl.Boolean,
    "max_calibration_gap": pl.Float64,
    "passes_calibration": pl.Boolean,
    "passes": pl.Boolean,
    "failing_groups": pl.List(pl.Utf8),
    "debtors_in_failing_groups": pl.Int64,
    "affected_debtors": pl.Int64,
    "affected_share": pl.Float64,
}
_SCORED_COLUMNS = ("loan_id", "willingness", "ability", "category", "action")
_PLAN_COLUMNS = ("category", "segment_rule", "short_plan", "action", "action_value", "expected_recovery_pv")


def favourable_outcome() -> pl.Expr:
    """Return the favourable outcome of a loan as a Boolean expression.

    The favourable outcome is being offered a non-litigation path: the loan's
    ``category`` is A or B, or its chosen ``action`` is neither ``litigate``
    nor ``transfer``. A category-C loan that is held or outsourced is
    therefore favourable, and so is a category-B loan whose best action is a
    lawsuit.
    """
    return pl.col("category").is_in(FAVOURABLE_CATEGORIES) | ~pl.col("action").cast(pl.Utf8).is_in(ADVERSE_ACTIONS)


class FairnessSettings(BaseModel):
    """Attributes, limits and mitigation of the fairness audit (``[fairness]`` in the configuration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = param(True, "Audit every run whose tape carries a protected or sensitive attribute.", unit="flag", policy=True)
    attributes: tuple[Literal["gender", "age_band", "region"], ...] = Field(
        ATTRIBUTES, description="Attributes to audit; an attribute the tape does not carry is skipped."
    )
    age_bands: tuple[int, ...] = param(
        (30, 45, 60),
        "Lower edges of the age bands after the first, in whole years: (30, 45, 60) gives <30, 30-44, 45-59 and 60+.",
        unit="years",
    )
    min_group_debtors: int = param(
        30,
        "Smallest group that is judged; smaller groups are reported but their rates are too noisy to pass or fail.",
        unit="debtors",
        ge=1,
    )
    parity_ratio_min: float = param(
        0.8,
        "Smallest allowed ratio of a group's favourable-outcome rate to the highest group's rate (four-fifths rule).",
        unit="ratio",
        source=(
            "US EEOC Uniform Guidelines on Employee Selection Procedures (1978), 29 CFR 1607.4(D): a selection rate "
            "below four-fifths of the highest group's rate is generally regarded as evidence of adverse impact "
            "(a rule of thumb, not a legal test)"
        ),
        gt=0,
        le=1,
    )
    equal_opportunity_difference_max: float = param(
        0.1,
        "Largest allowed difference between groups in the rate of favourable outcomes among qualified debtors.",
        unit="probability",
        ge=0,
        le=1,
    )
    calibration_gap_max: float = param(
        0.1,
        "Largest allowed gap between a group's mean predicted willingness (or ability) and its observed willing (or able) rate, "
        "judged where realised outcomes exist.",
        unit="probability",
        ge=0,
        le=1,
    )
    qualified: Literal["willing", "able", "willing_or_able"] = param(
        "willing",
        "Realised outcome that makes a debtor qualified for a non-litigation path in the equal-opportunity metric: "
        "willing (engaged or paid voluntarily), able (paid the ability share) or either.",
        unit="target",
    )
    mitigation: Literal["none", "threshold"] = param(
        "none",
        "none: report the cost of the threshold adjustment but keep the plan; threshold: apply the per-group thresholds to the plan.",
        unit="option",
        policy=True,
    )
    max_threshold_shift: float = param(
        0.3,
        "Largest amount by which the mitigation may lower a group's category thresholds.",
        unit="probability",
        gt=0,
        le=1,
    )

    @field_validator("age_bands")
    @classmethod
    def _check_bands(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("age_bands must hold at least one edge, for example (30, 45, 60)")
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError(f"age_bands must be strictly increasing, got {list(value)}")
        if value[0] <= 0 or value[-1] >= 120:
            raise ValueError(f"age_bands must lie between 1 and 119 years, got {list(value)}")
        return value

    def assumptions(self) -> list[dict[str, object]]:
        """Return every parameter with its value, unit, source and tag (for run.json)."""
        return assumption_rows(self, prefix="fairness.")

    def band_labels(self) -> list[str]:
        """Return the age-band labels in order: ``<30``, ``30-44``, ``45-59``, ``60+`` for the default edges."""
        edges = self.age_bands
        labels = [f"<{edges[0]}"]
        labels += [f"{low}-{high - 1}" for low, high in zip(edges, edges[1:])]
        labels.append(f"{edges[-1]}+")
        return labels


# --------------------------------------------------------------- inputs


def _debtor_key(loans: pl.DataFrame) -> str | None:
    for name in ("borrower_id_hash", "borrower_id"):
        if name in loans.columns and loans[name].null_count() < loans.height:
            return name
    return None


def _has_values(frame: pl.DataFrame | None, name: str) -> bool:
    return frame is not None and name in frame.columns and frame[name].null_count() < frame.height


def protected_attributes(loans: pl.DataFrame, borrowers: pl.DataFrame | None, settings: FairnessSettings | None = None) -> pl.DataFrame:
    """Build one row per loan with its debtor and the debtor's groups.

    Parameters
    ----------
    loans : polars.DataFrame
        Canonical loans with ``loan_id`` and, when known, ``borrower_id_hash``
        (or ``borrower_id``), ``as_of_date`` and ``region``.
    borrowers : polars.DataFrame or None
        Canonical borrowers keyed by the same debtor id, with any of
        ``gender``, ``age``, ``birth_date`` and ``region``.
    settings : FairnessSettings or None
        Attributes and age bands; defaults when None.

    Returns
    -------
    polars.DataFrame
        ``loan_id``, ``debtor_id`` (the loan id when the tape has no debtor
        id) and one Utf8 column per attribute the tape carries among
        ``settings.attributes``, with :data:`MISSING_GROUP` for empty values.
    """
    settings = settings or FairnessSettings()
    key = _debtor_key(loans)
    debtor = pl.coalesce(pl.col(key), pl.lit("loan:") + pl.col("loan_id")) if key else pl.lit("loan:") + pl.col("loan_id")
    frame = loans.select(
        "loan_id",
        debtor.alias("debtor_id"),
        *([pl.col("as_of_date")] if "as_of_date" in loans.columns else []),
        *([pl.col("region").alias("_loan_region")] if "region" in loans.columns else []),
    )

    people = None
    if key is not None and borrowers is not None and key in borrowers.columns:
        wanted = [c for c in ("gender", "age", "birth_date", "region") if c in borrowers.columns]
        people = borrowers.select(pl.col(key).alias("debtor_id"), *wanted).unique(subset="debtor_id", keep="first", maintain_order=True)
        frame = frame.join(people, on="debtor_id", how="left")

    columns = []
    if "gender" in settings.attributes and _has_values(people, "gender"):
        columns.append(pl.col("gender").cast(pl.Utf8).alias("gender"))
    if "age_band" in settings.attributes:
        age = _age_years(frame, people)
        if age is not None:
            columns.append(_age_band(age, settings).alias("age_band"))
    if "region" in settings.attributes:
        sources = []
        if _has_values(people, "region"):
            sources.append(pl.col("region").cast(pl.Utf8))
        if _has_values(frame, "_loan_region"):
            sources.append(pl.col("_loan_region").cast(pl.Utf8))
        if sources:
            columns.append(pl.coalesce(sources).alias("region"))

    out = frame.select("loan_id", "debtor_id", *columns)
    return out.with_columns(pl.col(name).fill_null(MISSING_GROUP) for name in out.columns[2:])


def _age_years(frame: pl.DataFrame, people: pl.DataFrame | None) -> pl.Expr | None:
    sources = []
    if _has_values(people, "age"):
        sources.append(pl.col("age").cast(pl.Int64))
    if _has_values(people, "birth_date") and "as_of_date" in frame.columns:
        # Whole years: one fewer when the birthday falls after the as-of day in its year.
        def month_day(name: str) -> pl.Expr:
            return pl.col(name).dt.month().cast(pl.Int32) * 100 + pl.col(name).dt.day().cast(pl.Int32)

        before_birthday = month_day("as_of_date") < month_day("birth_date")
        years = pl.col("as_of_date").dt.year().cast(pl.Int64) - pl.col("birth_date").dt.year().cast(pl.Int64) - before_birthday.cast(pl.Int64)
        sources.append(years.cast(pl.Int64))
    return pl.coalesce(sources) if sources else None


def _age_band(age: pl.Expr, settings: FairnessSettings) -> pl.Expr:
    labels = settings.band_labels()
    band = pl.when(age < settings.age_bands[0]).then(pl.lit(labels[0]))
    for edge, label in zip(settings.age_bands[1:], labels[1:-1]):
        band = band.when(age < edge).then(pl.lit(label))
    return band.when(age.is_not_null()).then(pl.lit(labels[-1])).otherwise(pl.lit(None, dtype=pl.Utf8))


def realised_flags(loans: pl.DataFrame, outcomes: pl.DataFrame | None, targets: TargetSettings) -> pl.DataFrame | None:
    """Return ``loan_id``, ``willing`` and ``able`` of the loans whose outcomes are observed long enough.

    The flags are the assessment targets of :func:`sanhua.assess.targets.build_targets`
    on the mature loans. Returns None when the tape has no outcomes or no
    mature loan.
    """
    if outcomes is None or outcomes.height == 0:
        return None
    try:
        built = build_targets(loans, outcomes, targets)
    except ModelError as exc:
        logger.info("fairness: realised outcomes not used: %s", exc)
        return None
    return built.frame.filter(pl.col("mature")).select("loan_id", "willing", "able")


# --------------------------------------------------------------- result


@dataclass(frozen=True)
class FairnessResult:
    """Output of :class:`FairnessAudit`.

    Attributes
    ----------
    groups : polars.DataFrame
        One row per attribute and group: ``attribute``, ``group``,
        ``debtors``, ``favourable`` (debtors with the favourable outcome),
        ``favourable_rate`` (fraction), ``impact_ratio`` (rate over the
        highest judged rate) and ``judged``. With outcomes, also
        ``debtors_with_outcomes``, ``qualified``, ``true_positive_rate``,
        ``eo_judged``, ``mean_willingness``, ``observed_willing``,
        ``mean_ability``, ``observed_able``, ``calibration_gap`` and
        ``calibration_judged`` (fractions and flags). Then
        ``fails_parity``, ``fails_equal_opportunity``,
        ``fails_calibration`` and ``fails``.
    attributes : polars.DataFrame
        One row per attribute: ``attribute``, ``groups``, ``judged_groups``,
        ``parity_ratio``, ``parity_difference``,
        ``equal_opportunity_difference``, ``max_calibration_gap`` (null
        when not judged), ``passes_parity``, ``passes_equal_opportunity``,
        ``passes_calibration``, ``passes`` (null when nothing could be
        judged), ``failing_groups``,
        ``debtors_in_failing_groups``, ``affected_debtors`` (debtors in a
        failing group without the favourable outcome) and ``affected_share``
        (of the debtors in failing groups).
    unit : str
        ``debtor`` or ``loan``.
    debtors : int
        Debtors (or loans) audited.
    has_outcomes : bool
        Realised outcomes were available for equal opportunity and calibration.
    mitigation : dict or None
        Present when a parity limit failed and a curve was given: the
        threshold shift per group, the groups and attributes tables after the
        shift (``groups_after``, ``attributes_after``) and the cost
        (``action_value_*`` and ``expected_recovery_pv_*``: before, after and
        change, summed over loans).
    settings : FairnessSettings
    adjusted_plan : polars.DataFrame or None
        The plan re-run with the shifted thresholds, one row per loan.
    adjusted_actions : ActionResult or None
        The action values of the adjusted plan.
    """

    groups: pl.DataFrame
    attributes: pl.DataFrame
    unit: str
    debtors: int
    has_outcomes: bool
    mitigation: dict | None
    settings: FairnessSettings
    adjusted_plan: pl.DataFrame | None = None
    adjusted_actions: ActionResult | None = None

    @property
    def passes(self) -> bool | None:
        """Return True when every judged attribute passes, False when one fails, None when nothing was judged."""
        verdicts = [v for v in self.attributes["passes"].to_list() if v is not None]
        return all(verdicts) if verdicts else None

    def to_record(self) -> dict[str, Any]:
        """Return the result as JSON-ready data for ``run.json``: aggregates only, no NaN."""
        mitigation = None
        if self.mitigation is not None:
            mitigation = {
                key: (_rows(value) if isinstance(value, pl.DataFrame) else value) for key, value in self.mitigation.items()
            }
        return _finite(
            {
                "unit": self.unit,
                "debtors": self.debtors,
                "has_outcomes": self.has_outcomes,
                "passes": self.passes,
                "favourable_outcome": "category A or B, or an action other than litigate or transfer",
                "limits": {
                    "parity_ratio_min": self.settings.parity_ratio_min,
                    "equal_opportunity_difference_max": self.settings.equal_opportunity_difference_max,
                    "min_group_debtors": self.settings.min_group_debtors,
                    "qualified": self.settings.qualified,
                    "mitigation": self.settings.mitigation,
                },
                "attributes": _rows(self.attributes),
                "groups": _rows(self.groups),
                "mitigation": mitigation,
            }
        )


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _finite(value.item())
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# ---------------------------------------------------------------- audit


@dataclass(frozen=True)
class _Metrics:
    groups: pl.DataFrame
    attributes: pl.DataFrame


class FairnessAudit:
    """Measure favourable-outcome rates by group, judge them against limits and price a mitigation.

    Parameters
    ----------
    settings : FairnessSettings or None
        Attributes, limits and mitigation; defaults when None.

    Examples
    --------
    >>> import polars as pl
    >>> scored = pl.DataFrame({"loan_id": ["1", "2", "3", "4"], "willingness": [0.9, 0.2, 0.8, 0.1],
    ...                        "ability": [0.5, 0.5, 0.5, 0.5], "category": ["A", "C", "A", "C"],
    ...                        "action": ["settle", "litigate", "settle", "hold"]})
    >>> groups = pl.DataFrame({"loan_id": ["1", "2", "3", "4"], "debtor_id": ["a", "b", "c", "d"],
    ...                        "gender": ["male", "male", "female", "female"]})
    >>> result = FairnessAudit(FairnessSettings(min_group_debtors=1)).run(scored, groups)
    >>> result.attributes["parity_ratio"].to_list()
    [0.5]
    """

    def __init__(self, settings: FairnessSettings | None = None) -> None:
        self.settings = settings

    def run(
        self,
        scored: pl.DataFrame,
        groups: pl.DataFrame,
        *,
        realised: pl.DataFrame | None = None,
        segment: SegmentSettings | None = None,
        strategy: StrategySettings | None = None,
        curve: RecoveryCurve | None = None,
        replan: Replan | None = None,
    ) -> FairnessResult:
        """Audit a scored plan.

        Parameters
        ----------
        scored : polars.DataFrame
            One row per loan with ``loan_id``, ``willingness`` and ``ability``
            (probabilities), ``category`` and ``action``. For the mitigation,
            also every column :class:`~sanhua.segment.rules.Segmenter` and
            :class:`~sanhua.strategy.ActionValuer` need, and
            ``action_value`` and ``expected_recovery_pv``.
        groups : polars.DataFrame
            Output of :func:`protected_attributes`: ``loan_id``,
            ``debtor_id`` and one column per attribute.
        realised : polars.DataFrame or None
            Output of :func:`realised_flags`: ``loan_id``, ``willing``,
            ``able`` for loans with observed outcomes.
        segment, strategy : settings or None
            Settings of the plan being audited, used by the mitigation.
        curve : RecoveryCurve or None
            Recovery curve of the plan. The mitigation is priced only when
            it is given.

        Returns
        -------
        FairnessResult

        Raises
        ------
        InputDataError
            A required column is missing, a score is outside [0, 1], or a
            loan of ``scored`` has no row in ``groups``.
        """
        settings = self.settings if self.settings is not None else FairnessSettings()
        if not isinstance(settings, FairnessSettings):
            raise InputDataError(f"fairness: settings must be a FairnessSettings, got {type(settings).__name__}.")
        started = time.perf_counter()

        attributes = self._check(scored, groups, realised, settings)
        loans = self._loan_frame(scored, groups, realised)
        metrics = _measure(loans, attributes, settings)

        mitigation, plan, actions = None, None, None
        failing = metrics.attributes.filter(pl.col("passes_parity").not_()) if metrics.attributes.height else metrics.attributes
        if failing.height and curve is not None:
            mitigation, plan, actions = _mitigate(
                scored, loans, metrics, failing["attribute"].to_list(), settings, segment, strategy, curve, replan
            )

        debtors = loans["debtor_id"].n_unique()
        unit = "loan" if loans["debtor_id"].str.starts_with("loan:").all() else "debtor"
        logger.info(
            "fairness: %d %ss in %d attributes in %.2f s; failing %s",
            debtors,
            unit,
            len(attributes),
            time.perf_counter() - started,
            metrics.attributes.filter(pl.col("passes").not_())["attribute"].to_list() if metrics.attributes.height else [],
        )
        return FairnessResult(
            groups=metrics.groups,
            attributes=metrics.attributes,
            unit=unit,
            debtors=debtors,
            has_outcomes=realised is not None and realised.height > 0,
            mitigation=mitigation,
            settings=settings,
            adjusted_plan=plan,
            adjusted_actions=actions,
        )

    @staticmethod
    def _check(scored: pl.DataFrame, groups: pl.DataFrame, realised: pl.DataFrame | None, settings: FairnessSettings) -> list[str]:
        missing = [c for c in _SCORED_COLUMNS if c not in scored.columns]
        if missing:
            raise InputDataError(f"fairness: the scored plan lacks columns {missing}; pass the frame returned by score_tape.")
        if "loan_id" not in groups.columns or "debtor_id" not in groups.columns:
            raise InputDataError("fairness: the groups frame needs loan_id and debtor_id; build it with protected_attributes().")
        for name in ("willingness", "ability"):
            column = scored[name]
            bad = column.is_null() | column.is_nan() | (column < 0) | (column > 1)
            if bad.any():
                row = int(bad.arg_max())
                raise InputDataError(
                    f"fairness: {name} must be a probability in [0, 1]; row {row + 1} (loan {scored['loan_id'][row]}) is {column[row]!r}."
                )
        unmatched = scored.join(groups.select("loan_id"), on="loan_id", how="anti")
        if unmatched.height:
            raise InputDataError(
                f"fairness: {unmatched.height} scored loans have no row in the groups frame (first: {unmatched['loan_id'][0]}); "
                "build the groups from the same tape."
            )
        if realised is not None and not {"loan_id", "willing", "able"} <= set(realised.columns):
            raise InputDataError("fairness: the realised frame needs loan_id, willing and able; build it with realised_flags().")
        return [name for name in settings.attributes if name in groups.columns]

    @staticmethod
    def _loan_frame(scored: pl.DataFrame, groups: pl.DataFrame, realised: pl.DataFrame | None) -> pl.DataFrame:
        frame = scored.select(
            "loan_id", "willingness", "ability", favourable_outcome().alias("favourable")
        ).join(groups, on="loan_id", how="left")
        if realised is not None and realised.height:
            frame = frame.join(realised.select("loan_id", "willing", "able"), on="loan_id", how="left")
        return frame


def _debtors(loans: pl.DataFrame, attributes: Sequence[str]) -> pl.DataFrame:
    """Collapse loans to debtors: favourable only when every loan is; scores and flags averaged over loans."""
    aggregations = [
        pl.col("favourable").all().alias("favourable"),
        *[pl.col(name).sort_by("loan_id").first().alias(name) for name in attributes],
    ]
    if "willing" in loans.columns:
        observed = pl.col("willing").is_not_null()
        aggregations += [
            observed.any().alias("has_outcome"),
            pl.col("willingness").filter(observed).mean().alias("predicted_willing"),
            pl.col("ability").filter(observed).mean().alias("predicted_able"),
            pl.col("willing").cast(pl.Float64).mean().alias("observed_willing"),
            pl.col("able").cast(pl.Float64).mean().alias("observed_able"),
            pl.col("willing").any().alias("any_willing"),
            pl.col("able").any().alias("any_able"),
        ]
    return loans.group_by("debtor_id").agg(aggregations).sort("debtor_id")


def _qualified(debtors: pl.DataFrame, settings: FairnessSettings) -> np.ndarray:
    willing = debtors["any_willing"].fill_null(False).to_numpy()
    able = debtors["any_able"].fill_null(False).to_numpy()
    if settings.qualified == "willing":
        return willing
    if settings.qualified == "able":
        return able
    return willing | able


def _observed_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true)) if len(y_true) else float("nan")


def _frame_by_group(frame: MetricFrame) -> pl.DataFrame:
    table = frame.by_group.reset_index()
    table.columns = ["group", *table.columns[1:]]
    return pl.from_pandas(table).with_columns(pl.col("group").cast(pl.Utf8))


def _measure(loans: pl.DataFrame, attributes: Sequence[str], settings: FairnessSettings) -> _Metrics:
    debtors = _debtors(loans, attributes)
    favourable = debtors["favourable"].to_numpy().astype(int)
    with_outcomes = "has_outcome" in debtors.columns and bool(debtors["has_outcome"].any())

    group_tables = []
    summaries = []
    for name in attributes:
        table, summary = _measure_attribute(debtors, name, favourable, with_outcomes, settings)
        group_tables.append(table)
        summaries.append(summary)

    if not group_tables:
        return _Metrics(groups=pl.DataFrame(), attributes=pl.DataFrame())
    return _Metrics(groups=pl.concat(group_tables, how="diagonal_relaxed"), attributes=pl.DataFrame(summaries, schema=_SUMMARY_SCHEMA))


def _measure_attribute(
    debtors: pl.DataFrame, name: str, favourable: np.ndarray, with_outcomes: bool, settings: FairnessSettings
) -> tuple[pl.DataFrame, dict[str, Any]]:
    sensitive = debtors[name].to_numpy()

    rates = MetricFrame(
        metrics={"favourable_rate": selection_rate, "debtors": count},
        y_true=favourable,
        y_pred=favourable,
        sensitive_features=pl.Series(name, sensitive).to_pandas(),
    )
    table = _frame_by_group(rates).with_columns(
        pl.col("debtors").cast(pl.Int64),
        (pl.col("favourable_rate") * pl.col("debtors")).round(0).cast(pl.Int64).alias("favourable"),
    )
    table = table.with_columns(((pl.col("debtors") >= settings.min_group_debtors) & (pl.col("group") != MISSING_GROUP)).alias("judged"))
    judged_groups = table.filter("judged")["group"].to_list()

    summary: dict[str, Any] = {
        "attribute": name,
        "groups": table.height,
        "judged_groups": len(judged_groups),
        "parity_ratio": None,
        "parity_difference": None,
        "equal_opportunity_difference": None,
        "passes_parity": None,
        "passes_equal_opportunity": None,
        "max_calibration_gap": None,
        "passes_calibration": None,
    }
    in_judged = np.isin(sensitive, judged_groups)
    top_rate = table.filter("judged")["favourable_rate"].max() if judged_groups else None
    if len(judged_groups) >= 2:
        y = favourable[in_judged]
        summary["parity_ratio"] = float(demographic_parity_ratio(y, y, sensitive_features=sensitive[in_judged]))
        summary["parity_difference"] = float(demographic_parity_difference(y, y, sensitive_features=sensitive[in_judged]))
        summary["passes_parity"] = summary["parity_ratio"] >= settings.parity_ratio_min
    impact = pl.col("favourable_rate") / top_rate if top_rate else pl.lit(None, dtype=pl.Float64)
    table = table.with_columns(
        pl.when(pl.col("judged")).then(impact).otherwise(None).alias("impact_ratio"),
    ).with_columns(
        (pl.col("judged") & (len(judged_groups) >= 2) & (pl.col("impact_ratio") < settings.parity_ratio_min)).alias("fails_parity"),
    )

    table = table.with_columns(pl.lit(False).alias("fails_equal_opportunity"), pl.lit(False).alias("fails_calibration"))
    if with_outcomes:
        table, summary = _outcome_metrics(debtors, name, favourable, table, summary, settings)

    table = table.with_columns((pl.col("fails_parity") | pl.col("fails_equal_opportunity") | pl.col("fails_calibration")).alias("fails"))
    verdicts = [v for v in (summary["passes_parity"], summary["passes_equal_opportunity"], summary["passes_calibration"]) if v is not None]
    summary["passes"] = all(verdicts) if verdicts else None

    failing = table.filter("fails")["group"].to_list()
    in_failing = np.isin(sensitive, failing)
    summary["failing_groups"] = failing
    summary["debtors_in_failing_groups"] = int(in_failing.sum())
    summary["affected_debtors"] = int((in_failing & (favourable == 0)).sum())
    summary["affected_share"] = float(summary["affected_debtors"] / in_failing.sum()) if in_failing.any() else None

    table = table.with_columns(pl.lit(name).alias("attribute")).sort("group")
    return table.select("attribute", *[c for c in table.columns if c != "attribute"]), summary


def _outcome_metrics(
    debtors: pl.DataFrame, name: str, favourable: np.ndarray, table: pl.DataFrame, summary: dict[str, Any], settings: FairnessSettings
) -> tuple[pl.DataFrame, dict[str, Any]]:
    has_outcome = debtors["has_outcome"].to_numpy()
    sensitive = debtors[name].to_numpy()[has_outcome]
    qualified = _qualified(debtors, settings)[has_outcome].astype(int)
    decided = favourable[has_outcome]
    features = pl.Series(name, sensitive).to_pandas()

    with warnings.catch_warnings():
        # A group without qualified debtors has no true-positive rate; it is not judged below.
        warnings.simplefilter("ignore")
        opportunity = MetricFrame(
            metrics={"true_positive_rate": true_positive_rate, "debtors_with_outcomes": count},
            y_true=qualified,
            y_pred=decided,
            sensitive_features=features,
        )
    counts = _frame_by_group(opportunity)
    qualified_counts = pl.DataFrame({"group": sensitive.astype(str), "qualified": qualified}).group_by("group").agg(pl.col("qualified").sum())

    calibration_parts = []
    for score, mean_name, flag in (("predicted_willing", "mean_willingness", "observed_willing"), ("predicted_able", "mean_ability", "observed_able")):
        frame = MetricFrame(
            metrics={mean_name: mean_prediction, flag: _observed_rate},
            y_true=debtors[flag].to_numpy()[has_outcome],
            y_pred=debtors[score].to_numpy()[has_outcome],
            sensitive_features=features,
        )
        calibration_parts.append(_frame_by_group(frame))

    outcome_table = counts.join(qualified_counts, on="group", how="left")
    for part in calibration_parts:
        outcome_table = outcome_table.join(part, on="group", how="left")
    outcome_table = outcome_table.with_columns(pl.col("debtors_with_outcomes").cast(pl.Int64), pl.col("qualified").cast(pl.Int64))

    table = table.join(outcome_table, on="group", how="left").with_columns(
        pl.col("debtors_with_outcomes").fill_null(0),
        pl.col("qualified").fill_null(0),
    )
    table = table.with_columns(
        (pl.col("judged") & (pl.col("qualified") >= settings.min_group_debtors)).alias("eo_judged"),
    ).with_columns(
        pl.when(pl.col("qualified") > 0).then(pl.col("true_positive_rate")).otherwise(None).alias("true_positive_rate"),
    )

    # Calibration is judged on groups with enough debtors with outcomes, whatever their qualification.
    gap = pl.max_horizontal(
        (pl.col("mean_willingness") - pl.col("observed_willing")).abs(), (pl.col("mean_ability") - pl.col("observed_able")).abs()
    )
    table = table.with_columns(
        pl.when(pl.col("debtors_with_outcomes") > 0).then(gap).otherwise(None).alias("calibration_gap"),
        (pl.col("judged") & (pl.col("debtors_with_outcomes") >= settings.min_group_debtors)).alias("calibration_judged"),
    ).with_columns(
        (pl.col("calibration_judged") & (pl.col("calibration_gap") > settings.calibration_gap_max)).fill_null(False).alias("fails_calibration"),
    )
    judged_gaps = table.filter("calibration_judged")["calibration_gap"].drop_nulls()
    if judged_gaps.len():
        summary["max_calibration_gap"] = float(judged_gaps.max())
        summary["passes_calibration"] = summary["max_calibration_gap"] <= settings.calibration_gap_max

    eo_groups = table.filter("eo_judged")["group"].to_list()
    if len(eo_groups) >= 2:
        mask = np.isin(sensitive, eo_groups)
        difference = float(equal_opportunity_difference(qualified[mask], decided[mask], sensitive_features=sensitive[mask]))
        summary["equal_opportunity_difference"] = difference
        summary["passes_equal_opportunity"] = difference <= settings.equal_opportunity_difference_max
        best = table.filter("eo_judged")["true_positive_rate"].max()
        table = table.with_columns(
            (pl.col("eo_judged") & ((best - pl.col("true_positive_rate")) > settings.equal_opportunity_difference_max)).alias(
                "fails_equal_opportunity"
            )
        )
    return table, summary


# ----------------------------------------------------------- mitigation


def _shifted_categories(frame: pl.DataFrame, shift: np.ndarray, segment: SegmentSettings | None) -> pl.DataFrame:
    """Run the segmenter with every threshold lowered by ``shift`` per loan.

    Lowering a threshold by ``d`` is the same test as raising the score by
    ``d`` (capped at 1), so the segmenter runs on shifted scores and the
    original scores are put back afterwards.
    """
    originals = frame.select("willingness", "ability")
    delta = pl.Series("_shift", shift, dtype=pl.Float64)
    shifted = frame.drop([c for c in ("category", "segment_rule", "short_plan") if c in frame.columns]).with_columns(
        (pl.col("willingness") + delta).clip(upper_bound=1.0),
        (pl.col("ability") + delta).clip(upper_bound=1.0),
    )
    return Segmenter(segment).run(shifted).with_columns(originals)


def _group_rates(frame: pl.DataFrame, attribute: str) -> dict[str, float]:
    debtors = frame.group_by("debtor_id").agg(pl.col("favourable").all(), pl.col(attribute).sort_by("loan_id").first())
    return dict(debtors.group_by(attribute).agg(pl.col("favourable").mean()).iter_rows())


def _search_shifts(
    plan: pl.DataFrame, attribute: str, targets: dict[str, float], settings: FairnessSettings, segment: SegmentSettings | None
) -> tuple[dict[str, float], dict[str, bool]]:
    """Bisect, per group, the smallest threshold shift that lifts its rate to its target."""
    low = dict.fromkeys(targets, 0.0)
    high = dict.fromkeys(targets, settings.max_threshold_shift)
    groups = plan[attribute].to_numpy()
    adverse_action = ~plan["action"].cast(pl.Utf8).is_in(ADVERSE_ACTIONS)

    def rates_at(shifts: dict[str, float]) -> dict[str, float]:
        shift = np.zeros(plan.height)
        for group, value in shifts.items():
            shift[groups == group] = value
        shifted = _shifted_categories(plan, shift, segment)
        # A loan that stays in C keeps its inputs, hence its action; a loan that leaves C is favourable.
        favourable = shifted["category"].is_in(FAVOURABLE_CATEGORIES) | adverse_action
        return _group_rates(shifted.with_columns(favourable.alias("favourable")), attribute)

    reached = {group: rates_at(high)[group] >= target for group, target in targets.items()}
    for _ in range(_BISECTION_STEPS):
        middle = {group: (low[group] + high[group]) / 2 for group in targets}
        rates = rates_at(middle)
        for group, target in targets.items():
            if rates[group] >= target:
                high[group] = middle[group]
            else:
                low[group] = middle[group]
    return {group: (high[group] if reached[group] else settings.max_threshold_shift) for group in targets}, reached


def _mitigate(
    scored: pl.DataFrame,
    loans: pl.DataFrame,
    metrics: _Metrics,
    failing: list[str],
    settings: FairnessSettings,
    segment: SegmentSettings | None,
    strategy: StrategySettings | None,
    curve: RecoveryCurve,
    replan: Replan | None = None,
) -> tuple[dict[str, Any], pl.DataFrame, ActionResult]:
    """Find per-group threshold shifts for the attributes failing parity, re-run the plan and price it.

    ``replan`` chooses the actions of the adjusted categories the way the
    audited plan chose its own, as the main job's capacity plan does. Without
    it, each loan gets its best feasible action.
    """
    missing = [c for c in ("action_value", "expected_recovery_pv") if c not in scored.columns]
    if missing:
        raise InputDataError(f"fairness: the mitigation needs the plan's {missing}; pass the frame returned by score_tape.")
    plan = scored.join(loans.drop("willingness", "ability", "favourable", "willing", "able", strict=False), on="loan_id", how="left")

    shift = np.zeros(plan.height)
    shifts: dict[str, dict[str, float]] = {}
    reached: dict[str, dict[str, bool]] = {}
    for attribute in failing:
        groups = metrics.groups.filter((pl.col("attribute") == attribute) & pl.col("judged"))
        top = float(groups["favourable_rate"].max())
        # A hair above the limit, so that the ratio computed afterwards is not below it by rounding.
        target = settings.parity_ratio_min * top * (1 + 1e-9)
        targets = {g: target for g, rate in groups.select("group", "favourable_rate").iter_rows() if rate < target}
        found, ok = _search_shifts(plan, attribute, targets, settings, segment)
        shifts[attribute] = found
        reached[attribute] = ok
        per_loan = plan[attribute].replace_strict(found, default=0.0, return_dtype=pl.Float64).to_numpy()
        shift = np.maximum(shift, per_loan)

    segmented = _shifted_categories(plan, shift, segment)
    unplanned = segmented.drop("action", "action_value", "expected_recovery_pv")
    if replan is not None:
        adjusted, valued = replan(unplanned)
    else:
        valued = ActionValuer(strategy).run(unplanned, curve)
        adjusted = unplanned.join(valued.chosen, on="loan_id", how="left")

    attributes = [name for name in ATTRIBUTES if name in metrics.attributes["attribute"].to_list()]
    after = _measure(
        adjusted.select("loan_id", "willingness", "ability", favourable_outcome().alias("favourable")).join(
            loans.drop("willingness", "ability", "favourable"), on="loan_id", how="left"
        ),
        attributes,
        settings,
    )
    before_value, after_value = float(scored["action_value"].sum()), float(adjusted["action_value"].sum())
    before_pv, after_pv = float(scored["expected_recovery_pv"].sum()), float(adjusted["expected_recovery_pv"].sum())
    changed = adjusted.select("loan_id", "category").join(scored.select("loan_id", pl.col("category").alias("_before")), on="loan_id")
    summary = {
        "method": "threshold",
        "applied": settings.mitigation == "threshold",
        "attributes": failing,
        "shifts": [
            {"attribute": attribute, "group": group, "shift": value, "target_reached": reached[attribute][group]}
            for attribute, found in shifts.items()
            for group, value in sorted(found.items())
        ],
        "loans_changed_category": int((changed["category"] != changed["_before"]).sum()),
        "action_value_before": before_value,
        "action_value_after": after_value,
        "action_value_change": after_value - before_value,
        "expected_recovery_pv_before": before_pv,
        "expected_recovery_pv_after": after_pv,
        "expected_recovery_pv_change": after_pv - before_pv,
        "groups_after": after.groups,
        "attributes_after": after.attributes,
    }
    return summary, adjusted, valued


# ---------------------------------------------------------------- runs


@dataclass(frozen=True)
class FairnessRun:
    """Outcome of :func:`audit_tape` for the main job.

    Attributes
    ----------
    frame : polars.DataFrame
        The plan: the input frame, or the adjusted one when the mitigation
        is enabled and was needed.
    record : dict or None
        JSON-ready fairness record for ``run.json``; None when the tape
        carries no protected or sensitive attribute or the audit is disabled.
    actions : ActionResult or None
        The re-valued actions when the adjusted plan replaced the input one.
    result : FairnessResult or None
    """

    frame: pl.DataFrame
    record: dict | None
    actions: ActionResult | None
    result: FairnessResult | None


def audit_tape(
    frame: pl.DataFrame,
    tape: Tape,
    settings: FairnessSettings,
    *,
    targets: TargetSettings,
    segment: SegmentSettings | None,
    strategy: StrategySettings | None,
    curve: RecoveryCurve,
    replan: Replan | None = None,
) -> FairnessRun:
    """Audit the plan of a scored tape and, when configured, apply the mitigation.

    Parameters
    ----------
    frame : polars.DataFrame
        The scored, segmented and valued loans (first output of
        :func:`sanhua.pipeline.score_tape`).
    tape : Tape
        The tape the frame was scored from (loans, borrowers and, when
        present, outcomes).
    settings : FairnessSettings
    targets : TargetSettings
        Target definitions of the model, for the realised flags.
    segment, strategy : settings
        Settings of the plan.
    curve : RecoveryCurve
        Recovery curve of the plan.
    replan : callable, optional
        Chooses the actions of the adjusted categories as the audited plan
        chose its own (the main job passes its capacity plan); without it,
        each loan gets its best feasible action.

    Returns
    -------
    FairnessRun
    """
    if not settings.enabled:
        return FairnessRun(frame=frame, record=None, actions=None, result=None)
    groups = protected_attributes(tape.loans, tape.table("borrowers"), settings)
    if groups.width <= 2:
        logger.info("fairness: the tape carries none of %s; no audit", list(settings.attributes))
        return FairnessRun(frame=frame, record=None, actions=None, result=None)

    realised = realised_flags(tape.loans, tape.table("outcomes"), targets)
    result = FairnessAudit(settings).run(frame, groups, realised=realised, segment=segment, strategy=strategy, curve=curve, replan=replan)
    record = result.to_record()
    mitigation = result.mitigation
    if mitigation is None or not mitigation["applied"]:
        return FairnessRun(frame=frame, record=record, actions=None, result=result)

    plan = result.adjusted_plan
    adjusted = frame.drop(*_PLAN_COLUMNS).join(plan.select("loan_id", *_PLAN_COLUMNS), on="loan_id", how="left")
    logger.info("fairness: mitigation applied, %d loans changed category", mitigation["loans_changed_category"])
    return FairnessRun(frame=adjusted.select(frame.columns), record=record, actions=result.adjusted_actions, result=result)
