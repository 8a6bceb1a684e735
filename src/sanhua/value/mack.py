"""Mack's distribution-free chain ladder on a cumulative development triangle.

The triangle is a NumPy array ``C[i, k]`` of cumulative amounts, origins
(cohorts) in rows and development periods in columns, with ``NaN`` in the
cells not yet observed. Each origin must be observed from its first column up
to its latest one without gaps; origins need not form a perfect triangle (an
origin may be less mature than a younger one, as loan cohorts with late
extraction dates are).

Method (Mack 1993, "Distribution-free calculation of the standard error of
chain ladder reserve estimates", ASTIN Bulletin 23(2); Mack 1999 for the
recursive form; alpha = 1, unit weights):

- link ratio ``f[k] = sum_i C[i, k+1] / sum_i C[i, k]`` over the origins
  observed at ``k + 1`` (volume weighted);
- ``sigma2[k] = 1 / (n_k - 1) * sum_i C[i, k] (C[i, k+1] / C[i, k] - f[k]) ** 2``;
  where ``n_k = 1`` (usually the last link) sigma is extrapolated by a
  log-linear regression of ``log sigma[k]`` on ``k`` over the estimated
  sigmas, as R ``ChainLadder::MackChainLadder(est.sigma = "log-linear")`` does,
  and ``se(f[k]) = sigma[k] / sqrt(C[0, k])`` there (the oldest origin);
- the projection ``C[i, k+1] = C[i, k] f[k]`` from each origin's latest cell,
  then the tail factor on the ultimate;
- mean squared error per origin by the recursion
  ``proc[k+1]^2 = f[k]^2 proc[k]^2 + sigma2[k] C[i, k]`` (process) and
  ``param[k+1]^2 = f[k]^2 param[k]^2 + C[i, k]^2 se(f[k])^2`` (parameter);
  the total adds the covariance of the parameter error between origins,
  ``2 * sum_{i<j} C[i, k] C[j, k] se(f[k])^2`` propagated in the same way.

The tail factor multiplies each ultimate. Its uncertainty is not modelled
(``tail_se = 0``): NOTE: R's ``tail.se``/``tail.sigma`` inputs are not supported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from sanhua.errors import InputDataError, ModelError

__all__ = ["MackResult", "mack_chain_ladder", "exponential_tail"]

logger = logging.getLogger(__name__)

_STAGE = "Mack chain ladder"


@dataclass(frozen=True)
class MackResult:
    """Output of :func:`mack_chain_ladder`; amounts are in the triangle's unit.

    Attributes
    ----------
    ldf : numpy.ndarray, shape (n_dev - 1,)
        Volume-weighted link ratios ``k -> k + 1``.
    sigma : numpy.ndarray, shape (n_dev - 1,)
        Mack's sigma per link; extrapolated where ``sigma_extrapolated``.
    sigma_extrapolated : numpy.ndarray of bool, shape (n_dev - 1,)
        Links whose sigma came from the log-linear regression.
    ldf_se : numpy.ndarray, shape (n_dev - 1,)
        Standard error of each link ratio.
    tail : float
        Tail factor applied to every ultimate (>= 1).
    latest : numpy.ndarray, shape (n_origins,)
        Latest observed cumulative amount per origin.
    latest_column : numpy.ndarray of int, shape (n_origins,)
        Column of the latest observed cell per origin.
    full_triangle : numpy.ndarray, shape (n_origins, n_dev)
        Observed cells and projected ones (before the tail).
    ultimate : numpy.ndarray, shape (n_origins,)
        Projected ultimate per origin, tail included.
    ibnr : numpy.ndarray, shape (n_origins,)
        ``ultimate - latest`` (the amount still to come).
    mack_se : numpy.ndarray, shape (n_origins,)
        Mack standard error of each ultimate (and of its IBNR).
    process_se, parameter_se : numpy.ndarray, shape (n_origins,)
        The two parts of ``mack_se`` (``mack_se ** 2 = process ** 2 + parameter ** 2``).
    total_ultimate, total_ibnr, total_mack_se : float
        Sums over origins, and the Mack standard error of the total
        (with the covariance between origins).
    """

    ldf: np.ndarray
    sigma: np.ndarray
    sigma_extrapolated: np.ndarray
    ldf_se: np.ndarray
    tail: float
    latest: np.ndarray
    latest_column: np.ndarray
    full_triangle: np.ndarray
    ultimate: np.ndarray
    ibnr: np.ndarray
    mack_se: np.ndarray
    process_se: np.ndarray
    parameter_se: np.ndarray
    total_ultimate: float
    total_ibnr: float
    total_mack_se: float

    @property
    def cdf(self) -> np.ndarray:
        """Cumulative development factor from each column to ultimate, tail included, shape (n_dev,)."""
        return np.append(np.cumprod(self.ldf[::-1])[::-1], 1.0) * self.tail


def _check_triangle(triangle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the triangle as float and each origin's latest observed column; raise on gaps."""
    values = np.asarray(triangle, dtype=float)
    if values.ndim != 2 or values.shape[1] < 2 or values.shape[0] < 1:
        raise InputDataError(
            f"{_STAGE}: the triangle must be 2-D with at least 1 origin and 2 development columns, got shape {values.shape}."
        )

    observed = ~np.isnan(values)
    n_observed = observed.sum(axis=1)
    contiguous = observed == (np.arange(values.shape[1])[None, :] < n_observed[:, None])
    bad_rows = np.flatnonzero(~contiguous.all(axis=1) | (n_observed == 0))
    if bad_rows.size:
        raise InputDataError(
            f"{_STAGE}: origin row(s) {bad_rows[:5].tolist()} are empty or have a gap; every origin must be observed "
            "from its first development column to its latest one. Fill unobserved cells with NaN only after the latest."
        )
    if (values[observed] < 0).any():
        raise InputDataError(f"{_STAGE}: the triangle holds negative cumulative amounts; cumulative recoveries are >= 0.")
    return values, n_observed - 1


def _log_linear_sigma(sigma: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown sigmas by regressing log sigma on the link index over the known positive ones."""
    usable = known & (sigma > 0)
    if usable.sum() >= 2:
        index = np.arange(sigma.size, dtype=float)
        slope, intercept = np.polyfit(index[usable], np.log(sigma[usable]), 1)
        return np.where(known, sigma, np.exp(intercept + slope * index))
    if usable.sum() == 1:
        return np.where(known, sigma, sigma[usable][0])
    return np.where(known, sigma, 0.0)


def exponential_tail(ldf: np.ndarray, extra_periods: int = 100) -> float:
    """Fit ``log(f[k] - 1) = a + b k`` over links with ``f > 1`` and extrapolate the product beyond the last one.

    Parameters
    ----------
    ldf : numpy.ndarray
        Link ratios of the triangle.
    extra_periods : int, default 100
        Development periods after the last column over which the fitted
        decay is multiplied.

    Returns
    -------
    float
        Tail factor ``prod_{k >= n} (1 + exp(a + b k))``; 1 when fewer than
        two links exceed 1 or the fitted decay does not fall (``b >= 0``).
    """
    index = np.arange(ldf.size, dtype=float)
    usable = np.isfinite(ldf) & (ldf > 1.0)
    if usable.sum() < 2:
        return 1.0

    slope, intercept = np.polyfit(index[usable], np.log(ldf[usable] - 1.0), 1)
    if slope >= 0:
        logger.warning("%s: link ratios do not decay (slope %.4f); exponential tail set to 1", _STAGE, slope)
        return 1.0

    future = np.arange(ldf.size, ldf.size + extra_periods, dtype=float)
    return float(np.exp(np.log1p(np.exp(intercept + slope * future)).sum()))


def mack_chain_ladder(triangle: np.ndarray, tail: float = 1.0) -> MackResult:
    """Project a cumulative triangle by the chain ladder with Mack standard errors.

    Parameters
    ----------
    triangle : numpy.ndarray, shape (n_origins, n_dev)
        Cumulative amounts, ``NaN`` where not yet observed.
    tail : float, default 1.0
        Factor from the last column to ultimate, >= 1.

    Returns
    -------
    MackResult

    Raises
    ------
    InputDataError
        The triangle is not 2-D, has a gap or a negative amount.
    ModelError
        A link has a zero denominator but a positive numerator (nothing at
        ``k``, something at ``k + 1``), so its ratio is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> result = mack_chain_ladder(np.array([[100.0, 150.0], [120.0, np.nan]]))
    >>> round(float(result.ultimate[1]), 6)
    180.0
    """
    if not np.isfinite(tail) or tail < 1.0:
        raise InputDataError(f"{_STAGE}: tail must be a finite factor >= 1, got {tail!r}.")

    values, latest_column = _check_triangle(triangle)
    n_origins, n_dev = values.shape
    origins = np.arange(n_origins)
    links = n_dev - 1

    ldf = np.ones(links)
    sigma = np.zeros(links)
    known = np.zeros(links, dtype=bool)
    denominators = np.zeros(links)
    for k in range(links):
        reached = latest_column >= k + 1
        numerator = values[reached, k + 1].sum()
        denominator = values[reached, k].sum()
        denominators[k] = denominator
        if denominator > 0:
            ldf[k] = numerator / denominator
        elif numerator > 0:
            raise ModelError(
                f"{_STAGE}: link {k} -> {k + 1} has nothing at column {k} but {numerator:,.2f} at column {k + 1}; "
                "the ratio is undefined. Start the triangle at the first column with recoveries."
            )

        positive = reached & (values[:, k] > 0)
        if positive.sum() >= 2:
            ratios = values[positive, k + 1] / values[positive, k]
            sigma[k] = np.sqrt((values[positive, k] * (ratios - ldf[k]) ** 2).sum() / (positive.sum() - 1))
            known[k] = True

    sigma = _log_linear_sigma(sigma, known)
    first_row_value = np.where(np.isnan(values[0, :-1]), 0.0, values[0, :-1])
    se_base = np.where(known, denominators, first_row_value)
    ldf_se = np.divide(sigma, np.sqrt(se_base), out=np.zeros(links), where=se_base > 0)

    full = values.copy()
    process2 = np.zeros(n_origins)
    parameter2 = np.zeros(n_origins)
    total_parameter2 = 0.0
    for k in range(links):
        projecting = latest_column <= k
        current = full[:, k]
        if projecting.any():
            full[projecting, k + 1] = current[projecting] * ldf[k]

        # Each origin still to develop through link k adds process and parameter error.
        process2 = np.where(projecting, ldf[k] ** 2 * process2 + sigma[k] ** 2 * current, process2)
        parameter2 = np.where(projecting, ldf[k] ** 2 * parameter2 + current**2 * ldf_se[k] ** 2, parameter2)
        projected_sum = current[projecting].sum()
        total_parameter2 = ldf[k] ** 2 * total_parameter2 + projected_sum**2 * ldf_se[k] ** 2

    latest = values[origins, latest_column]
    ultimate = full[:, -1] * tail
    process_se = np.sqrt(process2) * tail
    parameter_se = np.sqrt(parameter2) * tail
    mack_se = np.sqrt(process2 + parameter2) * tail
    total_mack_se = float(np.sqrt(process2.sum() + total_parameter2) * tail)

    return MackResult(
        ldf=ldf,
        sigma=sigma,
        sigma_extrapolated=~known,
        ldf_se=ldf_se,
        tail=float(tail),
        latest=latest,
        latest_column=latest_column,
        full_triangle=full,
        ultimate=ultimate,
        ibnr=ultimate - latest,
        mack_se=mack_se,
        process_se=process_se,
        parameter_se=parameter_se,
        total_ultimate=float(ultimate.sum()),
        total_ibnr=float((ultimate - latest).sum()),
        total_mack_se=total_mack_se,
    )
