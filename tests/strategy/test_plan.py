"""Tests of the plan under capacity (sanhua.strategy.plan): policy rules in every solution, tables, files, what-if."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from sanhua.errors import ConfigError, InputFileError
from sanhua.strategy import ActionValuer, StrategySettings
from sanhua.strategy.optimize import OptimiserSettings
from sanhua.strategy.plan import build_problem, plan_actions, plan_run, write_values
from sanhua.strategy.settings import RESOURCES, CapacitySettings, PolicySettings

from .conftest import synthetic_loans

TIGHT = CapacitySettings(officers=5, mediation=20, litigation=50_000, transfer=2_000_000, outsourcing=1_000_000)


@pytest.fixture(scope="module")
def valued(curve):
    settings = StrategySettings(capacity=TIGHT)
    return ActionValuer(settings).run(synthetic_loans(4_000, seed=5), curve)


@pytest.fixture(scope="module", params=["highs-lp", "lagrangian", "greedy"])
def planned(request, valued, curve):
    return plan_actions(valued, curve=curve, optimiser=OptimiserSettings(solver=request.param))


def _with_context(plan, valued):
    return plan.plan.join(valued.context.select("loan_id", "relief_offered"), on="loan_id")


def test_vulnerable_never_litigated(planned):
    vulnerable = planned.plan.filter(pl.col("vulnerable"))

    assert vulnerable.height > 0
    assert vulnerable.filter(pl.col("action") == "litigate").height == 0


def test_hardship_not_litigated_before_relief(planned, valued):
    plan = _with_context(planned, valued)
    hardship = plan.filter(pl.col("hardship") & ~pl.col("relief_offered"))

    assert hardship.height > 0
    assert hardship.filter(pl.col("action") == "litigate").height == 0


def test_actions_allowed_for_category(planned):
    allowed = PolicySettings().category_actions
    pairs = planned.plan.select("category", pl.col("action").cast(pl.Utf8)).unique().iter_rows()

    for category, action in pairs:
        assert action in allowed[category], (category, action)


def test_capacity_within_limits(planned):
    for row in planned.capacity.iter_rows(named=True):
        assert row["used_per_month"] <= row["monthly_capacity"] * (1 + 1e-9), row


def test_by_action_adds_up(planned):
    assert planned.by_action["loans"].sum() == planned.plan.height
    assert planned.by_action["greedy_loans"].sum() == planned.plan.height
    assert planned.by_action["npv_cny"].sum() == pytest.approx(planned.assignment.objective)
    assert planned.plan["action_value_cny"].sum() == pytest.approx(planned.assignment.objective)


def test_cash_flows_conserve_expected_cash(planned, valued):
    expected = planned.plan.join(valued.values, on=["loan_id", "action"]).select((pl.col("p_success") * pl.col("amount")).sum()).item()

    assert planned.cash_flows["expected_cash_cny"].sum() == pytest.approx(expected, rel=1e-3)
    assert planned.cash_flows["month"].min() >= 1


def test_capacity_by_month_sums_to_use(planned):
    totals = planned.capacity_by_month.group_by("resource").agg(pl.col("used").sum())

    for resource, used in totals.iter_rows():
        r = RESOURCES.index(resource)
        assert used == pytest.approx(planned.assignment.used[r])


def test_optimum_not_below_greedy_baseline(valued, curve):
    best = plan_actions(valued, curve=curve, optimiser=OptimiserSettings(solver="lagrangian")).assignment.objective
    greedy = plan_actions(valued, curve=curve, optimiser=OptimiserSettings(solver="greedy")).assignment.objective

    assert best >= greedy


def test_relief_offered_allows_litigation(curve):
    frame = synthetic_loans(300, seed=8).with_columns(
        pl.lit(True).alias("hardship"), pl.lit(True).alias("relief_offered"), pl.lit(30).cast(pl.Int32).alias("age"), pl.lit("none").alias("vulnerability")
    )

    values = ActionValuer().run(frame, curve).values
    litigable = values.filter((pl.col("action") == "litigate") & pl.col("feasible"))

    assert litigable.height > 0


def test_unlimited_capacity_equals_greedy(curve):
    unlimited = CapacitySettings(officers=None, mediation=None, litigation=None, transfer=None, outsourcing=None)
    valued = ActionValuer(StrategySettings(capacity=unlimited)).run(synthetic_loans(1_000, seed=2), curve)

    plan = plan_actions(valued, curve=curve)

    assert plan.plan["action"].to_list() == plan.plan["greedy_action"].to_list()


def test_build_problem_ignores_row_order(valued):
    shuffled = valued.values.sample(fraction=1.0, shuffle=True, seed=3)

    a = build_problem(valued.values, valued.context, TIGHT)
    b = build_problem(shuffled, valued.context, TIGHT)

    assert np.array_equal(a.value, b.value)
    assert np.array_equal(a.usage, b.usage)


def test_build_problem_converts_to_cny(curve):
    frame = synthetic_loans(50, seed=4).with_columns(pl.lit("USD").alias("currency"))
    valued = ActionValuer().run(frame, curve)

    problem = build_problem(valued.values, valued.context, CapacitySettings())
    hold = valued.values.filter(pl.col("action") == "hold")["value"].to_numpy()

    assert problem.value[-1] == pytest.approx(hold * 7.1)


def _run_folder(tmp_path, valued, curve):
    run = tmp_path / "run"
    model = tmp_path / "model"
    run.mkdir()
    model.mkdir()
    write_values(valued, run)
    (run / "run.json").write_text(json.dumps({"model": {"dir": str(model)}}), encoding="utf-8")
    (model / "curve.json").write_text(json.dumps({"curve": curve.curve_.to_dicts(), "assumptions": curve.assumptions()}), encoding="utf-8")
    return run


def test_plan_run_writes_files(tmp_path, valued, curve):
    run = _run_folder(tmp_path, valued, curve)

    result = plan_run(run, {"officers": 3, "mediation": 10}, StrategySettings(capacity=TIGHT))
    written = result.write(tmp_path / "out")

    assert sorted(p.name for p in written) == sorted(
        ["plan.parquet", "plan_capacity.csv", "plan_by_action.csv", "plan_cash_flows.csv", "plan_capacity_by_month.csv", "plan.json"]
    )
    summary = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert summary["monthly_capacity"]["officers"] == 3
    assert summary["loans"] == valued.context.height
    assert result.capacity.filter(pl.col("resource") == "officers")["used_per_month"].item() <= 3 * (1 + 1e-9)


def test_plan_run_more_capacity_more_npv(tmp_path, valued, curve):
    run = _run_folder(tmp_path, valued, curve)
    settings = StrategySettings(capacity=TIGHT)

    small = plan_run(run, {"mediation": 5}, settings, optimiser=OptimiserSettings(solver="highs-lp"))
    large = plan_run(run, {"mediation": 50}, settings, optimiser=OptimiserSettings(solver="highs-lp"))

    assert large.assignment.bound >= small.assignment.bound


def test_plan_run_unknown_resource(tmp_path, valued, curve):
    run = _run_folder(tmp_path, valued, curve)

    with pytest.raises(ConfigError, match="unknown capacity resource"):
        plan_run(run, {"lawyers": 3})


def test_plan_run_negative_capacity(tmp_path, valued, curve):
    run = _run_folder(tmp_path, valued, curve)

    with pytest.raises(ConfigError, match="officers=-2"):
        plan_run(run, {"officers": -2})


def test_plan_run_missing_folder(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        plan_run(tmp_path / "nowhere", {})
