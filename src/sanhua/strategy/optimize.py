"""Portfolio-optimal assignment of one action per loan under capacity constraints.

The problem, for loans ``i``, actions ``a`` and capacity resources ``r``::

    maximise    sum_i sum_a value[a, i] * x[a, i]
    subject to  sum_a x[a, i] = 1                                   for every loan i
                sum_i sum_a usage[r, a, i] * x[a, i] <= capacity[r]  for every resource r
                x[a, i] in {0, 1}, and x[a, i] = 0 where the action is infeasible

``value`` is the NPV of the action in CNY (``-inf`` or NaN where the action is
infeasible, which is how the policy rules enter), ``usage`` the capacity it
takes in the resource's unit. One action per loan, the ``fallback``, must be
feasible and use no capacity (hold), so the problem is always feasible.

Solvers
-------
``highs``
    HiGHS (``highspy``) on the LP relaxation, for the bound and the shadow
    prices, then on the MIP with integrality. Exact up to ``mip_rel_gap``;
    for small and medium portfolios.
``highs-lp``
    HiGHS on the LP relaxation only. At most one loan per binding resource is
    fractional in a basic solution; those loans are rounded and repaired.
``lagrangian``
    Dual decomposition. For multipliers ``lam >= 0`` the Lagrangian dual
    ``L(lam) = sum_i max_a (value[a, i] - lam . usage[:, a, i]) + lam . capacity``
    splits into one argmax per loan (vectorised NumPy). Every ``L(lam)``
    bounds the LP optimum from above, and ``min L`` equals it. ``L`` is
    minimised over the multipliers by a box-step cutting-plane method (a
    small LP over the multipliers solved by HiGHS), warm-started on random
    subsamples of 20,000 and 200,000 loans. The argmax assignment at the best
    multipliers is then repaired to feasibility: loans on an over-used
    resource move to their next-best action, cheapest loss per unit freed
    first. Last, upgrades that fit the slack are filled in, best gain per
    unit of capacity first. The reported ``gap`` is
    ``(bound - objective) / |bound|`` with ``bound = min L`` found, an upper
    bound on the LP optimum, so the gap to the LP bound is at most ``gap``.
    Time and memory are linear in the number of loans.
``greedy``
    The baseline: each loan's best action, then loans cut back to the
    fallback on every over-used resource, lowest value per unit first.

Shadow prices are the multipliers ``lam`` (HiGHS: the LP row duals): the NPV
one more unit of a resource's capacity would add, in CNY per unit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sanhua.errors import ConfigError, InputDataError
from sanhua.strategy.settings import SOLVERS, OptimiserSettings

__all__ = ["AssignmentProblem", "Assignment", "OptimiserSettings", "PortfolioOptimiser", "SOLVERS"]

logger = logging.getLogger(__name__)

_WARM_START_SIZES = (20_000, 200_000)


@dataclass(frozen=True)
class AssignmentProblem:
    """The assignment problem in arrays, action-major so each action's row is contiguous.

    Attributes
    ----------
    value : numpy.ndarray, shape (n_actions, n_loans)
        NPV of each action per loan, CNY; ``-inf`` or NaN where infeasible.
    usage : numpy.ndarray, shape (n_resources, n_actions, n_loans)
        Capacity each action takes per loan, in the resource's unit, >= 0.
    capacity : numpy.ndarray, shape (n_resources,)
        Capacity of each resource over the plan, >= 0; ``inf`` is unlimited.
    actions : tuple of str
        Action names, one per row of ``value``.
    resources : tuple of str
        Resource names, one per entry of ``capacity``.
    loan_id : polars.Series or None
        Loan ids in column order (for the plan table).
    fallback : str
        Action that every loan may take without capacity (hold).
    """

    value: np.ndarray
    usage: np.ndarray
    capacity: np.ndarray
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    loan_id: pl.Series | None = None
    fallback: str = "hold"

    @property
    def n_loans(self) -> int:
        """Number of loans."""
        return int(self.value.shape[1])

    def check(self) -> None:
        """Raise :class:`InputDataError` or :class:`ConfigError` when the arrays are inconsistent or invalid."""
        k, n = self.value.shape if self.value.ndim == 2 else (0, 0)
        if self.value.ndim != 2 or k != len(self.actions):
            raise InputDataError(f"optimiser: value must have shape (n_actions={len(self.actions)}, n_loans), got {self.value.shape}.")
        if self.usage.shape != (len(self.resources), k, n):
            raise InputDataError(f"optimiser: usage must have shape {(len(self.resources), k, n)}, got {self.usage.shape}.")
        if self.capacity.shape != (len(self.resources),):
            raise InputDataError(f"optimiser: capacity must have one entry per resource {self.resources}, got shape {self.capacity.shape}.")
        bad = np.isnan(self.capacity) | (self.capacity < 0)
        if bad.any():
            name = self.resources[int(np.flatnonzero(bad)[0])]
            raise ConfigError(f"optimiser: capacity of {name!r} is {self.capacity[bad][0]!r}; give a number >= 0 (inf for unlimited).")
        if self.fallback not in self.actions:
            raise InputDataError(f"optimiser: the fallback action {self.fallback!r} is not one of the actions {self.actions}.")
        if not np.isfinite(self.usage).all() or (self.usage < 0).any():
            raise InputDataError("optimiser: usage must be finite and >= 0 for every loan, action and resource.")
        if np.isposinf(self.value).any():
            raise InputDataError("optimiser: a value is +inf, which is invalid; give NPVs in CNY, with -inf or NaN for infeasible actions.")
        fallback = self.actions.index(self.fallback)
        if not np.isfinite(self.value[fallback]).all():
            position = int(np.flatnonzero(~np.isfinite(self.value[fallback]))[0])
            raise InputDataError(f"optimiser: the fallback action {self.fallback!r} is infeasible for the loan in column {position}; it must be feasible for every loan.")
        if (self.usage[:, fallback, :] > 0).any():
            raise InputDataError(f"optimiser: the fallback action {self.fallback!r} uses capacity; it must use none so every plan can be made feasible.")


@dataclass(frozen=True)
class Assignment:
    """The solution of :class:`PortfolioOptimiser`.

    Attributes
    ----------
    action_index : numpy.ndarray, shape (n_loans,)
        Index into ``actions`` of the action chosen per loan.
    actions, resources : tuple of str
        Names of the actions and resources.
    objective : float
        Portfolio NPV of the plan, CNY.
    bound : float
        Upper bound on the LP optimum (Lagrangian: the best dual value; HiGHS:
        the LP optimum), CNY. ``objective <= exact optimum <= bound``.
    gap : float
        ``(bound - objective) / |bound|``, fraction.
    capacity : numpy.ndarray
        Capacity per resource (``inf`` unlimited).
    used : numpy.ndarray
        Capacity the plan uses per resource.
    shadow_price : numpy.ndarray
        NPV of one more unit of each resource, CNY per unit (0 for a resource with slack).
    solver : str
        Solver that produced the plan.
    seconds : float
        Wall time of the solve.
    iterations : int
        Dual iterations (Lagrangian) or 0.
    status : str
        Solver status (``optimal``, ``feasible``, ``time limit``...).
    greedy_objective : float
        NPV of each loan's best action ignoring capacity (the unconstrained upper bound), CNY.
    plan_value : numpy.ndarray
        NPV of the chosen action per loan, CNY.
    loan_id : polars.Series or None
        Loan ids in the problem's order.
    """

    action_index: np.ndarray
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    objective: float
    bound: float
    gap: float
    capacity: np.ndarray
    used: np.ndarray
    shadow_price: np.ndarray
    solver: str
    seconds: float
    iterations: int
    status: str
    greedy_objective: float
    plan_value: np.ndarray
    loan_id: pl.Series | None = field(default=None, repr=False)

    def plan(self) -> pl.DataFrame:
        """Return the plan: ``loan_id`` (or ``position``), ``action`` (Enum) and ``value`` (CNY) per loan."""
        key = self.loan_id if self.loan_id is not None else pl.Series("position", np.arange(self.action_index.size))
        return pl.DataFrame(
            {
                key.name: key,
                "action": pl.Series(np.asarray(self.actions)[self.action_index], dtype=pl.Utf8).cast(pl.Enum(list(self.actions))),
                "value": self.plan_value,
            }
        )

    def capacity_table(self) -> pl.DataFrame:
        """Return ``resource``, ``capacity``, ``used``, ``share_used`` (fraction; null when unlimited) and ``shadow_price`` (CNY per unit)."""
        finite = np.isfinite(self.capacity)
        share = np.where(finite & (self.capacity > 0), self.used / np.where(finite & (self.capacity > 0), self.capacity, 1.0), np.nan)
        return pl.DataFrame(
            {
                "resource": list(self.resources),
                "capacity": np.where(finite, self.capacity, np.nan),
                "used": self.used,
                "share_used": share,
                "shadow_price": self.shadow_price,
            }
        ).with_columns(pl.col("capacity", "share_used").fill_nan(None))

    def npv_by_action(self) -> pl.DataFrame:
        """Return ``action``, ``loans`` and ``npv`` (CNY) of the plan, in catalogue order, every action listed."""
        counts = np.bincount(self.action_index, minlength=len(self.actions))
        npv = np.bincount(self.action_index, weights=self.plan_value, minlength=len(self.actions))
        return pl.DataFrame({"action": list(self.actions), "loans": counts.astype(np.int64), "npv": npv})


class PortfolioOptimiser:
    """Choose one action per loan to maximise portfolio NPV within capacity.

    Parameters
    ----------
    settings : OptimiserSettings or None
        Solver choice and tolerances; defaults when None.

    Examples
    --------
    >>> import numpy as np
    >>> value = np.array([[10.0, 8.0], [1.0, 1.0]])          # action 0 = work, action 1 = hold
    >>> usage = np.array([[[1.0, 1.0], [0.0, 0.0]]])          # one resource: work takes 1 unit
    >>> problem = AssignmentProblem(value, usage, np.array([1.0]), ("work", "hold"), ("officers",))
    >>> result = PortfolioOptimiser(OptimiserSettings(solver="highs")).run(problem)
    >>> result.action_index.tolist(), round(result.objective, 6)
    ([0, 1], 11.0)
    """

    def __init__(self, settings: OptimiserSettings | None = None) -> None:
        self.settings = settings

    def run(self, problem: AssignmentProblem) -> Assignment:
        """Solve ``problem`` with the configured solver.

        Returns
        -------
        Assignment

        Raises
        ------
        InputDataError
            The problem's arrays are inconsistent (see :meth:`AssignmentProblem.check`).
        ConfigError
            A capacity is negative or NaN, or the settings are not :class:`OptimiserSettings`.
        """
        settings = self.settings if self.settings is not None else OptimiserSettings()
        if not isinstance(settings, OptimiserSettings):
            raise ConfigError(f"optimiser: settings must be an OptimiserSettings, got {type(settings).__name__}.")
        problem.check()

        started = time.perf_counter()
        prepared = _Prepared.build(problem)
        solver = settings.solver
        if solver == "auto":
            solver = "highs" if problem.n_loans <= settings.highs_max_loans else "lagrangian"

        if not prepared.constrained.size:
            index, bound, prices, status, iterations = prepared.unconstrained_best(), None, np.zeros(0), "optimal", 0
        elif solver == "greedy":
            index, bound, prices, status, iterations = _greedy(prepared), None, np.zeros(prepared.constrained.size), "heuristic", 0
        elif solver in ("highs", "highs-lp"):
            index, bound, prices, status = _solve_highs(prepared, settings, integer=solver == "highs")
            iterations = 0
        else:
            index, bound, prices, status, iterations = _solve_lagrangian(prepared, settings)

        assignment = prepared.assignment(index, bound, prices, solver, time.perf_counter() - started, iterations, status)
        logger.info(
            "optimiser: %d loans, solver %s, objective %.6g CNY, bound %.6g, gap %.2e, %.3f s",
            problem.n_loans, solver, assignment.objective, assignment.bound, assignment.gap, assignment.seconds,
        )
        return assignment


# --------------------------------------------------------------- internals


@dataclass
class _Prepared:
    """The problem with infeasible values at ``-inf`` and only the resources that constrain.

    ``terms[a]`` lists, for action ``a``, the constrained resources it uses as
    ``(j, constant, vector)``: a use that is the same for every loan is kept
    as a scalar, which makes each dual evaluation a few vector operations.
    """

    problem: AssignmentProblem
    value: np.ndarray
    constrained: np.ndarray
    terms: list[list[tuple[int, float, np.ndarray | None]]]
    fallback: int

    @classmethod
    def build(cls, problem: AssignmentProblem) -> _Prepared:
        value = np.where(np.isnan(problem.value), -np.inf, problem.value)
        capacity = problem.capacity
        # A resource with no capacity forbids every action that needs it.
        for r in np.flatnonzero(capacity == 0):
            value = np.where(problem.usage[r] > 0, -np.inf, value)
        constrained = np.flatnonzero(np.isfinite(capacity) & (capacity > 0))
        terms: list[list[tuple[int, float, np.ndarray | None]]] = [[] for _ in problem.actions]
        for j, r in enumerate(constrained):
            for a in range(len(problem.actions)):
                use = problem.usage[r, a]
                low, high = float(use.min()), float(use.max())
                if high <= 0:
                    continue
                terms[a].append((j, low, None) if low == high else (j, 0.0, use))
        return cls(problem=problem, value=value, constrained=constrained, terms=terms, fallback=problem.actions.index(problem.fallback))

    @property
    def n(self) -> int:
        return self.problem.n_loans

    @property
    def capacity(self) -> np.ndarray:
        return self.problem.capacity[self.constrained]

    def usage(self, j: int, a: int) -> np.ndarray:
        """Use of constrained resource ``j`` by action ``a``, per loan."""
        return self.problem.usage[self.constrained[j], a]

    def unconstrained_best(self) -> np.ndarray:
        return np.argmax(self.value, axis=0)

    def used(self, index: np.ndarray) -> np.ndarray:
        """Use of each constrained resource by an assignment."""
        counts = np.bincount(index, minlength=self.value.shape[0])
        used = np.zeros(len(self.constrained))
        for a, terms in enumerate(self.terms):
            if not counts[a]:
                continue
            mask = None
            for j, constant, vector in terms:
                if vector is None:
                    used[j] += constant * counts[a]
                else:
                    mask = index == a if mask is None else mask
                    used[j] += vector.sum(where=mask)
        return used

    def reduced_argmax(self, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-loan argmax and max of ``value - lam . usage`` over actions."""
        best = self.reduced_row(0, lam)
        index = np.zeros(self.n, dtype=np.int64)
        better = np.empty(self.n, dtype=bool)
        for a in range(1, self.value.shape[0]):
            reduced = self.reduced_row(a, lam)
            np.greater(reduced, best, out=better)
            np.maximum(best, reduced, out=best)
            np.copyto(index, a, where=better)
        return index, best

    def reduced_row(self, a: int, lam: np.ndarray) -> np.ndarray:
        """``value[a] - lam . usage[:, a]`` per loan (a new array)."""
        constant = sum(lam[j] * c for j, c, vector in self.terms[a] if vector is None)
        reduced = self.value[a] - constant
        for j, _, vector in self.terms[a]:
            if vector is not None and lam[j] != 0:
                reduced -= lam[j] * vector
        return reduced

    def assignment(
        self, index: np.ndarray, bound: float | None, prices: np.ndarray, solver: str, seconds: float, iterations: int, status: str
    ) -> Assignment:
        problem = self.problem
        chosen = self.value[index, np.arange(self.n)]
        objective = float(chosen.sum())
        greedy = float(self.value.max(axis=0).sum())
        # Without a bound from the solver, an optimal plan bounds itself and any other plan is bounded by greedy.
        if bound is not None:
            bound = float(bound)
        elif status == "optimal":
            bound = objective
        else:
            bound = greedy
        bound = max(bound, objective)
        flat = index * self.n + np.arange(self.n)
        used = np.array([problem.usage[r].ravel()[flat].sum() for r in range(len(problem.resources))])
        shadow = np.zeros(len(problem.resources))
        shadow[self.constrained] = prices
        gap = (bound - objective) / abs(bound) if bound != 0 else 0.0
        return Assignment(
            action_index=index,
            actions=problem.actions,
            resources=problem.resources,
            objective=objective,
            bound=bound,
            gap=float(gap),
            capacity=problem.capacity.astype(float),
            used=used,
            shadow_price=shadow,
            solver=solver,
            seconds=seconds,
            iterations=iterations,
            status=status,
            greedy_objective=greedy,
            plan_value=chosen,
            loan_id=problem.loan_id,
        )


@contextlib.contextmanager
def _native_stdout_silenced():
    """Send file descriptor 1 to the null device for the duration, so native code cannot print to stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _greedy(prepared: _Prepared) -> np.ndarray:
    """Return each loan's best action, cut back to the fallback where a resource is over-used, lowest value per unit first."""
    index = prepared.unconstrained_best()
    n = prepared.n
    for _ in range(len(prepared.constrained) * 2):
        over = prepared.used(index) - prepared.capacity
        if (over <= 1e-9 * prepared.capacity).all():
            break
        for j in np.flatnonzero(over > 1e-9 * prepared.capacity):
            flat = index * n + np.arange(n)
            use = prepared.problem.usage[prepared.constrained[j]].ravel()[flat]
            users = np.flatnonzero(use > 0)
            value = prepared.value[index[users], users]
            order = users[np.argsort(value / use[users], kind="stable")]
            freed = np.cumsum(use[order])
            excess = prepared.used(index)[j] - prepared.capacity[j]
            cut = order[: int(np.searchsorted(freed, excess - 1e-9 * prepared.capacity[j])) + 1]
            index[cut] = prepared.fallback
    return index


def _repair(prepared: _Prepared, index: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Move loans off over-used resources until every capacity holds, cheapest reduced loss per unit freed first."""
    n = prepared.n
    index = index.copy()
    loans = np.arange(n)
    for attempt in range(60):
        used = prepared.used(index)
        over = used - prepared.capacity
        tolerance = 1e-9 * prepared.capacity
        if (over <= tolerance).all():
            return index
        j = int(np.argmax(over / prepared.capacity))
        flat = index * n + loans
        current_use = prepared.problem.usage[prepared.constrained[j]].ravel()[flat]
        users = np.flatnonzero(current_use > 0)
        use_now = current_use[users]
        current_reduced = np.full(users.size, -np.inf)
        best_alt = np.full(users.size, -np.inf)
        alt_index = np.full(users.size, prepared.fallback)
        alt_use = np.zeros(users.size)
        # After many rounds fall back on the action that uses nothing, so the loop ends.
        candidates = range(prepared.value.shape[0]) if attempt < 40 else [prepared.fallback]
        for a in range(prepared.value.shape[0]):
            reduced = prepared.reduced_row(a, lam)[users]
            current_reduced = np.where(index[users] == a, reduced, current_reduced)
            if a not in candidates:
                continue
            use_a = prepared.usage(j, a)[users]
            better = (use_a < use_now) & (reduced > best_alt) & np.isfinite(prepared.value[a, users])
            best_alt = np.where(better, reduced, best_alt)
            alt_index = np.where(better, a, alt_index)
            alt_use = np.where(better, use_a, alt_use)
        freed = use_now - alt_use
        ratio = (current_reduced - best_alt) / freed
        excess = over[j]
        order = np.argsort(ratio, kind="stable")
        cumulative = np.cumsum(freed[order])
        take = order[: int(np.searchsorted(cumulative, excess - tolerance[j])) + 1]
        index[users[take]] = alt_index[take]
    raise RuntimeError("optimiser: the repair did not reach a feasible plan in 60 rounds")  # unreachable: the fallback uses nothing


def _fill(prepared: _Prepared, index: np.ndarray, rounds: int = 30) -> np.ndarray:
    """Upgrade loans into the remaining slack, best gain per unit of capacity first, while everything fits."""
    n = prepared.n
    index = index.copy()
    loans = np.arange(n)
    capacity = prepared.capacity
    for _ in range(rounds):
        residual = capacity - prepared.used(index)
        current = prepared.value[index, loans]
        flat = index * n + loans
        current_use = [prepared.problem.usage[r].ravel()[flat] for r in prepared.constrained]
        best_score = np.zeros(n)
        best_action = np.full(n, -1)
        for a in range(prepared.value.shape[0]):
            gain = prepared.value[a] - current
            fits = gain > 0
            weight = np.zeros(n)
            for j in range(len(prepared.constrained)):
                delta = prepared.usage(j, a) - current_use[j]
                fits &= delta <= residual[j]
                weight += np.maximum(delta, 0.0) / capacity[j]
            score = np.where(fits, gain / (weight + 1e-12), 0.0)
            better = score > best_score
            best_score = np.where(better, score, best_score)
            best_action = np.where(better, a, best_action)
        candidates = np.flatnonzero(best_action >= 0)
        if not candidates.size:
            break
        order = candidates[np.argsort(-best_score[candidates], kind="stable")][:200_000]
        deltas = np.stack(
            [
                prepared.problem.usage[prepared.constrained[j]].ravel()[best_action[order] * n + order] - current_use[j][order]
                for j in range(len(prepared.constrained))
            ],
            axis=1,
        )
        cumulative = np.cumsum(deltas, axis=0)
        violates = (cumulative > residual[None, :] + 1e-9 * capacity[None, :]).any(axis=1)
        stop = int(np.argmax(violates)) if violates.any() else order.size
        if stop == 0:
            # The best candidate no longer fits with the others: accept the rest one at a time on the next round.
            deltas_first = deltas[0]
            if (deltas_first <= residual + 1e-9 * capacity).all():
                index[order[0]] = best_action[order[0]]
            else:
                break
            continue
        index[order[:stop]] = best_action[order[:stop]]
    return index


def _dual_value(prepared: _Prepared, lam_scaled: np.ndarray, scale: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Return the Lagrangian dual value and subgradient in scaled units (value / scale, capacity 1), and the argmax."""
    lam = lam_scaled * scale / prepared.capacity
    index, best = prepared.reduced_argmax(lam)
    used = prepared.used(index) / prepared.capacity
    value = best.sum() / scale + lam_scaled.sum()
    return float(value), 1.0 - used, index


class _CuttingPlane:
    """Minimise the Lagrangian dual by a box-step cutting-plane method, keeping its cuts between calls.

    The master problem ``min theta`` subject to every cut
    ``theta >= L(lam_j) + g_j . (lam - lam_j)`` and the box ``|lam - center| <= box``
    is a small LP. A step that achieves a tenth of the predicted decrease
    moves the center, and the box doubles when the step ends on its edge.
    Otherwise the box halves. Multipliers are scaled: value / ``scale`` per
    unit of capacity.
    """

    def __init__(self, prepared: _Prepared, scale: float, start: np.ndarray, box: float) -> None:
        self.prepared = prepared
        self.scale = scale
        self.center = np.maximum(start, 0.0)
        self.box = box
        value, grad, index = _dual_value(prepared, self.center, scale)
        self.cuts_g = [grad]
        self.cuts_c = [value - grad @ self.center]
        self.best = (self.center, value, index)
        self.iterations = 0

    def run(self, iterations: int, tolerance: float) -> None:
        """Take up to ``iterations`` steps; stop when the predicted decrease is below ``tolerance * |L|``."""
        from scipy.optimize import linprog

        m = self.center.size
        for _ in range(iterations):
            best_lam, best_value, _ = self.best
            lower = np.maximum(self.center - self.box, 0.0)
            upper = self.center + self.box
            a_ub = np.hstack([np.array(self.cuts_g), -np.ones((len(self.cuts_g), 1))])
            result = linprog(
                np.r_[np.zeros(m), 1.0], A_ub=a_ub, b_ub=-np.array(self.cuts_c), bounds=list(zip(lower, upper)) + [(None, None)], method="highs"
            )
            if result.status != 0:
                logger.warning("lagrangian: the master LP failed (%s); keeping the best multipliers so far", result.message)
                return
            candidate, predicted = result.x[:m], result.x[m]
            decrease = best_value - predicted
            on_edge = bool(np.any(np.isclose(candidate, upper) | (np.isclose(candidate, lower) & (lower > 0))))
            if decrease <= tolerance * abs(best_value) and not on_edge:
                return

            self.iterations += 1
            value, grad, index = _dual_value(self.prepared, candidate, self.scale)
            self.cuts_g.append(grad)
            self.cuts_c.append(value - grad @ candidate)
            if value < best_value:
                self.best = (candidate, value, index)
                if best_value - value >= 0.1 * max(decrease, 0.0):
                    self.center = candidate
                    self.box = self.box * 2.0 if on_edge else self.box
            else:
                self.box = max(self.box * 0.5, 1e-12)


def _primal(prepared: _Prepared, index: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Repair and fill the argmax assignment, working on the loans closest to a tie.

    Only loans whose best and second-best reduced values are close can gain
    from a change at near-optimal multipliers, so the repair and the fill run
    on the ``max(5,000, 2 %)`` loans with the smallest margin, against the
    capacity the other loans leave. When the others alone exceed a capacity,
    every loan takes part.
    """
    n = prepared.n
    size = max(5_000, n // 50)
    if size * 2 >= n:
        return _fill(prepared, _repair(prepared, index, lam))

    first = np.full(n, -np.inf)
    second = np.full(n, -np.inf)
    for a in range(prepared.value.shape[0]):
        reduced = prepared.reduced_row(a, lam)
        second = np.maximum(second, np.minimum(reduced, first))
        first = np.maximum(first, reduced)
    margin = first - second
    rows = np.sort(np.argpartition(margin, size)[:size])

    fixed = np.ones(n, dtype=bool)
    fixed[rows] = False
    flat = index * n + np.arange(n)
    fixed_use = np.array([prepared.problem.usage[r].ravel()[flat][fixed].sum() for r in prepared.constrained])
    residual = prepared.capacity - fixed_use
    if (residual <= 0).any():
        return _fill(prepared, _repair(prepared, index, lam))

    sub = _subsample(prepared, rows, capacity=residual)
    local = _fill(sub, _repair(sub, index[rows], lam))
    index = index.copy()
    index[rows] = local
    return index


def _solve_lagrangian(prepared: _Prepared, settings: OptimiserSettings) -> tuple[np.ndarray, float, np.ndarray, str, int]:
    n = prepared.n
    rng = np.random.default_rng(settings.seed)
    scale = float(np.abs(prepared.value.max(axis=0)).sum()) or 1.0
    m = len(prepared.constrained)

    # Warm start: the same dual on random subsamples with capacities scaled to the sample's share.
    lam = np.zeros(m)
    box = 1.0
    for size in _WARM_START_SIZES:
        if size * 2 >= n:
            break
        rows = np.sort(rng.choice(n, size=size, replace=False))
        sample = _subsample(prepared, rows, capacity=prepared.capacity * size / n)
        solver = _CuttingPlane(sample, scale * size / n, lam, box)
        solver.run(60 if size == _WARM_START_SIZES[0] else 25, settings.tolerance * 0.1)
        lam = solver.best[0]
        logger.debug("lagrangian: warm start on %d loans, %d iterations, multipliers %s", size, solver.iterations, lam)
        box = max(float(np.max(lam)) * 0.02, 1e-4)

    # Alternate a few dual steps with a repaired plan until the plan is within the tolerance of the dual bound.
    solver = _CuttingPlane(prepared, scale, lam, box)
    dual_tolerance = settings.tolerance
    best_plan, best_plan_value = None, -np.inf
    while True:
        before = solver.iterations
        solver.run(min(8, settings.max_iterations - solver.iterations), dual_tolerance)
        stalled = solver.iterations == before
        lam, bound_scaled, index = solver.best
        plan = _primal(prepared, index, lam * scale / prepared.capacity)
        plan_value = prepared.value[plan, np.arange(n)].sum() / scale
        if plan_value > best_plan_value:
            best_plan, best_plan_value = plan, plan_value
        gap = (bound_scaled - best_plan_value) / abs(bound_scaled) if bound_scaled else 0.0
        logger.debug("lagrangian: %d iterations, dual %.9g, plan %.9g, gap %.2e", solver.iterations, bound_scaled, best_plan_value, gap)
        # Stop when within the tolerance, out of iterations, or when the dual no longer moves at a tolerance
        # near machine precision (the rest of the gap is the integrality gap of a small portfolio).
        if gap <= settings.tolerance or solver.iterations >= settings.max_iterations or (stalled and dual_tolerance < 1e-12):
            break
        dual_tolerance *= 0.1

    prices = lam * scale / prepared.capacity
    status = "optimal" if gap <= settings.tolerance else "feasible"
    return best_plan, bound_scaled * scale, prices, status, solver.iterations


def _subsample(prepared: _Prepared, rows: np.ndarray, capacity: np.ndarray) -> _Prepared:
    """Return the problem restricted to ``rows``, with ``capacity`` for the constrained resources and the others unlimited."""
    problem = prepared.problem
    full = np.full(len(problem.resources), np.inf)
    full[prepared.constrained] = capacity
    sub = AssignmentProblem(
        value=prepared.value[:, rows],
        usage=problem.usage[:, :, rows],
        capacity=full,
        actions=problem.actions,
        resources=problem.resources,
        fallback=problem.fallback,
    )
    return _Prepared.build(sub)


def _solve_highs(prepared: _Prepared, settings: OptimiserSettings, *, integer: bool) -> tuple[np.ndarray, float, np.ndarray, str]:
    import highspy
    from scipy.sparse import coo_matrix

    n = prepared.n
    k = prepared.value.shape[0]
    m = len(prepared.constrained)
    feasible = np.isfinite(prepared.value)
    action_of, loan_of = np.nonzero(feasible)
    cols = action_of.size

    rows = [loan_of]
    entries = [np.ones(cols)]
    columns = [np.arange(cols)]
    for j in range(m):
        use = prepared.problem.usage[prepared.constrained[j]][action_of, loan_of]
        nonzero = np.flatnonzero(use > 0)
        rows.append(np.full(nonzero.size, n + j))
        entries.append(use[nonzero])
        columns.append(nonzero)
    matrix = coo_matrix((np.concatenate(entries), (np.concatenate(rows), np.concatenate(columns))), shape=(n + m, cols)).tocsc()

    lp = highspy.HighsLp()
    lp.num_col_ = cols
    lp.num_row_ = n + m
    lp.col_cost_ = prepared.value[action_of, loan_of]
    lp.col_lower_ = np.zeros(cols)
    lp.col_upper_ = np.ones(cols)
    lp.row_lower_ = np.r_[np.ones(n), np.full(m, -highspy.kHighsInf)]
    lp.row_upper_ = np.r_[np.ones(n), prepared.capacity]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data

    with _native_stdout_silenced():
        # The constructor prints a copyright banner to the process's stdout before any option can be set.
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(settings.time_limit_s))
    highs.passModel(lp)
    highs.run()
    status = highs.modelStatusToString(highs.getModelStatus()).lower()
    solution = highs.getSolution()
    bound = float(highs.getInfo().objective_function_value)
    prices = np.abs(np.asarray(solution.row_dual)[n:])
    x = np.asarray(solution.col_value)

    if integer:
        highs.setOptionValue("mip_rel_gap", float(settings.mip_rel_gap))
        highs.changeColsIntegrality(cols, np.arange(cols, dtype=np.int32), np.full(cols, highspy.HighsVarType.kInteger))
        highs.run()
        status = highs.modelStatusToString(highs.getModelStatus()).lower()
        x = np.asarray(highs.getSolution().col_value)

    share = np.zeros((k, n))
    share[action_of, loan_of] = x
    index = np.argmax(share, axis=0)
    if not integer or status != "optimal":
        index = _fill(prepared, _repair(prepared, index, prices))
    return index, bound, prices, status
