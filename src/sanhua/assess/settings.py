"""Settings of the assessment models, with documented defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BoosterSettings(BaseModel):
    """Gradient-boosting parameters shared by the three models (LightGBM names)."""

    model_config = ConfigDict(extra="forbid")

    max_trees: int = Field(300, ge=10, le=5000, description="Upper bound on boosting rounds; early stopping on the validation slice picks the number used.")
    learning_rate: float = Field(0.05, gt=0, le=1, description="Shrinkage per round.")
    num_leaves: int = Field(7, ge=2, le=255, description="Leaves per tree; small because NPL histories are small.")
    min_data_in_leaf: int = Field(40, ge=1, description="Minimum loans per leaf.")
    feature_fraction: float = Field(0.8, gt=0, le=1, description="Share of features sampled per tree.")
    bagging_fraction: float = Field(0.8, gt=0, le=1, description="Share of loans sampled per tree.")
    lambda_l2: float = Field(1.0, ge=0, description="L2 regularisation of leaf values.")
    early_stopping_rounds: int = Field(50, ge=1, description="Rounds without improvement on the validation slice before stopping.")
    threads: int = Field(2, ge=1, le=256, description="Threads used for fitting and scoring.")


class TargetSettings(BaseModel):
    """How the targets are read from observed outcomes.

    ``willingness``: ``engaged`` means any settlement or voluntary payment in
    the outcomes; ``engaged_or_above_median`` adds loans whose recovery rate
    is above the history median (used where, as on LendingClub, settlements
    are rare and engagement is not recorded otherwise). ``ability`` is a
    recovery of at least ``ability_share`` of EAD.
    """

    model_config = ConfigDict(extra="forbid")

    willingness: Literal["engaged", "engaged_or_above_median"] = Field(
        "engaged_or_above_median", description="Definition of the willingness target (see class docstring)."
    )
    ability_share: float = Field(
        0.10, gt=0, le=1.5, description="Share of EAD the debtor must pay for the ability target, fraction. ASSUMPTION."
    )
    rate_cap: float = Field(
        1.5, gt=0, description="Cap on per-loan recovery rate (recoveries / EAD); recoveries above EAD include interest and fees."
    )
    develop_to_ultimate: bool = Field(
        True,
        description=(
            "With monthly outcomes and an empirical recovery curve, scale each history loan's observed recovery to the "
            "lifetime recovery still to come at its cut-off (chain-ladder development)."
        ),
    )
    max_development_factor: float = Field(
        3.0,
        ge=1,
        le=100,
        description="Largest factor from observed to ultimate recovery of one loan. ASSUMPTION: limits the noise of loans observed briefly.",
    )
    min_observed_months: int = Field(
        12, ge=0, le=120, description="Months of outcomes a history loan needs after its cut-off to be a training example when outcomes are monthly."
    )


def _recovery_booster() -> "BoosterSettings":
    return BoosterSettings(max_trees=1000, learning_rate=0.01)


class AssessSettings(BaseModel):
    """Settings of :class:`sanhua.assess.Assessor`.

    The willingness and ability classifiers use ``booster``; their reason
    codes need per-tree contributions for every loan, so they are kept to a
    few hundred trees. The recovery regression uses ``recovery_booster``
    with a small learning rate (0.01), so that the number of trees chosen on
    a small validation slice is stable. It needs no contributions.
    """

    model_config = ConfigDict(extra="forbid")

    booster: BoosterSettings = Field(default_factory=BoosterSettings, description="Willingness and ability classifiers.")
    recovery_booster: BoosterSettings = Field(default_factory=_recovery_booster, description="Expected-recovery regression.")
    targets: TargetSettings = Field(default_factory=TargetSettings)
    validation_months: int = Field(
        12, ge=1, le=60, description="The latest this many months of the history (by as-of date) are the validation slice."
    )
    calibration_folds: int = Field(5, ge=2, le=20, description="Folds for out-of-fold predictions that fit the isotonic calibration.")
    n_reasons: int = Field(3, ge=1, le=10, description="Reason codes per debtor.")
    interval_coverage: float = Field(
        0.90, gt=0, lt=1, description="Coverage of the conformal prediction interval of the recovery rate, fraction."
    )
    interval_bins: int = Field(
        10, ge=1, le=100, description="Bins of the predicted rate within which the conformal residual quantiles are taken (Mondrian conformal)."
    )
    recovery_model: Literal["two_part", "single"] = Field(
        "two_part",
        description=(
            "Expected recovery as P(any recovery) x E[recovery rate | any recovery] (two_part), or one regression "
            "of the rate on every loan (single)."
        ),
    )
    degenerate_share: float = Field(
        0.02,
        ge=0,
        lt=0.5,
        description=(
            "If the share of history loans with any recovery is below this or above 1 minus this, the first part of the "
            "two-part model is degenerate: one regression of the rate covers every loan, and the report says so. "
            "ASSUMPTION: 2 %, where a classifier has too few loans of the rare class to rank them."
        ),
    )
    champion_selection: Literal["validation", "lightgbm", "woe_scorecard"] = Field(
        "validation",
        description="Which model scores willingness and ability: the one with the higher AUC on the validation slice, or a fixed choice.",
    )
    challenger: bool = Field(
        True, description="Also fit a WoE scorecard for willingness and ability, compare it on the validation slice and save its points table."
    )
    seed: int = Field(20261204, description="Seed of every random step in fitting.")
