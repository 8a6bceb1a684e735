"""Throughput of the securitization engine: scenario-periods per second.

Builds a 120-period monthly deal on a restructured-loan pool with the full waterfall (taxes and
four fees, a liquidity reserve with a target, an excess-spread account, a cash reserve, an
external liquidity facility, a recovery-shortfall and a cumulative-default trigger, an
incentive fee and a clean-up call), then times

1. one engine run of 10,000 random scenarios (target: under 0.5 s on 2 cores), and the
   tranche metrics (yield, WAL, losses) of that run;
2. a Monte Carlo stress grid of 100 points (10 haircuts x 10 delays) with 1,000 random
   scenarios each (target: under 10 s).

Usage::

    python bench/bench_abs.py                 # the figures of docs/benchmarks.md
    python bench/bench_abs.py --scenarios 1000 --points 4   # a quick check

Figures go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import numpy as np

from sanhua.securitize import Deal, Scenarios, WaterfallEngine, deal_from_dict
from sanhua.securitize.stress import monte_carlo_grid

PERIODS = 120


def build_deal() -> Deal:
    """Return the benchmark deal: 120 monthly periods, every waterfall feature switched on."""
    # 109 scheduled months, then a 6-month recovery lag and 5 months of recovery timing: 120 months.
    months = PERIODS - 11
    balance = 1_000_000_000.0
    principal = np.full(months, balance / months)
    outstanding = balance - np.concatenate([[0.0], np.cumsum(principal)[:-1]])
    interest = outstanding * 0.06 / 12
    data = {
        "name": "bench-120",
        "collateral": {
            "kind": "loans",
            "opening_balance": balance,
            "scheduled_principal": principal.tolist(),
            "scheduled_interest": interest.tolist(),
            "redefault_rate": 0.08,
            "prepayment_rate": 0.03,
            "recovery": {"rate": 0.2, "lag_months": 6, "timing": [0.2, 0.2, 0.2, 0.2, 0.2]},
        },
        "dates": {"cutoff": date(2026, 1, 31), "closing": date(2026, 2, 27), "first_payment": date(2026, 3, 26), "frequency": "monthly"},
        "fees": [
            {"name": "vat", "kind": "tax", "basis": "notes_balance", "rate": 0.001},
            {"name": "trustee", "basis": "notes_balance", "rate": 0.0005},
            {"name": "custodian", "basis": "notes_balance", "rate": 0.0001},
            {"name": "rating", "basis": "fixed", "amount_per_year": 300_000.0},
            {"name": "servicer_base", "basis": "collections", "rate": 0.01},
        ],
        "liquidity_reserve": {"initial": 10_000_000.0, "target_periods": 3},
        "excess_spread_account": {"trap_share": 0.1, "cap": 20_000_000.0},
        "cash_reserve": {"initial": 5_000_000.0},
        "facility": {"limit": 15_000_000.0},
        "tranches": [
            {"name": "A1", "seniority": "senior", "balance": 500_000_000.0, "coupon": 0.028, "retained_share": 0.05},
            {"name": "A2", "seniority": "senior", "balance": 250_000_000.0, "coupon": 0.032, "floating": True, "retained_share": 0.05},
            {"name": "Sub", "seniority": "subordinated", "balance": 150_000_000.0, "coupon": 0.05, "retained_share": 0.05},
        ],
        "triggers": [
            {"name": "shortfall", "kind": "recovery_shortfall", "threshold": 0.85, "from_period": 3},
            {"name": "defaults", "kind": "cumulative_default", "threshold": 0.12, "curable": False},
        ],
        "cleanup_call": {"enabled": True, "threshold": 0.1, "price_share": 1.0},
    }
    return deal_from_dict(data, source="bench_abs.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--scenarios", type=int, default=10_000, help="Scenarios of the single run.")
    parser.add_argument("--points", type=int, default=100, help="Grid points of the stress grid (a square number: haircuts x delays).")
    parser.add_argument("--paths", type=int, default=1_000, help="Random scenarios per grid point.")
    parser.add_argument("--repeat", type=int, default=3, help="Timed repetitions of the single run; the best is reported.")
    args = parser.parse_args()

    deal = build_deal()
    engine = WaterfallEngine(deal)
    scenarios = Scenarios.monte_carlo(args.scenarios, 20261204, recovery_haircut=0.1, haircut_sd=0.15, delay_max_extra=6, redefault_multiple=1.5, rate_shift=0.005)
    engine.run(Scenarios.base())

    best_run, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(args.repeat):
        cpu = time.process_time()
        started = time.perf_counter()
        result = engine.run(scenarios)
        best_run = min(best_run, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    assert result is not None
    residual = float(np.abs(result.conservation_residual()).max())

    started = time.perf_counter()
    summary = result.tranche_summary()
    metrics_seconds = time.perf_counter() - started

    side = int(round(args.points**0.5))
    axes = {"recovery_haircut": np.linspace(0.0, 0.45, side).tolist(), "delay_months": [float(d) for d in range(side)]}
    started = time.perf_counter()
    grid = monte_carlo_grid(deal, axes, paths=args.paths, seed=7)
    grid_seconds = time.perf_counter() - started

    periods = result.periods
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print()
    print("| measure | scenarios | periods | seconds | scenario-periods per second |")
    print("|---|---:|---:|---:|---:|")
    print(f"| engine run (best of {args.repeat}; CPU {best_cpu:.3f} s) | {args.scenarios:,} | {periods} | {best_run:.3f} | {args.scenarios * periods / best_run:,.0f} |")
    print(f"| tranche metrics of that run | {args.scenarios:,} | {periods} | {metrics_seconds:.3f} | {args.scenarios * periods / metrics_seconds:,.0f} |")
    total = side * side * args.paths
    print(f"| stress grid {side}x{side} points x {args.paths:,} paths, with metrics | {total:,} | {periods} | {grid_seconds:.3f} | {total * periods / grid_seconds:,.0f} |")
    print()
    print(f"largest cash-conservation residual: {residual:.2e} CNY; summary rows: {summary.height:,}; grid rows: {grid.height:,}")


if __name__ == "__main__":
    main()
