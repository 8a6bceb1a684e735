"""Package prices: DCF, the buyer's bid at a target IRR, the bank's hold value, and their Monte Carlo distribution.

All amounts are in the package's currency; rates are annual, compounded
monthly, and cash in month ``t`` after the cut-off is discounted by
``(1 + r / 12) ** -t``.

- **DCF value** ``= PV_r(gross) * (1 - servicing_cost_rate)`` at the bank's
  ``discount_rate``: what the expected cash net of a servicer's cost is worth
  at the bank's rate.
- **Bid** (buyer's price for its target IRR) ``= (1 - servicing_cost_rate) *
  buyer_recovery_factor * PV_irr(gross) - due diligence``. Paying the bid at
  the cut-off and collecting the expected net cash earns exactly the target
  IRR, so the bid falls when the target IRR rises.
- **Hold value** (the bank's reservation price) ``= sum over loans of the PV
  of its best action other than transfer`` when the strategy stage's
  :class:`ActionResult` is given, else ``(1 - hold_cost_rate) *
  PV_r(gross) - hold_fixed_cost``.
- **Net sale proceeds** ``= bid * (1 - sale_cost_rate) * v ** sale_delay_months``
  at the bank's rate. Sell when proceeds exceed ``hold * (1 + sell_margin)``.

Monte Carlo: see :class:`sanhua.value.settings.MonteCarloSettings`. The
simulated quantity is the PV of the gross cash at a given rate; the bid in a
scenario is the same affine function of it as above, so its distribution
follows without a second simulation.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.stats import norm

from sanhua.errors import ConfigError, InputDataError
from sanhua.value.cashflows import discount_vector
from sanhua.value.settings import MonteCarloSettings, PricingSettings

__all__ = ["bid_price", "dcf_value", "sale_proceeds", "simulate_package_pv", "distribution_summary", "PackagePV"]

logger = logging.getLogger(__name__)

_STAGE = "pricing"


def dcf_value(gross: np.ndarray, rate: float, cost_rate: float = 0.0) -> np.ndarray:
    """Return ``(1 - cost_rate) * sum_t gross[..., t] * (1 + rate / 12) ** -(t + 1)``.

    Parameters
    ----------
    gross : numpy.ndarray, shape (..., n_months)
        Expected gross cash per month after the cut-off.
    rate : float
        Annual discount rate, >= 0.
    cost_rate : float
        Collection cost as a fraction of cash, in [0, 1].
    """
    if not 0 <= cost_rate <= 1:
        raise ConfigError(f"{_STAGE}: cost_rate must lie in [0, 1], got {cost_rate!r}.")
    return (1.0 - cost_rate) * (np.asarray(gross, dtype=float) @ discount_vector(rate, np.shape(gross)[-1]))


def bid_price(gross_pv_at_irr: np.ndarray, due_diligence: np.ndarray | float, settings: PricingSettings) -> np.ndarray:
    """Return the buyer's bid for its target IRR from the PV of the gross cash at that IRR.

    ``(1 - servicing_cost_rate) * buyer_recovery_factor * gross_pv_at_irr - due_diligence``,
    floored at 0 (no buyer pays to take a package).
    """
    value = (1.0 - settings.servicing_cost_rate) * settings.buyer_recovery_factor * np.asarray(gross_pv_at_irr, dtype=float)
    return np.maximum(value - due_diligence, 0.0)


def sale_proceeds(bid: np.ndarray, settings: PricingSettings) -> np.ndarray:
    """Return the bank's PV of a sale at ``bid``: net of sale costs, received ``sale_delay_months`` after the cut-off."""
    delay_factor = (1.0 + settings.discount_rate / 12.0) ** -settings.sale_delay_months
    return np.asarray(bid, dtype=float) * (1.0 - settings.sale_cost_rate) * delay_factor


@dataclass(frozen=True)
class PackagePV:
    """Simulated PV of each package's gross cash.

    Attributes
    ----------
    values : numpy.ndarray, shape (n_packages, n_scenarios)
        PV per package and scenario, package currency.
    seconds : float
        Wall-clock time of the simulation.
    chunk_loans : int
        Chunk size used (part of what makes a seed reproducible).
    """

    values: np.ndarray
    seconds: float
    chunk_loans: int


def _systematic_paths(rng: np.random.Generator, n_scenarios: int, n_months: int, settings: MonteCarloSettings) -> np.ndarray:
    """Return the mean-one systematic multipliers, shape (n_months, n_scenarios)."""
    phi = settings.systematic_persistence
    shocks = rng.standard_normal((n_months, n_scenarios))
    factor = np.empty_like(shocks)
    factor[0] = shocks[0]
    scale = math.sqrt(1.0 - phi**2)
    for month in range(1, n_months):
        factor[month] = phi * factor[month - 1] + scale * shocks[month]
    b = settings.systematic_sd
    return np.exp(b * factor - 0.5 * b * b)


def idiosyncratic_table(sd: float, size: int = 65_536) -> np.ndarray:
    """Return ``size`` equiprobable quantiles of the mean-one lognormal ``exp(sd * N - sd^2 / 2)`` (float32).

    A uniform 16-bit index into this table draws the idiosyncratic multiplier:
    the quantiles sit at the mid-points ``(j + 0.5) / size`` and are rescaled to
    a mean of exactly 1, so the draw is unbiased. It is five to eight times faster
    than drawing normals and exponentiating on the benchmark machine; the
    tails beyond the extreme quantiles (about 4.3 standard deviations) are cut.
    """
    quantiles = np.exp(sd * norm.ppf((np.arange(size) + 0.5) / size))
    return (quantiles / quantiles.mean()).astype(np.float32)


def simulate_package_pv(
    gross: np.ndarray,
    package_index: np.ndarray,
    n_packages: int,
    rate: float,
    settings: MonteCarloSettings | None = None,
) -> PackagePV:
    """Simulate the PV of each package's gross cash under the one-factor model.

    Parameters
    ----------
    gross : numpy.ndarray, shape (n_loans, n_months)
        Expected gross cash per loan and month.
    package_index : numpy.ndarray of int, shape (n_loans,)
        Package of each loan in ``0 .. n_packages - 1``; -1 leaves a loan out.
    n_packages : int
        Number of packages.
    rate : float
        Annual discount rate of the PV.
    settings : MonteCarloSettings or None
        Scenario count, seed, volatilities and chunking; defaults when None.

    Returns
    -------
    PackagePV

    Notes
    -----
    Per chunk of loans the work is one matrix product, ``(gross * v)`` (loans x
    months) by the systematic multipliers (months x scenarios), in float32,
    one loans x scenarios array of idiosyncratic multipliers drawn from
    :func:`idiosyncratic_table`, and a float64 sum into the packages. Memory
    peaks near ``10 * chunk_loans * n_scenarios`` bytes per thread; the loans x scenarios x months array is never built. Chunk
    ``j`` draws from ``SeedSequence(seed).spawn(n_chunks)[j]``, so the result
    does not depend on the thread count.
    """
    settings = settings or MonteCarloSettings()
    started = time.perf_counter()
    gross = np.asarray(gross, dtype=float)
    index = np.asarray(package_index, dtype=np.int64)
    if gross.ndim != 2 or index.shape != (gross.shape[0],):
        raise InputDataError(f"{_STAGE}: gross must be (n_loans, n_months) and package_index (n_loans,), got {gross.shape} and {index.shape}.")
    if ((index < -1) | (index >= n_packages)).any():
        raise InputDataError(f"{_STAGE}: package_index must lie in [-1, {n_packages}).")
    if not np.isfinite(gross).all() or (gross < 0).any():
        raise InputDataError(f"{_STAGE}: gross cash must be finite and >= 0.")

    # Loans sorted by package, so each chunk touches few packages.
    order = np.argsort(index, kind="stable")
    order = order[index[order] >= 0]
    discounted = gross[order] * discount_vector(rate, gross.shape[1])[None, :]
    index = index[order]
    n_loans, n_months = discounted.shape
    n_scenarios = settings.n_scenarios

    root = np.random.SeedSequence(settings.seed)
    systematic_seed, chunk_root = root.spawn(2)
    systematic = _systematic_paths(np.random.default_rng(systematic_seed), n_scenarios, n_months, settings)

    chunk = settings.chunk_loans
    n_chunks = max(1, math.ceil(n_loans / chunk))
    chunk_seeds = chunk_root.spawn(n_chunks)
    table = idiosyncratic_table(settings.idiosyncratic_sd)
    discounted32 = discounted.astype(np.float32)
    systematic32 = systematic.astype(np.float32)

    def run_chunk(j: int) -> np.ndarray:
        rows = slice(j * chunk, min((j + 1) * chunk, n_loans))
        loan_pv = discounted32[rows] @ systematic32
        draws = np.random.default_rng(chunk_seeds[j]).integers(0, table.size, loan_pv.shape, dtype=np.uint16)
        loan_pv *= table[draws]
        totals = np.zeros((n_packages, n_scenarios))
        members = index[rows]
        present = np.unique(members)
        if present.size == 1:
            totals[present[0]] = loan_pv.sum(axis=0)
        else:
            indicator = (members[None, :] == present[:, None]).astype(float)
            totals[present] = indicator @ loan_pv
        return totals

    values = np.zeros((n_packages, n_scenarios))
    if n_loans:
        if settings.threads > 1 and n_chunks > 1:
            with ThreadPoolExecutor(max_workers=settings.threads) as pool:
                for totals in pool.map(run_chunk, range(n_chunks)):
                    values += totals
        else:
            for j in range(n_chunks):
                values += run_chunk(j)

    seconds = time.perf_counter() - started
    logger.info(
        "%s: simulated %d loans x %d scenarios in %d chunk(s), %.2f s", _STAGE, n_loans, n_scenarios, n_chunks, seconds
    )
    return PackagePV(values=values, seconds=seconds, chunk_loans=chunk)


def distribution_summary(values: np.ndarray, tail_level: float = 0.05) -> pl.DataFrame:
    """Summarise simulated prices per package.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_packages, n_scenarios)
        Simulated prices.
    tail_level : float, default 0.05
        Level ``a`` of the low percentile and the expected shortfall.

    Returns
    -------
    polars.DataFrame
        One row per package in input order: ``mc_mean``, ``mc_se``
        (standard deviation / sqrt(n_scenarios)), ``p5``, ``p50``, ``p95``
        (the 5th, 50th and 95th percentiles whatever ``tail_level``) and
        ``expected_shortfall`` (mean of the scenarios at or below the
        ``a``-quantile: the average price in the worst ``a`` of outcomes).
    """
    values = np.asarray(values, dtype=float)
    n_scenarios = values.shape[1]
    percentiles = np.percentile(values, [5, 50, 95], axis=1)
    cut = np.quantile(values, tail_level, axis=1)
    below = values <= cut[:, None]
    shortfall = (values * below).sum(axis=1) / np.maximum(below.sum(axis=1), 1)
    return pl.DataFrame(
        {
            "mc_mean": values.mean(axis=1),
            "mc_se": values.std(axis=1, ddof=1) / math.sqrt(n_scenarios) if n_scenarios > 1 else np.zeros(values.shape[0]),
            "p5": percentiles[0],
            "p50": percentiles[1],
            "p95": percentiles[2],
            "expected_shortfall": shortfall,
        }
    )
