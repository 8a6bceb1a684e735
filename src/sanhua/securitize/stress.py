"""Stress tests of a deal: scenario grids, break-even stresses and the liquidity stress of the reserve.

A *survival* test asks whether a class is repaid in full; for senior classes it also asks for
full and timely interest (no arrears after any period). A break-even stress is the largest value
of one stress parameter at which a class still survives, the others held at a base point: the
class's first-loss point on that axis.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import polars as pl

from sanhua.errors import ConfigError
from sanhua.securitize.deal import Deal
from sanhua.securitize.engine import WaterfallEngine
from sanhua.securitize.results import DealResult
from sanhua.securitize.scenarios import PARAMETERS, Scenarios

__all__ = ["BREAK_EVEN_RANGES", "stress_grid", "monte_carlo_grid", "break_even", "liquidity_stress", "survival"]

logger = logging.getLogger(__name__)

BREAK_EVEN_RANGES: Final[dict[str, tuple[float, float]]] = {
    "recovery_haircut": (0.0, 1.0),
    "delay_months": (0.0, 60.0),
    "redefault_multiple": (1.0, 50.0),
    "rate_shift": (0.0, 0.2),
}
"""Search range of each break-even parameter (from the base case to an extreme stress)."""

_POINTS: Final[int] = 201
_GRID_CHUNK: Final[int] = 20_000


def survival(result: DealResult) -> dict[str, np.ndarray]:
    """Return, per tranche, whether it survives in each scenario (seniors: full principal and timely interest)."""
    return {t.name: result.survives(t.name, timely_interest=t.seniority == "senior") for t in result.deal.tranches}


def _base_values(base: Scenarios | None) -> dict[str, float]:
    base = base if base is not None else Scenarios.base()
    if len(base) != 1:
        raise ConfigError(f"The base point of a stress must be one scenario, got {len(base)}.")
    return {name: float(getattr(base, name)[0]) for name in PARAMETERS}


def stress_grid(deal: Deal, axes: Mapping[str, Sequence[float]], base: Scenarios | None = None) -> pl.DataFrame:
    """Run one deterministic scenario per grid point and return the tranche metrics.

    Parameters
    ----------
    deal : Deal
        The deal.
    axes : Mapping of parameter name to values
        Grid axes, for example ``{"recovery_haircut": [0, 0.2, 0.4], "delay_months": [0, 6]}``.
    base : Scenarios or None
        One scenario that sets the parameters not on an axis.

    Returns
    -------
    pl.DataFrame
        One row per grid point and tranche: the axis values, then the columns
        of :meth:`DealResult.tranche_summary` (``yield``, ``principal_loss_rate``,
        ``interest_shortfall_max``, ``full_and_timely``, ``trigger_period`` ...).
    """
    fixed = {name: value for name, value in _base_values(base).items() if name not in axes}
    scenarios = Scenarios.grid(axes, **fixed)
    result = WaterfallEngine(deal).run(scenarios)
    points = scenarios.to_frame().select("scenario", *axes)
    return points.join(result.tranche_summary(), on="scenario", how="left").sort("scenario", "tranche", maintain_order=True)


def monte_carlo_grid(deal: Deal, axes: Mapping[str, Sequence[float]], paths: int, seed: int, **spread: float) -> pl.DataFrame:
    """Run ``paths`` random scenarios around each grid point and summarise each tranche per point.

    The random scenarios come from :meth:`Scenarios.monte_carlo` (seeded by ``seed`` plus the
    point's index); ``spread`` passes its dispersion arguments (``haircut_sd``,
    ``delay_max_extra``, ``redefault_sd``). Axes may be ``recovery_haircut``, ``delay_months``,
    ``redefault_multiple`` and ``rate_shift``.

    Returns
    -------
    pl.DataFrame
        One row per point and tranche: the axis values, ``paths``, ``mean_yield``,
        ``p05_yield``, ``expected_loss_rate``, ``loss_probability`` and
        ``survival_probability``.
    """
    allowed = {"recovery_haircut", "delay_months", "redefault_multiple", "rate_shift"}
    if set(axes) - allowed:
        raise ConfigError(f"Monte Carlo grid axes must be among {sorted(allowed)}, got {sorted(axes)}.")
    points = Scenarios.grid(axes)
    engine = WaterfallEngine(deal)
    per_chunk = max(1, _GRID_CHUNK // paths)
    frames = []

    for start in range(0, len(points), per_chunk):
        chunk = range(start, min(start + per_chunk, len(points)))
        parts = []
        for point in chunk:
            values = {name: float(getattr(points, name)[point]) for name in axes}
            parts.append(Scenarios.monte_carlo(paths, seed + point, **values, **spread))
        result = engine.run(Scenarios.concat(parts))
        summary = result.tranche_summary().with_columns((pl.col("scenario") // paths + start).alias("point"))
        alive = survival(result)
        survived = np.concatenate([alive[t.name] for t in deal.tranches])
        summary = summary.with_columns(pl.Series("survived", survived))
        frames.append(
            summary.group_by("point", "tranche", maintain_order=True).agg(
                pl.len().alias("paths"),
                pl.col("yield").mean().alias("mean_yield"),
                pl.col("yield").quantile(0.05).alias("p05_yield"),
                pl.col("principal_loss_rate").mean().alias("expected_loss_rate"),
                (pl.col("principal_loss") > 0.01).mean().alias("loss_probability"),
                pl.col("survived").mean().alias("survival_probability"),
            )
        )

    grid = points.to_frame().select(pl.col("scenario").alias("point"), *axes)
    table = grid.join(pl.concat(frames), on="point", how="left")
    logger.info("Monte Carlo grid: %d points x %d paths", len(points), paths)
    return table.sort("point", "tranche", maintain_order=True)


def _survival_curve(deal: Deal, parameter: str, values: np.ndarray, base: dict[str, float]) -> dict[str, np.ndarray]:
    fixed = {name: value for name, value in base.items() if name != parameter}
    scenarios = Scenarios.from_values(len(values), **{parameter: values}, **fixed)
    return survival(WaterfallEngine(deal).run(scenarios))


def _last_surviving(values: np.ndarray, alive: np.ndarray) -> int:
    """Index of the last value before the first failure (-1 when the first value already fails)."""
    failed = np.flatnonzero(~alive)
    return len(values) - 1 if failed.size == 0 else int(failed[0]) - 1


def break_even(deal: Deal, parameter: str = "recovery_haircut", base: Scenarios | None = None) -> pl.DataFrame:
    """Find each tranche's break-even value of one stress parameter.

    The search evaluates 201 values over :data:`BREAK_EVEN_RANGES` in one engine run, then 201
    values between the last survivor and the first failure (whole months for ``delay_months``).

    Returns
    -------
    pl.DataFrame
        ``tranche``, ``parameter``, ``break_even`` (the largest surviving value; null when the
        class fails even at the base point), ``survives_range_end`` (true when it survives the
        whole range, so the true break-even lies beyond it).
    """
    if parameter not in BREAK_EVEN_RANGES:
        raise ConfigError(f"Break-even parameter {parameter!r} is not supported. Allowed: {sorted(BREAK_EVEN_RANGES)}.")
    values_at = _base_values(base)
    low, high = BREAK_EVEN_RANGES[parameter]
    low = max(low, values_at[parameter])
    integer = parameter == "delay_months"
    values = np.arange(low, high + 1) if integer else np.linspace(low, high, _POINTS)
    curves = _survival_curve(deal, parameter, values, values_at)

    rows = []
    for tranche in deal.tranches:
        alive = curves[tranche.name]
        last = _last_surviving(values, alive)
        if last < 0:
            rows.append({"tranche": tranche.name, "parameter": parameter, "break_even": None, "survives_range_end": False})
            continue
        if last == len(values) - 1:
            rows.append({"tranche": tranche.name, "parameter": parameter, "break_even": float(values[last]), "survives_range_end": True})
            continue
        found = float(values[last])
        if not integer:
            fine = np.linspace(values[last], values[last + 1], _POINTS)
            fine_alive = _survival_curve(deal, parameter, fine, values_at)[tranche.name]
            found = float(fine[max(_last_surviving(fine, fine_alive), 0)])
        rows.append({"tranche": tranche.name, "parameter": parameter, "break_even": found, "survives_range_end": False})
    return pl.DataFrame(rows, schema={"tranche": pl.Utf8, "parameter": pl.Utf8, "break_even": pl.Float64, "survives_range_end": pl.Boolean})


def liquidity_stress(deal: Deal, delays: Sequence[int] = tuple(range(0, 13)), base: Scenarios | None = None) -> pl.DataFrame:
    """Delay every collection by each number of months and measure how the reserve and facility cope.

    Returns
    -------
    pl.DataFrame
        One row per delay: ``delay_months``, ``reserve_draws`` (total drawn from the liquidity
        reserve), ``reserve_min`` (lowest balance after any period), ``facility_peak`` (largest
        outstanding draw), ``senior_arrears_max`` (largest senior interest arrears after any
        period), ``senior_periods_short`` and ``senior_timely`` (no senior arrears).
    """
    fixed = {name: value for name, value in _base_values(base).items() if name != "delay_months"}
    scenarios = Scenarios.from_values(len(delays), delay_months=np.asarray(delays, dtype=np.float64), **fixed)
    result = WaterfallEngine(deal).run(scenarios)
    flows = result.flows

    arrears = sum(flows[f"arrears:{t.name}"] for t in deal.seniors)
    return pl.DataFrame(
        {
            "delay_months": np.asarray(delays, dtype=np.int64),
            "reserve_draws": flows["liquidity_reserve_draw"].sum(axis=1),
            "reserve_min": flows["liquidity_reserve"].min(axis=1),
            "facility_peak": flows["facility_balance"].max(axis=1),
            "senior_arrears_max": arrears.max(axis=1),
            "senior_periods_short": (arrears > 0.01).sum(axis=1).astype(np.int64),
            "senior_timely": arrears.max(axis=1) <= 0.01,
        }
    )
