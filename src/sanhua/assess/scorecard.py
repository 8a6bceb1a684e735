"""Interpretable WoE scorecard, the challenger to the gradient-boosted models.

Each feature is binned by optbinning (monotone event rate across bins where
the data allow: ``monotonic_trend="auto_asc_desc"``), replaced by the weight
of evidence (WoE) of its bin, and a logistic regression on the WoE values
gives the probability of the event (``y = 1``: for example the debtor is
willing). Points are scaled by points-to-double-the-odds (PDO): a debtor with
``base_odds`` odds of the event scores ``base_points``, and every ``pdo``
points more doubles the odds, so higher scores mean the event is more likely.

The points table (``points_table_``) is the published form of the model:
a debtor's score is the sum over features of the points of the bin the
debtor falls in, which :meth:`WoEScorecard.reconcile` checks row by row.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from sanhua.errors import ModelError, NotFittedError

logger = logging.getLogger(__name__)


class WoEScorecard:
    """WoE logistic scorecard with PDO scaling.

    Parameters
    ----------
    pdo : float
        Points that double the odds of the event (20 is a common choice).
    base_points : float
        Score of a debtor whose odds of the event equal ``base_odds``.
    base_odds : float
        Odds of the event (event : non-event) at ``base_points``.
    max_n_bins : int
        Maximum bins per feature.
    min_bin_size : float
        Minimum share of the training rows in a bin, fraction.

    Attributes
    ----------
    points_table_ : pl.DataFrame
        ``feature``, ``bin``, ``count``, ``event_rate``, ``woe``, ``points``.
    features_ : list of str
        Features kept by the binning process.
    """

    def __init__(
        self,
        pdo: float = 20.0,
        base_points: float = 600.0,
        base_odds: float = 1.0,
        max_n_bins: int = 6,
        min_bin_size: float = 0.05,
    ) -> None:
        self.pdo = pdo
        self.base_points = base_points
        self.base_odds = base_odds
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size

    def _validate(self) -> None:
        checks = (
            ("pdo", self.pdo > 0, "a positive number of points"),
            ("base_odds", self.base_odds > 0, "a positive odds ratio"),
            ("max_n_bins", isinstance(self.max_n_bins, int) and self.max_n_bins >= 2, "an integer >= 2"),
            ("min_bin_size", 0 < self.min_bin_size < 0.5, "a fraction in (0, 0.5)"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ModelError(f"WoEScorecard parameter {name} must be {allowed}; received {getattr(self, name)!r}")

    def fit(self, frame: pl.DataFrame, features: list[str], y: np.ndarray, categorical: list[str] | None = None) -> "WoEScorecard":
        """Bin the features, fit the logistic regression on WoE values and scale the points.

        Parameters
        ----------
        frame : pl.DataFrame
            Feature table, one row per debtor.
        features : list of str
            Columns of ``frame`` to bin.
        y : np.ndarray of shape (n_rows,)
            Binary target, 1 for the event.
        categorical : list of str, optional
            Columns among ``features`` holding category labels.
        """
        from optbinning import BinningProcess, Scorecard

        self._validate()
        y = np.asarray(y, dtype=float)
        if set(np.unique(y)) - {0.0, 1.0} or y.min() == y.max():
            raise ModelError("WoEScorecard needs a binary target with both classes present")
        # A feature with no values, or one value only, cannot be binned: it is left out and logged.
        usable = [c for c in features if frame[c].drop_nulls().n_unique() > 1]
        dropped = sorted(set(features) - set(usable))
        if dropped:
            logger.info("WoE scorecard leaves out %d features with fewer than two distinct values: %s", len(dropped), ", ".join(dropped))
        if not usable:
            raise ModelError("WoEScorecard has no feature with at least two distinct values to bin")
        features = usable
        categorical = [c for c in (categorical or []) if c in features]
        data = frame.select(features).to_pandas()

        binning = BinningProcess(
            variable_names=list(features),
            categorical_variables=categorical,
            max_n_bins=self.max_n_bins,
            min_bin_size=self.min_bin_size,
            binning_fit_params={name: {"monotonic_trend": "auto_asc_desc"} for name in features if name not in categorical},
        )
        # optbinning's pdo_odds scaling gives more points to a lower event probability,
        # so it is fit on the non-event to make a higher score mean the event is more likely.
        self.scorecard_ = Scorecard(
            binning_process=binning,
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={"pdo": self.pdo, "odds": 1.0 / self.base_odds, "scorecard_points": self.base_points},
        )
        self.scorecard_.fit(data, 1.0 - y)

        table = pl.from_pandas(self.scorecard_.table(style="detailed").astype({"Bin": str}))
        self.points_table_ = table.select(
            pl.col("Variable").alias("feature"),
            pl.col("Bin").cast(pl.Utf8).alias("bin"),
            pl.col("Count").alias("count"),
            pl.col("Event rate").alias("non_event_rate"),
            pl.col("WoE").alias("woe"),
            pl.col("Points").alias("points"),
        ).with_columns(
            pl.when(pl.col("count") > 0).then(1 - pl.col("non_event_rate")).otherwise(None).alias("event_rate")
        ).drop("non_event_rate")
        self.features_ = sorted(self.points_table_["feature"].unique().to_list())
        self.input_features_ = list(features)
        self.selected_ = list(self.scorecard_.binning_process_.get_support(names=True))
        woe = self.scorecard_.binning_process_.transform(data, metric="woe")
        self.woe_means_ = np.asarray(woe[self.selected_].mean(axis=0), dtype=float)
        logger.info("WoE scorecard fit on %d rows, %d features kept", frame.height, len(self.features_))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "scorecard_"):
            raise NotFittedError("this WoEScorecard is not fitted yet: call fit(frame, features, y) first")

    def score(self, frame: pl.DataFrame) -> np.ndarray:
        """Return each debtor's score in points (higher: the event is more likely)."""
        self._check_fitted()
        return np.asarray(self.scorecard_.score(frame.select(self.input_features_).to_pandas()), dtype=float)

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Return the probability of the event, shape (n_rows,)."""
        self._check_fitted()
        return 1.0 - self.scorecard_.predict_proba(frame.select(self.input_features_).to_pandas())[:, 1]

    def contributions(self, frame: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Return each feature's contribution to the log-odds of the event, centred on the training mean.

        For a logistic regression on WoE values the contribution of feature
        ``f`` is ``coef_f * (woe_f - mean training woe_f)``, which is also its
        exact SHAP value under independent features, so these reasons read
        like the booster's ``pred_contrib``.

        Returns
        -------
        contributions : np.ndarray of shape (n_rows, n_features)
        features : list of str
            Column order of ``contributions``.
        """
        self._check_fitted()
        woe = self.scorecard_.binning_process_.transform(frame.select(self.input_features_).to_pandas(), metric="woe")
        values = np.asarray(woe[self.selected_], dtype=float)
        coef = np.asarray(self.scorecard_.estimator_.coef_[0], dtype=float)
        # The regression models the non-event, so its signs are flipped for the event.
        return -(values - self.woe_means_) * coef, list(self.selected_)

    def reconcile(self, frame: pl.DataFrame) -> np.ndarray:
        """Recompute each debtor's score from the points table alone.

        Every feature value is assigned its bin label by the fitted binning,
        the label is looked up in :attr:`points_table_`, and the points are
        summed. The result must equal :meth:`score`.
        """
        self._check_fitted()
        bins = self.scorecard_.binning_process_.transform(frame.select(self.input_features_).to_pandas(), metric="bins")
        total = np.zeros(frame.height)
        for feature in self.features_:
            lookup = dict(self.points_table_.filter(pl.col("feature") == feature).select("bin", "points").iter_rows())
            labels = bins[feature].astype(str).to_numpy()
            missing = sorted({label for label in labels if label not in lookup})
            if missing:
                raise ModelError(f"feature {feature!r}: bins {missing[:3]} are not in the points table")
            total += np.array([lookup[label] for label in labels])
        return total

    def export_excel(self, path: str | Path) -> Path:
        """Write the points table, the scaling and the bin statistics to an Excel workbook for model-risk review."""
        from openpyxl import Workbook

        self._check_fitted()
        path = Path(path)
        book = Workbook()
        sheet = book.active
        sheet.title = "points"
        sheet.append(self.points_table_.columns)
        for row in self.points_table_.iter_rows():
            sheet.append([None if isinstance(v, float) and math.isnan(v) else v for v in row])
        scaling = book.create_sheet("scaling")
        for row in (
            ("points to double the odds (PDO)", self.pdo),
            ("base points", self.base_points),
            ("odds of the event at base points", self.base_odds),
            ("maximum bins per feature", self.max_n_bins),
            ("minimum bin size, share of rows", self.min_bin_size),
        ):
            scaling.append(row)
        book.save(path)
        return path
