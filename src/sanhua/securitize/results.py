"""The engine's result container: per-period flows and per-tranche metrics of every scenario.

Flow names (arrays of shape (scenarios, periods), amounts in the deal's currency)
---------------------------------------------------------------------------------
``collateral``, ``call_proceeds``, ``collections`` (their sum), ``fee:<name>``,
``interest:<tranche>`` (the subordinated class: its fixed return), ``principal:<tranche>``,
``balance:<tranche>`` (after the period), ``arrears:<tranche>`` (interest or fixed return due but
unpaid after the period), ``incentive_fee``, ``excess`` (to the subordinated class),
``liquidity_reserve``, ``excess_spread_account``, ``cash_reserve`` (balances after the period),
``reserve_change`` (change of the three account balances in the period), ``facility_draw``,
``facility_repayment``, ``facility_balance``, ``<account>_draw``, ``available_end`` (zero: the
excess step allocates the rest) and ``trigger`` (1 when a trigger is on in the period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

import numpy as np
import polars as pl

from sanhua.securitize.deal import Deal
from sanhua.securitize.metrics import tranche_yield, weighted_average_life
from sanhua.securitize.scenarios import Scenarios

__all__ = ["DealResult", "SURVIVAL_TOLERANCE"]

SURVIVAL_TOLERANCE = 0.01
"""Amount (one fen) below which a principal loss or an interest arrears counts as zero, CNY."""

_ACCOUNTS = ("liquidity_reserve", "excess_spread_account", "cash_reserve")


@dataclass(frozen=True)
class DealResult:
    """Per-period flows and metrics of one engine run.

    Attributes
    ----------
    deal : Deal
        The deal that was run.
    scenarios : Scenarios
        The stress scenarios, one per row of every flow.
    payment_dates : list of date
        Payment date of each period.
    accrual, time : np.ndarray, shape (periods,)
        Accrual fraction of each period and years from closing to its payment date.
    flows : Mapping of str to np.ndarray, shape (scenarios, periods)
        Named flows; see the module docstring.
    opening : Mapping of str to np.ndarray, shape (scenarios,)
        Issued balance of each tranche per scenario (sizing runs vary it).
    trigger_period : np.ndarray, shape (scenarios,)
        First period (1-based) in which a trigger was on; 0 when none fired.
    final_period : np.ndarray, shape (scenarios,)
        Last period (1-based) of the deal per scenario (the clean-up call can end it early).
    """

    deal: Deal
    scenarios: Scenarios
    payment_dates: list[date]
    accrual: np.ndarray
    time: np.ndarray
    flows: Mapping[str, np.ndarray]
    opening: Mapping[str, np.ndarray]
    trigger_period: np.ndarray
    final_period: np.ndarray

    @property
    def periods(self) -> int:
        """Number of payment periods."""
        return int(self.accrual.shape[0])

    def payments(self) -> np.ndarray:
        """Total paid out of the trust per scenario and period (taxes, fees, notes, incentive, excess, facility repayment)."""
        deal = self.deal
        total = self.flows["incentive_fee"] + self.flows["excess"] + self.flows["facility_repayment"]
        for fee in deal.fees:
            total = total + self.flows[f"fee:{fee.name}"]
        for tranche in deal.tranches:
            total = total + self.flows[f"interest:{tranche.name}"] + self.flows[f"principal:{tranche.name}"]
        return total

    def conservation_residual(self) -> np.ndarray:
        """Return ``collections + facility_draw - payments - reserve_change - available_end`` per scenario and period."""
        flows = self.flows
        inflow = flows["collections"] + flows["facility_draw"]
        return inflow - self.payments() - flows["reserve_change"] - flows["available_end"]

    def tranche_cash(self, name: str) -> np.ndarray:
        """Cash received by a tranche's holders per scenario and period (interest, principal and, for the subordinated class, the excess)."""
        cash = self.flows[f"interest:{name}"] + self.flows[f"principal:{name}"]
        if name == self.deal.subordinated.name:
            cash = cash + self.flows["excess"]
        return cash

    def tranche_summary(self) -> pl.DataFrame:
        """Return one row per scenario and tranche with its metrics.

        Columns: ``scenario``, ``tranche``, ``seniority``, ``balance`` (issued),
        ``yield`` (annual, see :mod:`sanhua.securitize.metrics`), ``wal_years``,
        ``interest_paid``, ``principal_paid``, ``principal_loss``,
        ``principal_loss_rate`` (fraction of the issued balance),
        ``interest_shortfall_max`` (largest arrears after any period),
        ``interest_unpaid`` (arrears at the end), ``periods_short`` (periods
        ending with arrears above one fen), ``full_and_timely`` (no arrears and no
        principal loss), ``trigger_period`` (null when none fired) and ``final_period``.
        """
        frames = []
        count = len(self.scenarios)
        for tranche in self.deal.tranches:
            name = tranche.name
            balance = np.asarray(self.opening[name])
            interest = self.flows[f"interest:{name}"]
            principal = self.flows[f"principal:{name}"]
            arrears = self.flows[f"arrears:{name}"]
            loss = np.maximum(balance - principal.sum(axis=1), 0.0)
            shortfall = arrears.max(axis=1)
            frames.append(
                pl.DataFrame(
                    {
                        "scenario": np.arange(count, dtype=np.int64),
                        "tranche": [name] * count,
                        "seniority": [tranche.seniority] * count,
                        "balance": balance,
                        "yield": tranche_yield(self.tranche_cash(name), self.accrual, balance, guess=tranche.coupon),
                        "wal_years": weighted_average_life(principal, self.time),
                        "interest_paid": interest.sum(axis=1),
                        "principal_paid": principal.sum(axis=1),
                        "principal_loss": loss,
                        "principal_loss_rate": loss / balance,
                        "interest_shortfall_max": shortfall,
                        "interest_unpaid": arrears[:, -1],
                        "periods_short": (arrears > SURVIVAL_TOLERANCE).sum(axis=1).astype(np.int64),
                        "full_and_timely": (shortfall <= SURVIVAL_TOLERANCE) & (loss <= SURVIVAL_TOLERANCE),
                        "trigger_period": np.where(self.trigger_period > 0, self.trigger_period, -1).astype(np.int64),
                        "final_period": self.final_period.astype(np.int64),
                    }
                )
            )
        summary = pl.concat(frames)
        return summary.with_columns(pl.when(pl.col("trigger_period") > 0).then(pl.col("trigger_period")).otherwise(None).alias("trigger_period"))

    def survives(self, tranche: str, *, timely_interest: bool = True) -> np.ndarray:
        """Return, per scenario, whether ``tranche`` is repaid in full (and, if asked, with no interest arrears)."""
        balance = np.asarray(self.opening[tranche])
        loss = balance - self.flows[f"principal:{tranche}"].sum(axis=1)
        ok = loss <= SURVIVAL_TOLERANCE
        if timely_interest:
            ok &= self.flows[f"arrears:{tranche}"].max(axis=1) <= SURVIVAL_TOLERANCE
        return ok

    def _money_columns(self) -> list[str]:
        deal = self.deal
        columns = ["collateral", "call_proceeds", "facility_draw"]
        columns += [f"fee:{fee.name}" for fee in deal.fees]
        for tranche in deal.tranches:
            columns += [f"interest:{tranche.name}", f"principal:{tranche.name}"]
        columns += ["incentive_fee", "facility_repayment", "excess"]
        columns += list(_ACCOUNTS)
        columns += [f"balance:{tranche.name}" for tranche in deal.tranches]
        columns += [f"arrears:{tranche.name}" for tranche in deal.tranches]
        columns += ["facility_balance", "liquidity_reserve_draw", "excess_spread_account_draw", "cash_reserve_draw"]
        return columns

    def period_table(self, scenario: int = 0, *, rounded: bool = True) -> pl.DataFrame:
        """Return one row per payment period of one scenario.

        Parameters
        ----------
        scenario : int
            Row of the scenarios.
        rounded : bool
            Round every amount to the fen (0.01). The rounding residual of the
            cash identity is carried to the last step of the period (the
            ``excess``), so the rounded table conserves cash to the fen.

        Returns
        -------
        pl.DataFrame
            ``period``, ``payment_date``, ``collections`` and the flows of
            :meth:`_money_columns`, then ``trigger`` and ``residual``.
        """
        if not 0 <= scenario < len(self.scenarios):
            raise IndexError(f"scenario {scenario} is out of range 0..{len(self.scenarios) - 1}")
        data = {name: np.asarray(self.flows[name][scenario], dtype=np.float64) for name in self._money_columns()}
        opening_accounts = float(self.deal.liquidity_reserve.initial + self.deal.cash_reserve.initial)

        if rounded:
            cents = {name: np.round(values * 100.0) for name, values in data.items()}
            inflow = cents["collateral"] + cents["call_proceeds"] + cents["facility_draw"]
            accounts = sum(cents[name] for name in _ACCOUNTS)
            previous = np.concatenate([[np.round(opening_accounts * 100.0)], accounts[:-1]])
            outflow_columns = self._outflow_columns()
            outflow = sum(cents[name] for name in outflow_columns) + accounts - previous
            # The residual goes to the period's last paying step in waterfall order (the excess
            # when it pays anything), so no step shows a negative payment of one fen.
            paid = np.stack([cents[name] != 0 for name in outflow_columns])
            last = np.where(paid.any(axis=0), len(outflow_columns) - 1 - np.argmax(paid[::-1], axis=0), len(outflow_columns) - 1)
            for position, name in enumerate(outflow_columns):
                cents[name] = cents[name] + np.where(last == position, inflow - outflow, 0.0)
            data = {name: values / 100.0 for name, values in cents.items()}
            opening_accounts = float(np.round(opening_accounts * 100.0)) / 100.0

        accounts = sum(data[name] for name in _ACCOUNTS)
        previous = np.concatenate([[opening_accounts], accounts[:-1]])
        collections = data["collateral"] + data["call_proceeds"]
        residual = collections + data["facility_draw"] - sum(data[name] for name in self._outflow_columns()) - (accounts - previous)

        table = {
            "period": np.arange(1, self.periods + 1, dtype=np.int64),
            "payment_date": self.payment_dates,
            "collections": collections,
            **data,
            "trigger": self.flows["trigger"][scenario] > 0,
            "residual": residual,
        }
        return pl.DataFrame(table)

    def _outflow_columns(self) -> list[str]:
        deal = self.deal
        columns = [f"fee:{fee.name}" for fee in deal.fees]
        for tranche in deal.tranches:
            columns += [f"interest:{tranche.name}", f"principal:{tranche.name}"]
        return columns + ["incentive_fee", "facility_repayment", "excess"]
