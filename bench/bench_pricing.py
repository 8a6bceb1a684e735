"""Benchmark the Monte Carlo package pricing: 100,000 loans x 10,000 scenarios.

Usage: python bench/bench_pricing.py [--loans 100000] [--scenarios 10000] [--packages 40] [--threads 2]

Prints wall-clock seconds, peak resident memory (ru_maxrss) and, per package,
the mean simulated bid and its Monte Carlo standard error. Loans are synthetic:
expected recovery uniform in [0, 2,000] CNY spread over 60 months on the
default configured curve.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from sanhua.value.cashflows import project_cash_flows
from sanhua.value.curves import RecoveryCurve
from sanhua.value.pricing import bid_price, distribution_summary, simulate_package_pv
from sanhua.value.settings import MonteCarloSettings, PricingSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--packages", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    curve = RecoveryCurve.configured()
    expected = rng.uniform(0, 2_000, args.loans)
    elapsed = rng.integers(0, 36, args.loans)
    cash = project_cash_flows(pl.Series([str(i) for i in range(args.loans)]), expected, elapsed, curve.curve_["marginal"].to_numpy())
    index = rng.integers(0, args.packages, args.loans)
    pricing = PricingSettings()
    settings = MonteCarloSettings(n_scenarios=args.scenarios, threads=args.threads)

    started = time.perf_counter()
    simulated = simulate_package_pv(cash.gross, index, args.packages, pricing.target_irr, settings)
    due_diligence = pricing.due_diligence_cost_cny + pricing.due_diligence_cost_per_loan_cny * np.bincount(index, minlength=args.packages)
    bids = np.maximum((1 - pricing.servicing_cost_rate) * simulated.values - due_diligence[:, None], 0.0)
    summary = distribution_summary(bids)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    deterministic = bid_price(np.bincount(index, weights=cash.gross @ ((1 + pricing.target_irr / 12) ** -np.arange(1, 61)), minlength=args.packages), due_diligence, pricing)
    table = summary.with_columns(pl.Series("package", np.arange(args.packages)), pl.Series("dcf_bid", deterministic)).with_columns(
        ((pl.col("mc_mean") - pl.col("dcf_bid")) / pl.col("mc_se")).alias("z")
    )
    print(f"loans {args.loans:,} scenarios {args.scenarios:,} packages {args.packages} threads {args.threads}")
    print(f"seconds {seconds:.2f}  peak_rss_mib {peak_mib:.0f}")
    print(f"mc_se / mean: min {float((table['mc_se'] / table['mc_mean']).min()):.5f} max {float((table['mc_se'] / table['mc_mean']).max()):.5f}")
    with pl.Config(tbl_rows=args.packages, tbl_cols=10):
        print(table.select("package", "dcf_bid", "mc_mean", "mc_se", "z", "p5", "p50", "p95", "expected_shortfall"))


if __name__ == "__main__":
    main()
