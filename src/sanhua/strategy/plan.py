"""The action plan under capacity: from the value table to one action per loan, and what-if re-plans.

:func:`plan_actions` turns an :class:`~sanhua.strategy.valuer.ActionResult`
into a :class:`PlanResult`: it builds the assignment problem (values in CNY,
capacity over ``capacity.horizon_months``), solves it with
:class:`~sanhua.strategy.optimize.PortfolioOptimiser` and derives the tables
a report and a run folder need. :func:`plan_run` does the same on a finished
run folder with new capacities.

Files of :meth:`PlanResult.write` (``out_dir``):

========================  ==========================================================
file                      content
========================  ==========================================================
``plan.parquet``          one row per loan: the planned and the greedy action, value,
                          months to cash, capacity use, hardship and vulnerable flags
``plan_capacity.csv``     per resource: monthly capacity, use, share used, shadow price
``plan_by_action.csv``    per action: loans and NPV of the plan and of the greedy choice
``plan_cash_flows.csv``   expected cash (CNY, undiscounted) by month and action
``plan_capacity_by_month.csv``  capacity use per month and resource
``plan.json``             solver, objective, bound, gap, time and the capacities used
========================  ==========================================================

Month 1 is the first month after the decision. Cash is the expected gross cash
(``p_success * amount``) before the action's costs. Capacity use per month
assumes the planned actions start evenly over the horizon.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from sanhua.errors import ConfigError, InputFileError
from sanhua.strategy.optimize import Assignment, AssignmentProblem, OptimiserSettings, PortfolioOptimiser
from sanhua.strategy.settings import ACTIONS, RESOURCE_UNITS, RESOURCES, CapacitySettings, StrategySettings
from sanhua.strategy.valuer import USAGE_COLUMNS, ActionResult, ActionValuer
from sanhua.value.curves import RecoveryCurve

__all__ = ["PlanResult", "plan_actions", "plan_run", "build_problem", "write_values", "VALUES_FILE"]

logger = logging.getLogger(__name__)

VALUES_FILE = "values.parquet"
"""File of the per-loan, per-action value table in a run folder (written by :func:`write_values`)."""

_CONTEXT_COLUMNS = ("currency", "category", "months_since_default", "exposure_at_default", "fx_cny_per_unit", "hardship", "vulnerable", "relief_offered")
_CURVE_ACTIONS = ("hold", "outsource")
_CASH_MONTHS = 120


@dataclass(frozen=True)
class PlanResult:
    """The action plan under capacity and the tables that describe it.

    Attributes
    ----------
    assignment : Assignment
        Solver output (objective, bound, gap, shadow prices, solver, time).
    plan : polars.DataFrame
        One row per loan in input order: ``loan_id``, ``currency``,
        ``category``, ``action`` (planned, Enum), ``action_value`` (loan
        currency), ``action_value_cny``, ``greedy_action`` (best action
        ignoring capacity), ``months_to_cash``, the ``use_*`` capacity
        columns of the planned action, ``hardship`` and ``vulnerable``.
    chosen : polars.DataFrame
        Drop-in for :attr:`ActionResult.chosen`: ``loan_id``, ``action``,
        ``action_value`` and ``expected_recovery_pv`` (loan currency).
    capacity : polars.DataFrame
        Per resource: ``resource``, ``unit``, ``monthly_capacity`` (null when
        unlimited), ``used_per_month``, ``share_used``, ``shadow_price``
        (CNY of NPV per extra unit of use over the plan, e.g. per officer
        hour) and ``shadow_price_per_month`` (CNY of NPV per extra unit of
        monthly capacity for one month: one more officer for a month, one
        more mediation slot, one more CNY of budget).
    by_action : polars.DataFrame
        Per action: ``action``, ``loans``, ``npv_cny`` of the plan and
        ``greedy_loans``, ``greedy_npv_cny`` of the greedy choice.
    cash_flows : polars.DataFrame
        ``month`` (1 = first month after the decision), ``action``,
        ``expected_cash_cny`` (undiscounted expected gross cash).
    capacity_by_month : polars.DataFrame
        ``month``, ``resource``, ``used`` (unit of the use: hours, slots,
        CNY), ``capacity`` (same unit, null when unlimited).
    capacity_settings : CapacitySettings
        Capacities the plan was solved with.
    """

    assignment: Assignment
    plan: pl.DataFrame
    chosen: pl.DataFrame
    capacity: pl.DataFrame
    by_action: pl.DataFrame
    cash_flows: pl.DataFrame
    capacity_by_month: pl.DataFrame
    capacity_settings: CapacitySettings
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, object]:
        """Return the solver figures and capacities as a JSON-ready dict (``plan.json``)."""
        a = self.assignment
        return {
            "solver": a.solver,
            "status": a.status,
            "seconds": round(a.seconds, 4),
            "iterations": a.iterations,
            "loans": int(a.action_index.size),
            "objective_cny": a.objective,
            "bound_cny": a.bound,
            "gap": a.gap,
            "greedy_unconstrained_cny": a.greedy_objective,
            "horizon_months": self.capacity_settings.horizon_months,
            "officer_hours_per_month": self.capacity_settings.officer_hours_per_month,
            "monthly_capacity": {k: (None if math.isinf(v) else v) for k, v in self.capacity_settings.monthly().items()},
            "notes": list(self.notes),
        }

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the plan files (see the module docstring) into ``out_dir`` and return their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "plan.parquet": lambda path: self.plan.write_parquet(path),
            "plan_capacity.csv": lambda path: self.capacity.write_csv(path),
            "plan_by_action.csv": lambda path: self.by_action.write_csv(path),
            "plan_cash_flows.csv": lambda path: self.cash_flows.write_csv(path),
            "plan_capacity_by_month.csv": lambda path: self.capacity_by_month.write_csv(path),
            "plan.json": lambda path: path.write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False), encoding="utf-8"),
        }
        written = []
        for name, writer in files.items():
            writer(out / name)
            written.append(out / name)
        logger.info("plan: wrote %d files to %s", len(written), out)
        return written


def build_problem(values: pl.DataFrame, context: pl.DataFrame, capacity: CapacitySettings) -> AssignmentProblem:
    """Build the assignment problem from a value table and its loan context.

    Parameters
    ----------
    values : polars.DataFrame
        :attr:`ActionResult.values` (any row order): ``loan_id``, ``action``,
        ``feasible``, ``value`` and the ``use_*`` columns.
    context : polars.DataFrame
        One row per loan (defines the loan order): ``loan_id`` and
        ``fx_cny_per_unit``.
    capacity : CapacitySettings
        Monthly capacities and horizon.

    Returns
    -------
    AssignmentProblem
        Values in CNY (``value * fx_cny_per_unit``), usage in hours, slots
        and CNY, capacity over the horizon.
    """
    missing = [c for c in ("loan_id", "action", "feasible", "value", *USAGE_COLUMNS.values()) if c not in values.columns]
    if missing:
        raise InputFileError(f"plan: the value table lacks columns {missing}; write it with sanhua.strategy.plan.write_values.")
    n = context.height
    position = context.select("loan_id", pl.int_range(n, dtype=pl.Int64).alias("_position"), "fx_cny_per_unit")
    rows = values.select(
        "loan_id",
        pl.col("action").cast(pl.Utf8).replace_strict({name: i for i, name in enumerate(ACTIONS)}, default=-1, return_dtype=pl.Int64).alias("_action"),
        "feasible",
        "value",
        *USAGE_COLUMNS.values(),
    ).join(position, on="loan_id", how="inner")
    if (rows["_action"] < 0).any():
        unknown = values.filter(~pl.col("action").cast(pl.Utf8).is_in(list(ACTIONS)))["action"].cast(pl.Utf8).unique().to_list()
        raise InputFileError(f"plan: the value table contains unknown actions {unknown}; use {list(ACTIONS)}.")

    a = rows["_action"].to_numpy()
    i = rows["_position"].to_numpy()
    feasible = rows["feasible"].fill_null(False).to_numpy()
    value = np.full((len(ACTIONS), n), -np.inf)
    value[a, i] = np.where(feasible, rows["value"].fill_null(np.nan).to_numpy() * rows["fx_cny_per_unit"].to_numpy(), -np.inf)
    value = np.where(np.isnan(value), -np.inf, value)
    usage = np.zeros((len(RESOURCES), len(ACTIONS), n))
    for r, resource in enumerate(RESOURCES):
        usage[r, a, i] = np.where(feasible, rows[USAGE_COLUMNS[resource]].fill_null(0.0).to_numpy(), 0.0)

    totals = capacity.totals()
    return AssignmentProblem(
        value=value,
        usage=usage,
        capacity=np.array([totals[name] for name in RESOURCES]),
        actions=ACTIONS,
        resources=RESOURCES,
        loan_id=context["loan_id"],
        fallback="hold",
    )


def plan_actions(
    result: ActionResult,
    settings: StrategySettings | None = None,
    *,
    curve: RecoveryCurve | None = None,
    optimiser: OptimiserSettings | None = None,
) -> PlanResult:
    """Choose one action per loan within capacity and describe the plan.

    Parameters
    ----------
    result : ActionResult
        Value table and context of :meth:`ActionValuer.run`.
    settings : StrategySettings or None
        Capacities (``settings.capacity``) and action timing; defaults to
        ``result.settings``.
    curve : RecoveryCurve or None
        Recovery timing of hold and outsourcing for the monthly cash flows.
        Without it their cash is spread evenly around its mean month (NOTE: an
        approximation; pass the run's curve).
    optimiser : OptimiserSettings or None
        Solver settings; ``settings.optimiser`` when None.

    Returns
    -------
    PlanResult
    """
    settings = settings if settings is not None else result.settings
    problem = build_problem(result.values, result.context, settings.capacity)
    assignment = PortfolioOptimiser(optimiser if optimiser is not None else settings.optimiser).run(problem)
    return _describe(result, settings, assignment, curve)


def plan_run(
    run_dir: str | Path,
    capacities: dict[str, float],
    settings: StrategySettings | None = None,
    *,
    optimiser: OptimiserSettings | None = None,
) -> PlanResult:
    """Re-plan a finished run folder with new monthly capacities.

    Parameters
    ----------
    run_dir : path
        A run folder. With ``values.parquet`` (see :func:`write_values`) the
        plan uses it directly. Otherwise the actions are re-valued from
        ``loans.parquet`` and the run's recovery curve (``curve.json`` of the
        model folder named in ``run.json``). The result's ``notes`` then record
        that the EAD replaced the outstanding principal.
    capacities : dict of str to float
        Monthly capacities to replace, by resource name
        (:data:`~sanhua.strategy.settings.RESOURCES`), each >= 0.
    settings : StrategySettings or None
        Strategy settings (defaults when None); ``capacities`` override its
        ``capacity``.
    optimiser : OptimiserSettings or None
        Solver settings; ``settings.optimiser`` when None.

    Returns
    -------
    PlanResult

    Raises
    ------
    InputFileError
        The folder or one of its files is missing or unreadable.
    ConfigError
        A capacity name is unknown or a value is negative.
    """
    settings = settings if settings is not None else StrategySettings()
    settings = settings.model_copy(update={"capacity": settings.capacity.with_capacities(capacities)})
    run = Path(run_dir)
    if not run.is_dir():
        raise InputFileError(f"run folder {run} not found; give the folder that `sanhua run` wrote (it contains run.json and loans.parquet).")

    curve = _run_curve(run)
    values_path = run / VALUES_FILE
    notes: tuple[str, ...] = ()
    if values_path.is_file():
        result = _read_values(values_path, settings)
    else:
        result, notes = _revalue(run, settings, curve)

    problem = build_problem(result.values, result.context, settings.capacity)
    assignment = PortfolioOptimiser(optimiser if optimiser is not None else settings.optimiser).run(problem)
    plan = _describe(result, settings, assignment, curve)
    return PlanResult(**{**plan.__dict__, "notes": plan.notes + notes})


def write_values(result: ActionResult, run_dir: str | Path) -> Path:
    """Write the value table with its loan context to ``run_dir / values.parquet`` for :func:`plan_run`.

    One row per loan and action: the columns of :attr:`ActionResult.values`
    and the context columns ``currency``, ``category``,
    ``months_since_default``, ``exposure_at_default``, ``fx_cny_per_unit``,
    ``hardship``, ``vulnerable``, ``relief_offered``.
    """
    path = Path(run_dir) / VALUES_FILE
    result.values.join(result.context, on="loan_id", how="left").write_parquet(path)
    return path


# --------------------------------------------------------------- internals


def _read_values(path: Path, settings: StrategySettings) -> ActionResult:
    try:
        table = pl.read_parquet(path)
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise InputFileError(f"{path}: cannot read the value table ({exc}); re-run `sanhua run` to write it again.") from exc
    missing = [c for c in ("loan_id", "action", *_CONTEXT_COLUMNS) if c not in table.columns]
    if missing:
        raise InputFileError(f"{path}: columns {missing} are missing; write the file with sanhua.strategy.plan.write_values.")
    context = table.filter(pl.col("action").cast(pl.Utf8) == "hold").select("loan_id", *_CONTEXT_COLUMNS)
    values = table.drop(list(_CONTEXT_COLUMNS))
    chosen = _greedy_chosen(values, context)
    return ActionResult(values=values, chosen=chosen, context=context, settings=settings)


def _greedy_chosen(values: pl.DataFrame, context: pl.DataFrame) -> pl.DataFrame:
    best = (
        values.filter(pl.col("feasible"))
        .sort("value", descending=True, maintain_order=True)
        .group_by("loan_id", maintain_order=True)
        .first()
        .select("loan_id", "action", pl.col("value").alias("action_value"))
    )
    return context.select("loan_id").join(best, on="loan_id", how="left").with_columns(pl.lit(None, dtype=pl.Float64).alias("expected_recovery_pv"))


def _run_curve(run: Path) -> RecoveryCurve | None:
    record_path = run / "run.json"
    if not record_path.is_file():
        raise InputFileError(f"{record_path} not found; {run} is not a finished run folder.")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{record_path}: cannot read the run record ({exc}).") from exc
    model_dir = Path(str((record.get("model") or {}).get("dir") or ""))
    curve_path = model_dir / "curve.json"
    local = run / "model" / "curve.json"
    path = curve_path if curve_path.is_file() else local
    if not path.is_file():
        logger.warning("plan: no recovery curve found at %s or %s; hold and outsourcing cash flows are approximated", curve_path, local)
        return None
    payload = json.loads(path.read_text(encoding="utf-8"))
    return RecoveryCurve.from_table(pl.DataFrame(payload["curve"]), payload.get("assumptions"))


def _revalue(run: Path, settings: StrategySettings, curve: RecoveryCurve | None) -> tuple[ActionResult, tuple[str, ...]]:
    loans_path = run / "loans.parquet"
    if not loans_path.is_file():
        raise InputFileError(f"{loans_path} not found; {run} is not a finished run folder.")
    if curve is None:
        raise InputFileError(
            f"{run} has neither {VALUES_FILE} nor a recovery curve (curve.json of its model folder); re-run `sanhua run` to write {VALUES_FILE}."
        )
    loans = pl.read_parquet(loans_path)
    notes = []
    if "principal_outstanding" not in loans.columns:
        # NOTE: loans.parquet does not keep the principal, so the EAD replaces it. A run folder with values.parquet avoids this.
        loans = loans.with_columns(pl.col("exposure_at_default").alias("principal_outstanding"))
        notes.append(f"{VALUES_FILE} missing: actions re-valued from loans.parquet with the EAD standing in for the outstanding principal")
        logger.warning("plan: %s has no %s; re-valuing with EAD as the principal", run, VALUES_FILE)
    return ActionValuer(settings).run(loans.drop([c for c in ("action", "action_value", "expected_recovery_pv") if c in loans.columns]), curve), tuple(notes)


def _describe(result: ActionResult, settings: StrategySettings, assignment: Assignment, curve: RecoveryCurve | None) -> PlanResult:
    capacity = settings.capacity
    context = result.context
    planned = pl.DataFrame(
        {
            "loan_id": context["loan_id"],
            "action": pl.Series(np.asarray(ACTIONS)[assignment.action_index], dtype=pl.Utf8).cast(pl.Enum(list(ACTIONS))),
            "action_value_cny": assignment.plan_value,
        }
    )
    chosen_rows = planned.join(result.values.drop("feasible"), on=["loan_id", "action"], how="left")
    greedy = result.chosen.select("loan_id", pl.col("action").alias("greedy_action"), pl.col("action_value").alias("_greedy_value"))
    plan = (
        context.select("loan_id", "currency", "category", "hardship", "vulnerable", "fx_cny_per_unit")
        .join(chosen_rows, on="loan_id", how="left")
        .join(greedy, on="loan_id", how="left")
    )

    by_action = _by_action(plan)
    cash_flows = _cash_flows(plan, settings, curve, context)
    chosen = plan.select(
        "loan_id",
        "action",
        pl.col("value").alias("action_value"),
    ).join(result.chosen.select("loan_id", "expected_recovery_pv"), on="loan_id", how="left")

    plan = plan.select(
        "loan_id", "currency", "category", "action", pl.col("value").alias("action_value"), "action_value_cny", "greedy_action",
        "months_to_cash", *USAGE_COLUMNS.values(), "hardship", "vulnerable",
    )
    return PlanResult(
        assignment=assignment,
        plan=plan,
        chosen=chosen,
        capacity=_capacity_table(assignment, capacity),
        by_action=by_action,
        cash_flows=cash_flows,
        capacity_by_month=_capacity_by_month(assignment, capacity),
        capacity_settings=capacity,
        notes=() if curve is not None else ("hold and outsourcing cash flows spread evenly around their mean month (no recovery curve given)",),
    )


def _by_action(plan: pl.DataFrame) -> pl.DataFrame:
    planned = plan.group_by("action").agg(pl.len().alias("loans"), pl.col("action_value_cny").sum().alias("npv_cny"))
    greedy = plan.group_by(pl.col("greedy_action").alias("action")).agg(
        pl.len().alias("greedy_loans"), (pl.col("_greedy_value") * pl.col("fx_cny_per_unit")).sum().alias("greedy_npv_cny")
    )
    frame = pl.DataFrame({"action": pl.Series(list(ACTIONS)).cast(pl.Enum(list(ACTIONS)))})
    return (
        frame.join(planned, on="action", how="left")
        .join(greedy, on="action", how="left")
        .with_columns(pl.col("loans", "greedy_loans").fill_null(0).cast(pl.Int64), pl.col("npv_cny", "greedy_npv_cny").fill_null(0.0))
    )


def _capacity_table(assignment: Assignment, capacity: CapacitySettings) -> pl.DataFrame:
    monthly = capacity.monthly()
    horizon = capacity.horizon_months
    # Use per unit of monthly capacity: an officer gives officer_hours_per_month hours; the others are one for one.
    per_unit = {name: (capacity.officer_hours_per_month if name == "officers" else 1.0) for name in RESOURCES}
    rows = []
    for r, name in enumerate(RESOURCES):
        limit = monthly[name]
        used_per_month = assignment.used[r] / horizon / per_unit[name]
        rows.append(
            {
                "resource": name,
                "unit": RESOURCE_UNITS[name],
                "monthly_capacity": None if math.isinf(limit) else limit,
                "used_per_month": used_per_month,
                "share_used": None if math.isinf(limit) or limit == 0 else used_per_month / limit,
                "shadow_price": float(assignment.shadow_price[r]),
                "shadow_price_per_month": float(assignment.shadow_price[r] * per_unit[name]),
            }
        )
    return pl.DataFrame(rows, schema_overrides={"monthly_capacity": pl.Float64, "share_used": pl.Float64})


def _capacity_by_month(assignment: Assignment, capacity: CapacitySettings) -> pl.DataFrame:
    totals = capacity.totals()
    horizon = capacity.horizon_months
    months = np.repeat(np.arange(1, horizon + 1), len(RESOURCES))
    resources = np.tile(np.asarray(RESOURCES), horizon)
    used = np.tile(assignment.used / horizon, horizon)
    limit = np.tile(np.array([totals[name] / horizon for name in RESOURCES]), horizon)
    return pl.DataFrame({"month": months, "resource": resources, "used": used, "capacity": limit}).with_columns(
        pl.when(pl.col("capacity").is_infinite()).then(None).otherwise(pl.col("capacity")).alias("capacity")
    )


def _cash_flows(plan: pl.DataFrame, settings: StrategySettings, curve: RecoveryCurve | None, context: pl.DataFrame) -> pl.DataFrame:
    """Expected gross cash per month and action (CNY, undiscounted)."""
    months = _CASH_MONTHS
    grid = np.zeros((len(ACTIONS), months + 2))
    cash = (plan["p_success"].fill_null(0.0) * plan["amount"].fill_null(0.0) * plan["fx_cny_per_unit"]).to_numpy()
    action = plan["action"].to_physical().to_numpy().astype(np.int64)
    mean_month = plan["months_to_cash"].fill_null(1.0).to_numpy()
    elapsed = context["months_since_default"].to_numpy()

    # Scheduled actions: equal parts over a known spread, centred on the mean month.
    spread = np.ones(action.size)
    for name in ("settle", "mediate", "transfer", "litigate"):
        spread = np.where(action == ACTIONS.index(name), float(getattr(settings, name).spread_months), spread)
    # NOTE: a restructured loan's cash is spread evenly over its schedule; its lower trial instalments are not shaped.
    restructure = action == ACTIONS.index("restructure")
    spread = np.where(restructure, np.maximum(2.0 * (mean_month - settings.restructure.delay_months) + 1.0, 1.0), spread)
    on_curve = np.isin(action, [ACTIONS.index(name) for name in _CURVE_ACTIONS])
    if curve is None:
        spread = np.where(on_curve, np.maximum(2.0 * mean_month - 1.0, 1.0), spread)
    scheduled = ~on_curve | (curve is None)
    first = np.clip(np.rint(mean_month - (spread - 1.0) / 2.0), 1, months).astype(np.int64)
    last = np.clip(first + np.rint(spread).astype(np.int64) - 1, 1, months)
    per_month = np.where(scheduled, cash / (last - first + 1), 0.0)
    np.add.at(grid, (action, first), per_month)
    np.add.at(grid, (action, last + 1), -per_month)
    grid = np.cumsum(grid, axis=1)

    if curve is not None:
        marginal = curve.curve_["marginal"].to_numpy()
        delay = np.where(action == ACTIONS.index("outsource"), np.rint(settings.outsource.delay_months), 0).astype(np.int64)
        start = np.minimum(np.floor(elapsed), marginal.size).astype(np.int64)
        keys = pl.DataFrame({"a": action[on_curve], "s": start[on_curve], "d": delay[on_curve], "cash": cash[on_curve]})
        for a, s, d, total in keys.group_by("a", "s", "d").agg(pl.col("cash").sum()).iter_rows():
            remaining = marginal[s:]
            if remaining.sum() <= 1e-12:
                grid[a, min(1 + d, months)] += total
                continue
            shares = remaining / remaining.sum()
            stop = min(shares.size, months - d)
            grid[a, 1 + d : 1 + d + stop] += total * shares[:stop]

    frame = pl.DataFrame(
        {
            "month": np.repeat(np.arange(1, months + 1), len(ACTIONS)),
            "action": np.tile(np.asarray(ACTIONS), months),
            "expected_cash_cny": grid[:, 1 : months + 1].T.ravel(),
        }
    )
    return frame.filter(pl.col("expected_cash_cny").abs() > 1e-9).with_columns(pl.col("action").cast(pl.Enum(list(ACTIONS))))
