"""Backtests of the valuation: predicted against realised recovery, by package and by month.

- :func:`package_backtest` compares predicted and realised lifetime recovery
  of groups of loans ("packages"), for example LendingClub's charged-off loans
  grouped by issue quarter and grade (:func:`lendingclub_packages`).
- :func:`monthly_backtest` compares projected monthly cash with the realised
  monthly cash, for example the demo generator's future recovery paths.

Errors are stated as ``error = predicted - realised`` (same currency),
``relative_error = error / realised`` and, over all groups, the weighted
absolute percentage error ``WAPE = sum |error| / sum realised`` and the bias
``sum error / sum realised``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from sanhua.errors import InputFileError
from sanhua.value.checks import check_non_negative, require_columns

__all__ = ["package_backtest", "monthly_backtest", "lendingclub_packages", "error_summary"]

logger = logging.getLogger(__name__)

_STAGE = "valuation backtest"


def error_summary(table: pl.DataFrame) -> dict[str, float]:
    """Return ``wape``, ``bias``, ``predicted`` and ``realised`` totals of a table with ``predicted`` and ``realised``."""
    realised = float(table["realised"].sum())
    error = table["predicted"] - table["realised"]
    return {
        "predicted": float(table["predicted"].sum()),
        "realised": realised,
        "wape": float(error.abs().sum()) / realised if realised > 0 else float("nan"),
        "bias": float(error.sum()) / realised if realised > 0 else float("nan"),
    }


def package_backtest(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Compare predicted and realised recovery by group.

    Parameters
    ----------
    frame : polars.DataFrame
        One row per loan: the ``by`` columns, ``exposure_at_default``,
        ``expected_recovery_rate`` (predicted, fraction of EAD) and
        ``realised_recovery`` (amount).
    by : list of str
        Grouping columns that define a package.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, ``loans``, ``ead``, ``predicted``, ``realised``,
        ``error``, ``relative_error``, ``predicted_rate`` and ``realised_rate``
        (of EAD), sorted by ``by``.
    """
    require_columns(frame, [*by, "exposure_at_default", "expected_recovery_rate", "realised_recovery"], _STAGE)
    check_non_negative(frame, ["exposure_at_default", "expected_recovery_rate", "realised_recovery"], _STAGE)
    return (
        frame.group_by(by)
        .agg(
            pl.len().alias("loans"),
            pl.col("exposure_at_default").sum().alias("ead"),
            (pl.col("expected_recovery_rate") * pl.col("exposure_at_default")).sum().alias("predicted"),
            pl.col("realised_recovery").sum().alias("realised"),
        )
        .with_columns((pl.col("predicted") - pl.col("realised")).alias("error"))
        .with_columns(
            (pl.col("error") / pl.col("realised")).alias("relative_error"),
            (pl.col("predicted") / pl.col("ead")).alias("predicted_rate"),
            (pl.col("realised") / pl.col("ead")).alias("realised_rate"),
        )
        .sort(by)
    )


def monthly_backtest(predicted: np.ndarray, realised: np.ndarray) -> pl.DataFrame:
    """Compare projected and realised cash by month after the cut-off, summed over loans.

    Parameters
    ----------
    predicted, realised : numpy.ndarray, shape (n_loans, n_months)
        Cash per loan and month (same loans, same months).

    Returns
    -------
    polars.DataFrame
        ``month``, ``predicted``, ``realised``, ``error``, ``relative_error``,
        ``cumulative_predicted``, ``cumulative_realised``.
    """
    predicted = np.asarray(predicted, dtype=float)
    realised = np.asarray(realised, dtype=float)
    if predicted.shape != realised.shape:
        raise ValueError(f"{_STAGE}: predicted {predicted.shape} and realised {realised.shape} must have the same shape.")
    p, r = predicted.sum(axis=0), realised.sum(axis=0)
    return pl.DataFrame(
        {
            "month": np.arange(1, p.size + 1, dtype=np.int32),
            "predicted": p,
            "realised": r,
            "error": p - r,
            "relative_error": np.divide(p - r, r, out=np.full(p.size, np.nan), where=r > 0),
            "cumulative_predicted": np.cumsum(p),
            "cumulative_realised": np.cumsum(r),
        }
    )


def lendingclub_packages(path: str | Path, *, recovery_cap: float = 1.0) -> pl.DataFrame:
    """Read LendingClub's charged-off loans as backtest rows, grouped later by issue quarter and grade.

    Parameters
    ----------
    path : str or Path
        ``loans_issued_2007_2010.csv.gz`` of the public LendingClub download.
    recovery_cap : float, default 1.0
        Realised recovery is capped at this multiple of EAD (83 loans of the
        file recovered more than ``funded_amnt - total_rec_prncp``).

    Returns
    -------
    polars.DataFrame
        ``row`` (0-based file row), ``issue_quarter`` (for example
        ``2010Q3``), ``issue_year``, ``grade``, ``exposure_at_default``
        (``funded_amnt - total_rec_prncp``), ``realised_recovery``
        (``recoveries`` capped) and ``capped`` (recovery was above the cap).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{_STAGE}: LendingClub file {path} not found; set SANHUA_SHARED_DATA or pass the file.")
    raw = pl.read_csv(
        path,
        columns=["loan_status", "issue_d", "grade", "funded_amnt", "total_rec_prncp", "recoveries"],
        infer_schema_length=0,
    ).with_row_index("row")
    charged = raw.filter(pl.col("loan_status").str.contains("Charged Off"))
    frame = charged.select(
        "row",
        pl.col("issue_d").str.to_date(strict=False).alias("issue_date"),
        "grade",
        (pl.col("funded_amnt").cast(pl.Float64) - pl.col("total_rec_prncp").cast(pl.Float64)).clip(lower_bound=0.0).alias("exposure_at_default"),
        pl.col("recoveries").cast(pl.Float64).fill_null(0.0).alias("recoveries"),
    ).with_columns(
        (pl.col("issue_date").dt.year().cast(pl.Utf8) + pl.lit("Q") + pl.col("issue_date").dt.quarter().cast(pl.Utf8)).alias("issue_quarter"),
        pl.col("issue_date").dt.year().alias("issue_year"),
        pl.min_horizontal("recoveries", pl.col("exposure_at_default") * recovery_cap).alias("realised_recovery"),
        (pl.col("recoveries") > pl.col("exposure_at_default") * recovery_cap).alias("capped"),
    )
    logger.info("%s: %d charged-off LendingClub loans, %d recoveries capped", _STAGE, frame.height, int(frame["capped"].sum()))
    return frame.select("row", "issue_quarter", "issue_year", "grade", "exposure_at_default", "realised_recovery", "capped")
