"""The waterfall engine: period-by-period cash allocation, vectorised over scenarios.

Every state variable (a tranche balance, an account, an arrears amount) is a float64 array of
shape (scenarios,). The engine loops over payment periods and, inside each period, over the
waterfall steps; it never loops over scenarios. Scenarios before and after a trigger run the
two step lists under complementary masks, so one run mixes both.

Cash identity
-------------
In every period and scenario::

    collections + facility_draw = taxes + fees + interest + principal + sub_return
                                  + incentive_fee + excess + facility_repayment
                                  + change in (liquidity reserve + excess-spread account + cash reserve)

``DealResult.conservation_residual()`` returns the difference; the engine keeps it within
1e-6 CNY. ``collections`` includes the clean-up call price in the period the call is exercised.

Period timing
-------------
Collection period 1 gathers the months from the cut-off to ``dates.first_collection_end``; each
later period gathers ``frequency.months`` months and pays on its payment date. A scenario's final
period is the last period of the horizon or the period of the clean-up call; at the start of the
final period, and of any period in which every senior class is repaid, the accounts are released
into the available cash. Balances still unpaid after the final period are losses.

NOTE: a deal has no legal final date, so a scenario runs until its last collection or its
clean-up call, and all collections form one pot (no separate interest and principal accounts).
"""

from __future__ import annotations

import logging
import time as _time
from dataclasses import dataclass, field

import numpy as np

from sanhua.errors import ConfigError
from sanhua.securitize.collateral import CollateralFlows, project_collateral
from sanhua.securitize.conventions import payment_dates, year_fractions
from sanhua.securitize.deal import Deal
from sanhua.securitize.results import DealResult
from sanhua.securitize.scenarios import Scenarios

__all__ = ["WaterfallEngine", "period_index"]

logger = logging.getLogger(__name__)

_EPS = 1e-9


def period_index(horizon: int, first_months: int, months_per_period: int) -> np.ndarray:
    """Return the payment period (0-based) that collects each month ``1 .. horizon`` after the cut-off."""
    months = np.arange(1, horizon + 1)
    later = 1 + (months - first_months - 1) // months_per_period
    return np.where(months <= first_months, 0, later).astype(np.int64)


@dataclass
class _State:
    """Mutable per-period state of one engine run, arrays of shape (scenarios,)."""

    available: np.ndarray
    balances: list[np.ndarray]
    interest_arrears: list[np.ndarray]
    fee_arrears: list[np.ndarray]
    sub_return_arrears: np.ndarray
    reserve: np.ndarray
    excess_account: np.ndarray
    cash_reserve: np.ndarray
    facility: np.ndarray
    final: np.ndarray
    paid: dict[str, np.ndarray] = field(default_factory=dict)


class WaterfallEngine:
    """Allocate a deal's collateral cash through its waterfall for a set of stress scenarios.

    Parameters
    ----------
    deal : Deal
        The validated deal.

    Examples
    --------
    >>> result = WaterfallEngine(deal).run(Scenarios.base())  # doctest: +SKIP
    >>> result.tranche_summary()  # doctest: +SKIP
    """

    def __init__(self, deal: Deal) -> None:
        self.deal = deal

    def _check(self) -> None:
        if not isinstance(self.deal, Deal):
            raise ConfigError(f"WaterfallEngine needs a Deal, got {type(self.deal).__name__}. Build one with load_deal or Deal.model_validate.")

    def run(self, scenarios: Scenarios | None = None) -> DealResult:
        """Run the waterfall for every scenario.

        Parameters
        ----------
        scenarios : Scenarios or None
            Stress scenarios; None runs the base case only.

        Returns
        -------
        DealResult
            Per-period flows of shape (scenarios, periods) and tranche metrics.
        """
        self._check()
        scenarios = scenarios if scenarios is not None else Scenarios.base()
        started = _time.perf_counter()

        flows = project_collateral(self.deal, scenarios)
        result = self._allocate(flows, scenarios)

        logger.info(
            "Ran deal %r: %d scenarios x %d periods in %.3f s", self.deal.name, len(scenarios), result.accrual.shape[0], _time.perf_counter() - started
        )
        return result

    def _allocate(self, collateral: CollateralFlows, scenarios: Scenarios) -> DealResult:
        deal = self.deal
        dates = deal.dates
        count = len(scenarios)
        horizon = collateral.collections.shape[1]
        first_months = dates.first_period_months()
        months_per_period = dates.frequency.months

        index = period_index(horizon, first_months, months_per_period)
        periods = int(index[-1]) + 1
        pay_dates = payment_dates(dates.first_payment, dates.frequency, periods)
        accrual, times = year_fractions(dates.closing, pay_dates, dates.day_count)

        def to_periods(monthly: np.ndarray) -> np.ndarray:
            starts = np.searchsorted(index, np.arange(periods))
            return np.add.reduceat(monthly, starts, axis=-1)

        collections = to_periods(collateral.collections)
        base_collections = to_periods(collateral.base_collections)
        defaults = to_periods(collateral.defaults)

        collections, call_proceeds, final = self._clean_up_call(collections, base_collections)
        final = np.minimum(final, index[collateral.last_month - 1])
        trigger_on = self._triggers(collections - call_proceeds, base_collections, defaults, collateral.opening_balance)

        opening = self._opening_balances(scenarios)
        state = _State(
            available=np.zeros(count),
            balances=[balance.copy() for balance in opening],
            interest_arrears=[np.zeros(count) for _ in deal.tranches],
            fee_arrears=[np.zeros(count) for _ in deal.fees],
            sub_return_arrears=np.zeros(count),
            reserve=np.full(count, deal.liquidity_reserve.initial),
            excess_account=np.zeros(count),
            cash_reserve=np.full(count, deal.cash_reserve.initial),
            facility=np.zeros(count),
            final=np.zeros(count, dtype=bool),
        )

        names = self._flow_names()
        record = {name: np.zeros((periods, count)) for name in names}
        # A rate shift below minus the coupon would make interest negative, so the coupon floors at 0.
        coupons = [np.maximum(t.coupon + (scenarios.rate_shift if t.floating else 0.0), 0.0) * np.ones(count) for t in deal.tranches]
        cover = deal.liquidity_reserve.target_periods
        nominal = dates.frequency.months / 12.0

        for t in range(periods):
            active = t <= final
            # The reserve target covers the next `cover` periods, accrued over their own days.
            upcoming = accrual[t + 1 : t + 1 + cover]
            cover_years = float(upcoming.sum()) + (cover - upcoming.shape[0]) * nominal
            self._run_period(t, state, record, collections[:, t] * active, accrual[t], cover_years, coupons, trigger_on[:, t], t >= final, active)

        period_flows = {name: values.T for name, values in record.items()}
        period_flows["collateral"] = collections - call_proceeds
        period_flows["call_proceeds"] = call_proceeds
        period_flows["trigger"] = trigger_on.astype(np.float64)
        fired = trigger_on.any(axis=1)
        trigger_period = np.where(fired, trigger_on.argmax(axis=1) + 1, 0)

        return DealResult(
            deal=deal,
            scenarios=scenarios,
            payment_dates=pay_dates,
            accrual=accrual,
            time=times,
            flows=period_flows,
            opening={t.name: opening[i] for i, t in enumerate(deal.tranches)},
            trigger_period=trigger_period,
            final_period=final + 1,
        )

    def _flow_names(self) -> list[str]:
        deal = self.deal
        names = ["collections", "available_end"]
        names += [f"fee:{fee.name}" for fee in deal.fees]
        for tranche in deal.tranches:
            names += [f"interest:{tranche.name}", f"principal:{tranche.name}", f"balance:{tranche.name}", f"arrears:{tranche.name}"]
        names += [
            "incentive_fee",
            "excess",
            "liquidity_reserve",
            "excess_spread_account",
            "cash_reserve",
            "reserve_change",
            "facility_draw",
            "facility_repayment",
            "facility_balance",
            "liquidity_reserve_draw",
            "excess_spread_account_draw",
            "cash_reserve_draw",
        ]
        return names

    def _opening_balances(self, scenarios: Scenarios) -> list[np.ndarray]:
        deal = self.deal
        count = len(scenarios)
        issue = deal.issue_balance
        senior_total = sum(t.balance for t in deal.seniors)
        share = scenarios.senior_share
        override = ~np.isnan(share)
        balances = []
        for tranche in deal.tranches:
            own = np.full(count, tranche.balance)
            if tranche.seniority == "senior":
                sized = issue * np.nan_to_num(share) * tranche.balance / senior_total
            else:
                sized = issue * (1.0 - np.nan_to_num(share))
            balances.append(np.where(override, sized, own))
        return balances

    def _clean_up_call(self, collections: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        call = self.deal.cleanup_call
        count, periods = collections.shape
        final = np.full(count, periods - 1)
        proceeds = np.zeros_like(collections)
        if not call.enabled or periods < 2:
            return collections, proceeds, final

        remaining = collections.sum(axis=1, keepdims=True) - np.cumsum(collections, axis=1)
        # A scenario whose remaining collections are already zero is called too (at a price of
        # zero), so the deal ends in the same period whether a little or nothing is left.
        eligible = remaining <= call.threshold * base.sum()
        eligible[:, -1] = False
        called = eligible.any(axis=1)
        when = np.where(called, eligible.argmax(axis=1), periods - 1)

        rows = np.flatnonzero(called)
        proceeds[rows, when[rows]] = call.price_share * remaining[rows, when[rows]]
        after = np.arange(periods)[None, :] > when[:, None]
        collections = np.where(after, 0.0, collections) + proceeds
        final = when
        return collections, proceeds, final

    def _triggers(self, collateral: np.ndarray, base: np.ndarray, defaults: np.ndarray, opening: float) -> np.ndarray:
        count, periods = collateral.shape
        state = np.zeros((count, periods), dtype=bool)
        for trigger in self.deal.triggers:
            if trigger.kind == "recovery_shortfall":
                reference = np.cumsum(base)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(reference > 0, np.cumsum(collateral, axis=1) / reference[None, :], 1.0)
                condition = ratio < trigger.threshold
            else:
                condition = np.cumsum(defaults, axis=1) / opening > trigger.threshold
            condition[:, : trigger.from_period - 1] = False
            if not trigger.curable:
                condition = np.maximum.accumulate(condition, axis=1)
            state |= condition
        return state

    def _run_period(
        self,
        t: int,
        state: _State,
        record: dict[str, np.ndarray],
        collections: np.ndarray,
        accrual: float,
        cover_years: float,
        coupons: list[np.ndarray],
        triggered: np.ndarray,
        final: np.ndarray,
        active: np.ndarray,
    ) -> None:
        deal = self.deal
        accounts_before = state.reserve + state.excess_account + state.cash_reserve
        state.available = collections.copy()
        state.final = final
        state.paid = {name: np.zeros_like(collections) for name in ("facility_draw", "liquidity_reserve_draw", "excess_spread_account_draw", "cash_reserve_draw")}
        opening_balances = [balance.copy() for balance in state.balances]
        notes = sum(opening_balances)

        senior_left = sum(state.balances[: len(deal.seniors)])
        release = final | (senior_left <= _EPS)
        if release.any():
            self._release(state, release)

        due = {
            "fees": [self._fee_due(i, collections, notes, accrual) * active for i in range(len(deal.fees))],
            "interest": [self._accrual_base(state, opening_balances, i) * coupons[i] * accrual * active for i in range(len(deal.tranches))],
        }
        record["collections"][t] = collections

        paths = ((deal.waterfall.steps, ~triggered), (deal.waterfall.post_trigger_steps, triggered))
        for steps, mask in paths:
            if not mask.any():
                continue
            # A float mask (1.0 or 0.0 per scenario) multiplies faster than np.where selects.
            whole = None if mask.all() else mask.astype(np.float64)
            for step in steps:
                self._step(step, state, record, t, whole, due, opening_balances, coupons, cover_years, accrual, triggered)

        for i, tranche in enumerate(deal.tranches):
            record[f"balance:{tranche.name}"][t] = state.balances[i]
            record[f"arrears:{tranche.name}"][t] = state.interest_arrears[i] if tranche.seniority == "senior" else state.sub_return_arrears
        record["liquidity_reserve"][t] = state.reserve
        record["excess_spread_account"][t] = state.excess_account
        record["cash_reserve"][t] = state.cash_reserve
        record["reserve_change"][t] = state.reserve + state.excess_account + state.cash_reserve - accounts_before
        record["facility_balance"][t] = state.facility
        record["available_end"][t] = state.available
        for name, values in state.paid.items():
            record[name][t] = values

    def _accrual_base(self, state: _State, opening_balances: list[np.ndarray], index: int) -> np.ndarray:
        """Return the amount a class accrues interest on: its balance plus, when arrears accrue, its unpaid interest."""
        if not self.deal.waterfall.interest_on_arrears:
            return opening_balances[index]
        if index == len(self.deal.tranches) - 1:
            return opening_balances[index] + state.sub_return_arrears
        return opening_balances[index] + state.interest_arrears[index]

    def _fee_due(self, index: int, collections: np.ndarray, notes: np.ndarray, accrual: float) -> np.ndarray:
        fee = self.deal.fees[index]
        if fee.basis == "collections":
            return fee.rate * collections
        if fee.basis == "notes_balance":
            return fee.rate * notes * accrual
        return np.full_like(collections, fee.amount_per_year * accrual)

    @staticmethod
    def _masked(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return values if mask is None else values * mask

    def _release(self, state: _State, mask: np.ndarray) -> None:
        for name in ("reserve", "excess_account", "cash_reserve"):
            balance = getattr(state, name)
            moved = np.where(mask, balance, 0.0)
            state.available = state.available + moved
            setattr(state, name, balance - moved)

    def _pay_senior(self, state: _State, need: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Pay ``need`` from the available cash, then from the shortfall sources; return the amount paid."""
        need = self._masked(need, mask)
        from_cash = np.minimum(need, state.available)
        state.available = state.available - from_cash
        short = need - from_cash

        for source in self.deal.waterfall.shortfall_sources:
            if not (short > _EPS).any():
                break
            if source == "facility":
                if self.deal.facility is None:
                    continue
                draw = np.minimum(short, np.maximum(self.deal.facility.limit - state.facility, 0.0))
                state.facility = state.facility + draw
                state.paid["facility_draw"] += draw
            else:
                attribute = {"liquidity_reserve": "reserve", "excess_spread_account": "excess_account", "cash_reserve": "cash_reserve"}[source]
                balance = getattr(state, attribute)
                draw = np.minimum(short, balance)
                setattr(state, attribute, balance - draw)
                state.paid[f"{source}_draw"] += draw
            short = short - draw
        return need - short

    def _step(
        self,
        step: str,
        state: _State,
        record: dict[str, np.ndarray],
        t: int,
        mask: np.ndarray | None,
        due: dict[str, list[np.ndarray]],
        opening_balances: list[np.ndarray],
        coupons: list[np.ndarray],
        cover_years: float,
        accrual: float,
        triggered: np.ndarray,
    ) -> None:
        deal = self.deal
        seniors = len(deal.seniors)
        sub = len(deal.tranches) - 1

        if step in ("taxes", "fees"):
            kind = "tax" if step == "taxes" else "fee"
            for i, fee in enumerate(deal.fees):
                if fee.kind != kind:
                    continue
                need = due["fees"][i] + state.fee_arrears[i]
                paid = self._pay_senior(state, need, mask)
                state.fee_arrears[i] = state.fee_arrears[i] + self._masked(due["fees"][i], mask) - paid
                record[f"fee:{fee.name}"][t] += paid
            return

        if step == "senior_interest":
            needs = [due["interest"][i] + state.interest_arrears[i] for i in range(seniors)]
            total = sum(needs)
            paid_total = self._pay_senior(state, total, mask)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(total > 0, paid_total / total, 0.0)
            for i in range(seniors):
                paid = needs[i] * share
                state.interest_arrears[i] = state.interest_arrears[i] + self._masked(due["interest"][i], mask) - paid
                record[f"interest:{deal.tranches[i].name}"][t] += paid
            return

        if step == "facility_repayment":
            paid = self._masked(np.minimum(state.facility, state.available), mask)
            state.facility = state.facility - paid
            state.available = state.available - paid
            record["facility_repayment"][t] += paid
            return

        if step == "reserve_topup":
            per_year = sum(opening_balances[i] * coupons[i] for i in range(seniors))
            notes = sum(opening_balances)
            for fee in deal.fees:
                if fee.basis == "notes_balance":
                    per_year = per_year + fee.rate * notes
                elif fee.basis == "fixed":
                    per_year = per_year + fee.amount_per_year
            senior_left = sum(state.balances[:seniors])
            target = np.where((senior_left > _EPS) & ~state.final, per_year * cover_years, 0.0)
            released = self._masked(np.maximum(state.reserve - target, 0.0), mask)
            topup = self._masked(np.minimum(np.maximum(target - state.reserve, 0.0), state.available + released), mask)
            state.reserve = state.reserve - released + topup
            state.available = state.available + released - topup
            return

        if step == "excess_spread_trap":
            account = deal.excess_spread_account
            cap = np.inf if account.cap is None else account.cap
            room = np.where(state.final, 0.0, np.maximum(cap - state.excess_account, 0.0))
            deposit = self._masked(np.minimum(account.trap_share * state.available, room), mask)
            state.excess_account = state.excess_account + deposit
            state.available = state.available - deposit
            return

        if step == "reserve_release":
            self._release(state, np.ones_like(state.available, dtype=bool) if mask is None else mask > 0)
            return

        if step == "senior_principal":
            for i in range(seniors):
                self._pay_principal(state, record, t, i, mask)
            return

        if step == "sub_principal":
            self._pay_principal(state, record, t, sub, mask)
            return

        if step == "sub_return":
            due_now = self._masked(due["interest"][sub], mask)
            need = due_now + self._masked(state.sub_return_arrears, mask)
            paid = np.minimum(need, state.available)
            state.available = state.available - paid
            state.sub_return_arrears = state.sub_return_arrears + due_now - paid
            record[f"interest:{deal.tranches[sub].name}"][t] += paid
            return

        if step == "excess":
            rest = self._masked(state.available, mask)
            share = deal.waterfall.incentive_share
            if deal.waterfall.incentive_after_trigger:
                incentive = rest * share
            else:
                incentive = rest * share * ~triggered
            record["incentive_fee"][t] += incentive
            record["excess"][t] += rest - incentive
            state.available = state.available - rest
            return

        raise ConfigError(f"Unknown waterfall step {step!r}.")  # unreachable: the deal validates step names

    def _pay_principal(self, state: _State, record: dict[str, np.ndarray], t: int, i: int, mask: np.ndarray | None) -> None:
        paid = self._masked(np.minimum(state.balances[i], state.available), mask)
        state.balances[i] = state.balances[i] - paid
        state.available = state.available - paid
        record[f"principal:{self.deal.tranches[i].name}"][t] += paid
