"""Tests of the portfolio optimiser (sanhua.strategy.optimize): exactness, monotonicity, gaps and capacity."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanhua.errors import ConfigError, InputDataError
from sanhua.strategy.optimize import AssignmentProblem, OptimiserSettings, PortfolioOptimiser

ACTIONS = ("work", "settle", "hold")
RESOURCES = ("officers", "budget")


def _problem(n: int, seed: int, capacity_share: tuple[float, float] = (0.5, 0.5)) -> AssignmentProblem:
    """Seeded random problem: two costly actions and a free hold; capacity a share of the unconstrained use."""
    rng = np.random.default_rng(seed)
    value = np.vstack([rng.uniform(0, 100, n), rng.uniform(0, 60, n), rng.uniform(0, 20, n)])
    value[0, rng.random(n) < 0.2] = -np.inf
    usage = np.zeros((2, 3, n))
    usage[0, 0] = rng.uniform(1, 5, n)
    usage[0, 1] = 1.0
    usage[1, 0] = rng.uniform(10, 50, n)
    best = np.argmax(value, axis=0)
    used = np.array([usage[r][best, np.arange(n)].sum() for r in range(2)])
    return AssignmentProblem(value, usage, used * np.asarray(capacity_share), ACTIONS, RESOURCES)


def _brute_force(problem: AssignmentProblem) -> float:
    """Exact optimum by enumerating every assignment (tiny problems only)."""
    n = problem.n_loans
    best = -np.inf
    for choice in itertools.product(range(len(problem.actions)), repeat=n):
        index = np.array(choice)
        value = problem.value[index, np.arange(n)]
        if not np.isfinite(value).all():
            continue
        used = np.array([problem.usage[r][index, np.arange(n)].sum() for r in range(len(problem.resources))])
        if (used <= problem.capacity + 1e-9).all():
            best = max(best, value.sum())
    return best


def _solve(problem: AssignmentProblem, solver: str, **kwargs: object):
    return PortfolioOptimiser(OptimiserSettings(solver=solver, **kwargs)).run(problem)


@pytest.mark.parametrize("seed", range(5))
def test_highs_mip_matches_brute_force(seed):
    problem = _problem(6, seed)

    result = _solve(problem, "highs", mip_rel_gap=1e-9)

    assert result.objective == pytest.approx(_brute_force(problem), rel=1e-9)


@pytest.mark.parametrize("solver", ["highs", "highs-lp", "lagrangian", "greedy"])
@pytest.mark.parametrize("seed", range(3))
def test_capacities_respected(solver, seed):
    # The MIP's branch and bound grows fast with size, so HiGHS gets a smaller portfolio.
    problem = _problem(500 if solver == "highs" else 3_000, seed, capacity_share=(0.3, 0.6))

    result = _solve(problem, solver)

    assert (result.used <= problem.capacity * (1 + 1e-9)).all(), result.used / problem.capacity
    assert np.isfinite(result.plan_value).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    share=st.floats(0.05, 1.0),
    extra=st.floats(0.0, 2.0),
    resource=st.integers(0, 1),
)
def test_more_capacity_never_lowers_exact_optimum(seed, share, extra, resource):
    problem = _problem(25, seed, capacity_share=(share, share))
    raised = problem.capacity.copy()
    raised[resource] *= 1.0 + extra
    bigger = AssignmentProblem(problem.value, problem.usage, raised, problem.actions, problem.resources)

    base = _solve(problem, "highs", mip_rel_gap=1e-9).objective
    more = _solve(bigger, "highs", mip_rel_gap=1e-9).objective

    assert more >= base - 1e-7 * abs(base)


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_within_reported_gap_of_exact(seed):
    problem = _problem(300, seed, capacity_share=(0.4, 0.5))

    exact = _solve(problem, "highs", mip_rel_gap=1e-9)
    dual = _solve(problem, "lagrangian")

    assert dual.objective <= exact.objective + 1e-7 * abs(exact.objective)
    assert exact.objective - dual.objective <= dual.gap * abs(dual.bound) + 1e-7 * abs(exact.objective)
    assert dual.bound >= exact.objective - 1e-7 * abs(exact.objective)


def test_lagrangian_bound_matches_lp_optimum():
    problem = _problem(20_000, 7, capacity_share=(0.4, 0.5))

    lp = _solve(problem, "highs-lp")
    dual = _solve(problem, "lagrangian")

    # The dual bound is an upper bound on the LP optimum; at convergence the two agree closely.
    assert dual.bound >= lp.bound * (1 - 1e-9)
    assert dual.bound == pytest.approx(lp.bound, rel=1e-4)
    assert dual.objective == pytest.approx(lp.bound, rel=5e-4)


def test_shadow_price_is_lp_marginal_value():
    problem = _problem(2_000, 11, capacity_share=(0.4, 0.5))
    base = _solve(problem, "highs-lp")
    step = problem.capacity[0] * 1e-3
    raised = problem.capacity.copy()
    raised[0] += step

    more = _solve(AssignmentProblem(problem.value, problem.usage, raised, problem.actions, problem.resources), "highs-lp")

    assert base.shadow_price[0] > 0
    assert (more.bound - base.bound) / step == pytest.approx(base.shadow_price[0], rel=0.05)


def test_lagrangian_shadow_prices_match_highs():
    problem = _problem(20_000, 5, capacity_share=(0.4, 0.5))

    lp = _solve(problem, "highs-lp")
    dual = _solve(problem, "lagrangian")

    assert dual.shadow_price == pytest.approx(lp.shadow_price, rel=0.02, abs=1e-6)


def test_unconstrained_problem_takes_best_action():
    problem = _problem(500, 3)
    free = AssignmentProblem(problem.value, problem.usage, np.full(2, np.inf), problem.actions, problem.resources)

    result = _solve(free, "lagrangian")

    assert result.action_index.tolist() == np.argmax(problem.value, axis=0).tolist()
    assert result.gap == 0.0
    assert (result.shadow_price == 0).all()


def test_zero_capacity_forbids_its_actions():
    problem = _problem(400, 4)
    closed = AssignmentProblem(problem.value, problem.usage, np.array([np.inf, 0.0]), problem.actions, problem.resources)

    result = _solve(closed, "lagrangian")

    assert not (result.action_index == 0).any()


def test_tables_add_up():
    problem = _problem(1_000, 2)

    result = _solve(problem, "lagrangian")
    by_action = result.npv_by_action()

    assert by_action["loans"].sum() == problem.n_loans
    assert by_action["npv"].sum() == pytest.approx(result.objective)
    assert result.capacity_table()["used"].to_list() == pytest.approx(result.used.tolist())


def test_lagrangian_beats_greedy():
    problem = _problem(5_000, 9, capacity_share=(0.3, 0.4))

    assert _solve(problem, "lagrangian").objective > _solve(problem, "greedy").objective


def test_negative_capacity_rejected():
    problem = _problem(10, 0)
    bad = AssignmentProblem(problem.value, problem.usage, np.array([-1.0, 5.0]), problem.actions, problem.resources)

    with pytest.raises(ConfigError, match="officers"):
        _solve(bad, "lagrangian")


def test_shape_mismatch_rejected():
    problem = _problem(10, 0)
    bad = AssignmentProblem(problem.value[:, :5], problem.usage, problem.capacity, problem.actions, problem.resources)

    with pytest.raises(InputDataError, match="usage must have shape"):
        _solve(bad, "lagrangian")


def test_fallback_using_capacity_rejected():
    problem = _problem(10, 0)
    usage = problem.usage.copy()
    usage[0, 2] = 1.0

    with pytest.raises(InputDataError, match="uses capacity"):
        _solve(AssignmentProblem(problem.value, usage, problem.capacity, problem.actions, problem.resources), "lagrangian")


def test_infeasible_fallback_rejected():
    problem = _problem(10, 0)
    value = problem.value.copy()
    value[2, 3] = -np.inf

    with pytest.raises(InputDataError, match="column 3"):
        _solve(AssignmentProblem(value, problem.usage, problem.capacity, problem.actions, problem.resources), "lagrangian")
