"""Tests of the waterfall engine: golden numbers, cash conservation, triggers, accounts and rounding."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanhua.securitize import Deal, Scenarios, WaterfallEngine, deal_from_dict
from sanhua.securitize.collateral import project_collateral, recovery_schedule
from sanhua.securitize.deal import RecoverySpec

from .conftest import deal_dict


def _two_period_deal(**overrides: Any) -> Deal:
    data = {
        "name": "golden",
        "collateral": {"kind": "projected", "outstanding_claims": 1000.0, "collections": [100.0, 100.0]},
        "dates": {"cutoff": date(2025, 1, 1), "closing": date(2025, 1, 1), "first_payment": date(2025, 2, 1)},
        "tranches": [
            {"name": "A", "seniority": "senior", "balance": 150.0, "coupon": 0.0365, "retained_share": 0.05},
            {"name": "Sub", "seniority": "subordinated", "balance": 50.0, "retained_share": 0.05},
        ],
        "liquidity_reserve": {"initial": 0.0, "target_periods": 0},
        "cleanup_call": {"enabled": False},
    }
    data.update(overrides)
    return deal_from_dict(data)


def test_golden_two_period_allocation() -> None:
    # Hand computation, ACT/365F: period 1 accrues 31 days (Jan), period 2 accrues 28 days (Feb).
    result = WaterfallEngine(_two_period_deal()).run()
    flows = {name: values[0] for name, values in result.flows.items()}

    interest_1 = 150.0 * 0.0365 * 31 / 365
    principal_1 = 100.0 - interest_1
    interest_2 = (150.0 - principal_1) * 0.0365 * 28 / 365
    sub_principal = 100.0 - interest_2 - (150.0 - principal_1)

    assert flows["interest:A"].tolist() == pytest.approx([interest_1, interest_2], abs=1e-9)
    assert flows["principal:A"].tolist() == pytest.approx([principal_1, 150.0 - principal_1], abs=1e-9)
    assert flows["principal:Sub"].tolist() == pytest.approx([0.0, sub_principal], abs=1e-9)
    assert flows["excess"].tolist() == pytest.approx([0.0, 0.0], abs=1e-12)


def test_golden_senior_yield_equals_coupon() -> None:
    summary = WaterfallEngine(_two_period_deal()).run().tranche_summary()
    senior = summary.filter(summary["tranche"] == "A").row(0, named=True)
    sub = summary.filter(summary["tranche"] == "Sub").row(0, named=True)

    assert senior["yield"] == pytest.approx(0.0365, abs=1e-10)
    assert senior["full_and_timely"]
    interest_1 = 150.0 * 0.0365 * 31 / 365
    interest_2 = (50.0 + interest_1) * 0.0365 * 28 / 365
    assert sub["principal_loss"] == pytest.approx(interest_1 + interest_2, abs=1e-9)
    assert sub["yield"] < 0


def test_golden_excess_split_with_incentive_fee() -> None:
    deal = _two_period_deal(collateral={"kind": "projected", "outstanding_claims": 1000.0, "collections": [100.0, 200.0]})
    flows = WaterfallEngine(deal).run().flows

    paid_out = 300.0 - flows["interest:A"][0].sum() - 150.0 - 50.0
    assert flows["incentive_fee"][0].sum() == pytest.approx(0.2 * paid_out, abs=1e-9)
    assert flows["excess"][0].sum() == pytest.approx(0.8 * paid_out, abs=1e-9)


def test_recovery_golden_lag_and_timing() -> None:
    # A balance of 100 defaulting in month 1 at 10 % recovery, lag 6, timing [50 %, 50 %]:
    # 5 in the sixth month after default (month 7) and 5 in the seventh (month 8).
    spec = RecoverySpec(rate=0.10, lag_months=6, timing=[0.5, 0.5])

    recovered = recovery_schedule(np.array([100.0]), spec, horizon=10)

    assert recovered.tolist() == pytest.approx([0, 0, 0, 0, 0, 0, 5.0, 5.0, 0, 0], abs=1e-12)


def test_loan_pool_recovers_redefaults_after_lag() -> None:
    data = deal_dict(
        collateral={
            "kind": "loans",
            "opening_balance": 100.0,
            "scheduled_principal": [100.0],
            "scheduled_interest": [0.0],
            "redefault_rate": 0.5,
            "prepayment_rate": 0.0,
            "recovery": {"rate": 0.10, "lag_months": 6, "timing": [0.5, 0.5]},
        },
        triggers=[],
    )

    flows = project_collateral(deal_from_dict(data), Scenarios.base())
    defaulted = 100.0 * (1 - 0.5 ** (1 / 12))

    assert flows.defaults[0, 0] == pytest.approx(defaulted, rel=1e-12)
    assert flows.collections[0, 0] == pytest.approx(100.0 - defaulted, rel=1e-12)
    assert (np.flatnonzero(flows.collections[0] > 0) + 1).tolist() == [1, 7, 8]
    assert flows.collections[0, 6] == pytest.approx(0.05 * defaulted, rel=1e-12)
    assert flows.collections[0, 7] == pytest.approx(0.05 * defaulted, rel=1e-12)


def test_loan_pool_without_stress_pays_schedule() -> None:
    data = deal_dict(
        collateral={
            "kind": "loans",
            "opening_balance": 300.0,
            "scheduled_principal": [100.0, 100.0, 100.0],
            "scheduled_interest": [3.0, 2.0, 1.0],
            "redefault_rate": 0.0,
            "prepayment_rate": 0.0,
        },
        triggers=[],
    )

    flows = project_collateral(deal_from_dict(data), Scenarios.base())

    assert flows.collections[0, :3].tolist() == pytest.approx([103.0, 102.0, 101.0], abs=1e-9)
    assert flows.collections[0, 3:].sum() == pytest.approx(0.0, abs=1e-12)


def test_known_months_are_not_stressed() -> None:
    data = deal_dict(collateral={"kind": "projected", "outstanding_claims": 1000.0, "collections": [50.0, 50.0, 50.0], "known_months": 2})

    flows = project_collateral(deal_from_dict(data), Scenarios.from_values(1, recovery_haircut=0.5, delay_months=2))

    assert flows.collections[0].tolist() == pytest.approx([50.0, 50.0, 0.0, 0.0, 25.0], abs=1e-12)


def test_scenario_results_independent_of_batch(deal: Deal) -> None:
    alone = WaterfallEngine(deal).run(Scenarios.from_values(1, recovery_haircut=0.2))
    batch = WaterfallEngine(deal).run(Scenarios.from_values(3, recovery_haircut=[0.5, 0.2, 0.0], delay_months=[12, 0, 6]))

    for name in ("A", "Sub"):
        periods = alone.periods
        assert np.allclose(alone.tranche_cash(name)[0], batch.tranche_cash(name)[1, :periods], atol=1e-9)
        assert np.allclose(batch.tranche_cash(name)[1, periods:], 0.0)


def test_rounded_table_conserves_to_the_fen(deal: Deal) -> None:
    result = WaterfallEngine(deal).run(Scenarios.from_values(2, recovery_haircut=[0.0, 0.4], delay_months=[0, 5]))

    for scenario in range(2):
        table = result.period_table(scenario, rounded=True)
        money = [c for c in table.columns if c not in ("period", "payment_date", "trigger", "residual")]
        cents = table.select(money).to_numpy() * 100
        assert np.allclose(cents, np.round(cents), atol=1e-6)
        assert np.abs(table["residual"].to_numpy()).max() < 1e-6


def test_liquidity_reserve_pays_senior_interest_when_collections_stop() -> None:
    deal = deal_from_dict(deal_dict(triggers=[], facility=None, waterfall={"steps": ["taxes", "fees", "senior_interest", "reserve_topup", "senior_principal", "sub_principal", "sub_return", "excess"], "post_trigger_steps": ["taxes", "fees", "senior_interest", "senior_principal", "sub_principal", "sub_return", "excess"]}))

    result = WaterfallEngine(deal).run(Scenarios.from_values(1, delay_months=2))
    flows = {name: values[0] for name, values in result.flows.items()}

    # Months 1-2 collect nothing, so the reserve (3.0 at closing) pays the senior interest.
    assert flows["collections"][0] == 0.0
    assert flows["liquidity_reserve_draw"][0] == pytest.approx(flows["interest:A"][0] + sum(flows[f"fee:{f.name}"][0] for f in deal.fees), abs=1e-9)
    assert flows["arrears:A"][0] == pytest.approx(0.0, abs=1e-12)


def test_facility_draws_and_is_repaid() -> None:
    deal = deal_from_dict(deal_dict(triggers=[], liquidity_reserve={"initial": 0.0, "target_periods": 0}, cash_reserve={"initial": 0.0}))

    result = WaterfallEngine(deal).run(Scenarios.from_values(1, delay_months=2))
    flows = {name: values[0] for name, values in result.flows.items()}

    assert flows["facility_draw"][:2].sum() > 0
    assert flows["facility_repayment"].sum() == pytest.approx(flows["facility_draw"].sum(), abs=1e-9)
    assert flows["facility_balance"][-1] == pytest.approx(0.0, abs=1e-9)


def test_facility_limit_respected() -> None:
    deal = deal_from_dict(deal_dict(triggers=[], liquidity_reserve={"initial": 0.0, "target_periods": 0}, cash_reserve={"initial": 0.0}, facility={"limit": 0.5}))

    flows = WaterfallEngine(deal).run(Scenarios.from_values(1, delay_months=12)).flows

    assert flows["facility_balance"].max() <= 0.5 + 1e-12
    assert flows["arrears:A"].max() > 0


def test_recovery_shortfall_trigger_fires_and_stays() -> None:
    deal = deal_from_dict(deal_dict())

    result = WaterfallEngine(deal).run(Scenarios.from_values(2, recovery_haircut=[0.0, 0.3]))
    trigger = result.flows["trigger"]

    # Base case never falls short; a 30 % haircut puts cumulative collections at 70 % of the
    # forecast from period 1, and the trigger is tested from period 2.
    assert result.trigger_period.tolist() == [0, 2]
    assert trigger[1, 1:].min() == 1.0
    assert trigger[1, 0] == 0.0


def test_curable_trigger_switches_back() -> None:
    cured = deal_dict(triggers=[{"name": "shortfall", "kind": "recovery_shortfall", "threshold": 0.8, "curable": True}])
    stuck = deal_dict(triggers=[{"name": "shortfall", "kind": "recovery_shortfall", "threshold": 0.8, "curable": False}])
    scenario = Scenarios.from_values(1, delay_months=1)

    curable = WaterfallEngine(deal_from_dict(cured)).run(scenario).flows["trigger"][0]
    non_curable = WaterfallEngine(deal_from_dict(stuck)).run(scenario).flows["trigger"][0]

    assert curable[0] == 1.0
    assert curable[-1] == 0.0
    assert non_curable.min() == 1.0


def test_trigger_switches_waterfall() -> None:
    deal = deal_from_dict(deal_dict())

    flows = WaterfallEngine(deal).run(Scenarios.from_values(1, recovery_haircut=0.3)).flows
    on = flows["trigger"][0] > 0

    # After the trigger the reserve is released (no top-up) and no incentive fee is paid.
    assert flows["liquidity_reserve"][0][on].max() == 0.0
    assert flows["incentive_fee"][0][on].sum() == 0.0


def test_cumulative_default_trigger_period() -> None:
    data = deal_dict(
        collateral={
            "kind": "loans",
            "opening_balance": 600.0,
            "scheduled_principal": [20.0] * 30,
            "scheduled_interest": [2.0] * 30,
            "redefault_rate": 0.2,
            "prepayment_rate": 0.0,
        },
        triggers=[{"name": "defaults", "kind": "cumulative_default", "threshold": 0.05}],
    )
    deal = deal_from_dict(data)

    result = WaterfallEngine(deal).run()
    defaults = project_collateral(deal, Scenarios.base()).defaults[0]
    expected = int(np.flatnonzero(np.cumsum(defaults) / 600.0 > 0.05)[0]) + 1

    assert result.trigger_period.tolist() == [expected]


def test_clean_up_call_ends_deal() -> None:
    deal = deal_from_dict(deal_dict(triggers=[], cleanup_call={"enabled": True, "threshold": 0.2, "price_share": 1.0}))

    result = WaterfallEngine(deal).run()
    call = result.flows["call_proceeds"][0]
    when = int(np.flatnonzero(call > 0)[0])

    assert result.final_period.tolist() == [when + 1]
    assert result.flows["collections"][0, when + 1 :].sum() == 0.0
    assert result.flows["collections"][0].sum() == pytest.approx(sum(deal.collateral.monthly_collections()), abs=1e-9)


# Random deals for the conservation property --------------------------------------------------

_STEPS_POST = ["reserve_release", "taxes", "fees", "senior_interest", "facility_repayment", "senior_principal", "sub_principal", "sub_return", "excess"]


@st.composite
def random_deals(draw: st.DrawFn) -> tuple[Deal, Scenarios]:
    months = draw(st.integers(2, 36))
    loans = draw(st.booleans())
    if loans:
        principal = draw(st.lists(st.floats(0, 50), min_size=months, max_size=months))
        if sum(principal) <= 0:
            principal[-1] = 10.0
        collateral = {
            "kind": "loans",
            "opening_balance": float(sum(principal)),
            "scheduled_principal": principal,
            "scheduled_interest": draw(st.lists(st.floats(0, 5), min_size=months, max_size=months)),
            "redefault_rate": draw(st.floats(0, 0.5)),
            "prepayment_rate": draw(st.floats(0, 0.3)),
            "recovery": {"rate": draw(st.floats(0, 1)), "lag_months": draw(st.integers(0, 12)), "timing": [0.25, 0.25, 0.5]},
        }
    else:
        collateral = {"kind": "projected", "outstanding_claims": 1e4, "collections": draw(st.lists(st.floats(0, 100), min_size=months, max_size=months))}

    fees = []
    for index in range(draw(st.integers(0, 4))):
        basis = draw(st.sampled_from(["collections", "notes_balance", "fixed"]))
        fees.append(
            {"name": f"f{index}", "kind": draw(st.sampled_from(["tax", "fee"])), "basis": basis, "rate": draw(st.floats(0, 0.05)), "amount_per_year": draw(st.floats(0, 5))}
        )

    seniors = draw(st.integers(1, 3))
    tranches = [
        {"name": f"A{i}", "seniority": "senior", "balance": draw(st.floats(1, 300)), "coupon": draw(st.floats(0, 0.1)), "floating": draw(st.booleans()), "retained_share": 0.05}
        for i in range(seniors)
    ]
    tranches.append({"name": "Sub", "seniority": "subordinated", "balance": draw(st.floats(1, 200)), "coupon": draw(st.floats(0, 0.1)), "retained_share": 0.05})

    facility = {"limit": draw(st.floats(0.1, 20))} if draw(st.booleans()) else None
    triggers = []
    if draw(st.booleans()):
        triggers.append({"name": "rs", "kind": "recovery_shortfall", "threshold": draw(st.floats(0, 1)), "curable": draw(st.booleans()), "from_period": draw(st.integers(1, 4))})
    if loans and draw(st.booleans()):
        triggers.append({"name": "cd", "kind": "cumulative_default", "threshold": draw(st.floats(0, 0.3)), "curable": draw(st.booleans())})

    data = {
        "name": "random",
        "collateral": collateral,
        "dates": {
            "cutoff": date(2025, 1, 31),
            "closing": date(2025, 2, 10),
            "first_payment": draw(st.sampled_from([date(2025, 3, 26), date(2025, 5, 26)])),
            "frequency": draw(st.sampled_from(["monthly", "quarterly"])),
        },
        "fees": fees,
        "liquidity_reserve": {"initial": draw(st.floats(0, 10)), "target_periods": draw(st.integers(0, 4))},
        "excess_spread_account": {"trap_share": draw(st.floats(0, 0.5)), "cap": draw(st.floats(0, 50))},
        "cash_reserve": {"initial": draw(st.floats(0, 10))},
        "facility": facility,
        "tranches": tranches,
        "triggers": triggers,
        "waterfall": {
            "incentive_share": draw(st.floats(0, 1)),
            "incentive_after_trigger": draw(st.booleans()),
            "shortfall_sources": draw(st.permutations(["liquidity_reserve", "excess_spread_account", "cash_reserve", "facility"])),
            "post_trigger_steps": _STEPS_POST if facility else [s for s in _STEPS_POST if s != "facility_repayment"],
            "steps": None,
        },
        "cleanup_call": {"enabled": draw(st.booleans()), "threshold": draw(st.floats(0, 0.5)), "price_share": draw(st.floats(0, 1.2))},
    }
    if facility is None:
        data["waterfall"]["steps"] = ["taxes", "fees", "senior_interest", "reserve_topup", "excess_spread_trap", "senior_principal", "sub_principal", "sub_return", "excess"]
    else:
        del data["waterfall"]["steps"]

    count = draw(st.integers(1, 6))
    scenarios = Scenarios.from_values(
        count,
        recovery_haircut=draw(st.lists(st.floats(0, 1), min_size=count, max_size=count)),
        delay_months=draw(st.lists(st.integers(0, 8), min_size=count, max_size=count)),
        redefault_multiple=draw(st.lists(st.floats(0, 5), min_size=count, max_size=count)),
        prepayment_multiple=draw(st.lists(st.floats(0, 3), min_size=count, max_size=count)),
        rate_shift=draw(st.lists(st.floats(-0.02, 0.05), min_size=count, max_size=count)),
    )
    return deal_from_dict(data), scenarios


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(random_deals())
def test_cash_conserved_every_period(case: tuple[Deal, Scenarios]) -> None:
    deal, scenarios = case

    result = WaterfallEngine(deal).run(scenarios)
    residual = result.conservation_residual()

    assert np.abs(residual).max() <= 1e-6
    assert np.abs(result.flows["available_end"]).max() <= 1e-6
    for name, values in result.flows.items():
        if name != "reserve_change":
            assert values.min() >= -1e-9, name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(random_deals())
def test_rounded_tables_conserve(case: tuple[Deal, Scenarios]) -> None:
    deal, scenarios = case

    result = WaterfallEngine(deal).run(scenarios)

    for scenario in range(len(scenarios)):
        table = result.period_table(scenario, rounded=True)
        assert np.abs(table["residual"].to_numpy()).max() <= 1e-6
