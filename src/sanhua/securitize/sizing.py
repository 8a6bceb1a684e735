"""Tranche sizing: the largest senior share that survives a target stress.

The total issue stays fixed; the senior classes take share ``s`` of it (pro rata among them)
and the subordinated class ``1 - s``. A share *survives* when every senior class receives full
and timely interest and its whole principal in every scenario of the target stress. Survival
falls as ``s`` rises, so the search brackets the first failing share on a grid of 201 shares
(each share and target scenario is one scenario of a single engine run), then narrows the
bracket twice more on grids of 201 shares: the result is within ``1e-6`` of the boundary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from sanhua.errors import ConfigError
from sanhua.securitize.deal import Deal
from sanhua.securitize.engine import WaterfallEngine
from sanhua.securitize.scenarios import PARAMETERS, Scenarios

__all__ = ["SizingResult", "size_senior"]

logger = logging.getLogger(__name__)

_POINTS = 201


@dataclass(frozen=True)
class SizingResult:
    """Outcome of :func:`size_senior`.

    Attributes
    ----------
    senior_share : float
        Largest senior share of the issue that survives the target (0 when none does).
    senior_balance, subordinated_balance : float
        Balances at that share, in the deal's currency.
    actual_share : float
        The deal's own senior share, for comparison.
    deal : Deal
        The deal resized to ``senior_share``.
    target : pl.DataFrame
        The target stress scenarios.
    """

    senior_share: float
    senior_balance: float
    subordinated_balance: float
    actual_share: float
    deal: Deal
    target: pl.DataFrame

    def to_frame(self) -> pl.DataFrame:
        """Return the sizing as a one-row table."""
        return pl.DataFrame(
            {
                "senior_share": [self.senior_share],
                "actual_senior_share": [self.actual_share],
                "senior_balance": [self.senior_balance],
                "subordinated_balance": [self.subordinated_balance],
                "issue_balance": [self.deal.issue_balance],
            }
        )


def _surviving(engine: WaterfallEngine, shares: np.ndarray, target: Scenarios) -> np.ndarray:
    """Return, per share, whether every senior class survives every target scenario."""
    n, m = len(shares), len(target)
    values = {name: np.tile(getattr(target, name), n) for name in PARAMETERS if name != "senior_share"}
    scenarios = Scenarios.from_values(n * m, senior_share=np.repeat(shares, m), **values)
    result = engine.run(scenarios)
    alive = np.ones(n * m, dtype=bool)
    for tranche in engine.deal.seniors:
        alive &= result.survives(tranche.name, timely_interest=True)
    return alive.reshape(n, m).all(axis=1)


def size_senior(deal: Deal, target: Scenarios, *, max_share: float = 0.999) -> SizingResult:
    """Find the largest senior share of the issue that survives ``target`` with full and timely interest.

    Parameters
    ----------
    deal : Deal
        The deal; its total issue and its senior classes' proportions are kept.
    target : Scenarios
        The target stress (one or more scenarios; all must be survived). Its
        ``senior_share`` column is ignored.
    max_share : float
        Upper end of the search (the subordinated class keeps at least ``1 - max_share``).

    Returns
    -------
    SizingResult
        The sized share and the resized deal.
    """
    if not 0.0 < max_share < 1.0:
        raise ConfigError(f"max_share = {max_share} must lie in (0, 1).")
    if len(target) == 0:
        raise ConfigError("The target stress has no scenario; give at least one.")
    engine = WaterfallEngine(deal)

    low, high = 0.0, max_share
    found = 0.0
    for _ in range(3):
        shares = np.linspace(low, high, _POINTS)
        alive = _surviving(engine, shares, target)
        failed = np.flatnonzero(~alive)
        if failed.size == 0:
            found = float(shares[-1])
            break
        first = int(failed[0])
        if first == 0:
            found = float(shares[0]) if low > 0 else 0.0
            break
        found = float(shares[first - 1])
        low, high = float(shares[first - 1]), float(shares[first])

    sized = deal.with_senior_share(found) if found > 0 else deal.with_senior_share(1e-9)
    actual = sum(t.balance for t in deal.seniors) / deal.issue_balance
    logger.info("Sized deal %r: senior share %.4f (actual %.4f)", deal.name, found, actual)
    return SizingResult(
        senior_share=found,
        senior_balance=deal.issue_balance * found,
        subordinated_balance=deal.issue_balance * (1.0 - found),
        actual_share=actual,
        deal=sized,
        target=target.to_frame(),
    )
