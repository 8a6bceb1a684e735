"""Tests of the capacity, policy and offer columns of the value table (sanhua.strategy.valuer)."""

from __future__ import annotations

import polars as pl
import pytest

from sanhua.strategy import ActionValuer, StrategySettings
from sanhua.strategy.court_fees import court_fee
from sanhua.strategy.settings import OutsourceSettings, PolicySettings, SettleSettings
from sanhua.strategy.valuer import USAGE_COLUMNS

from .conftest import synthetic_loans
from .test_valuer import _one_loan as _one


def _row(result, action: str) -> dict:
    return result.values.filter(pl.col("action") == action).to_dicts()[0]


def test_usage_columns_per_action(curve):
    result = ActionValuer().run(_one(), curve)

    assert _row(result, "mediate")["use_mediation"] == 1.0
    assert _row(result, "mediate")["use_officers"] == 2.0
    assert _row(result, "litigate")["use_litigation"] == pytest.approx(800 + court_fee(10_000, summary_procedure=True)[0])
    assert _row(result, "transfer")["use_transfer"] == 10_000.0
    assert _row(result, "outsource")["use_outsourcing"] == 10_000.0
    assert all(_row(result, "hold")[column] == 0.0 for column in USAGE_COLUMNS.values())


def test_usage_in_cny_for_foreign_loans(curve):
    result = ActionValuer().run(_one(currency="USD"), curve)

    assert _row(result, "transfer")["use_transfer"] == pytest.approx(71_000.0)


def test_infeasible_rows_use_nothing(curve):
    result = ActionValuer().run(synthetic_loans(500, seed=1), curve)
    infeasible = result.values.filter(~pl.col("feasible"))

    assert infeasible.height > 0
    for column in USAGE_COLUMNS.values():
        assert infeasible[column].sum() == 0.0


def test_value_interval_brackets_value(curve):
    result = ActionValuer().run(synthetic_loans(500, seed=1), curve)
    rows = result.values.filter(pl.col("feasible"))

    assert (rows["value_low"] <= rows["value"] + 1e-9).all()
    assert (rows["value"] <= rows["value_high"] + 1e-9).all()
    transfer = rows.filter(pl.col("action") == "transfer")
    assert transfer["value_low"].to_list() == pytest.approx(transfer["value"].to_list())


def test_months_to_cash_of_scheduled_actions(curve):
    result = ActionValuer().run(_one(), curve)

    assert _row(result, "settle")["months_to_cash"] == 2.0
    assert _row(result, "mediate")["months_to_cash"] == pytest.approx(3.0 + 11 / 2)
    assert _row(result, "litigate")["months_to_cash"] == pytest.approx(15.0 + 5 / 2)


def test_transfer_price_column_replaces_market_price(curve):
    result = ActionValuer().run(_one(transfer_price=1_234.0), curve)
    fallback = ActionValuer().run(_one(transfer_price=None), curve)

    assert _row(result, "transfer")["amount"] == 1_234.0
    assert _row(fallback, "transfer")["amount"] != 1_234.0


def test_vulnerable_by_age_flag_and_text(curve):
    frame = pl.concat(
        [
            _one(loan_id="old", age=75, vulnerable=False, vulnerability="none"),
            _one(loan_id="flag", age=40, vulnerable=True, vulnerability="none"),
            _one(loan_id="text", age=40, vulnerable=False, vulnerability="disability"),
            _one(loan_id="fine", age=40, vulnerable=False, vulnerability="none"),
        ]
    )

    result = ActionValuer().run(frame, curve)
    litigate = result.values.filter(pl.col("action") == "litigate").sort("loan_id")

    assert dict(zip(litigate["loan_id"], litigate["feasible"])) == {"fine": True, "flag": False, "old": False, "text": False}
    assert result.context.sort("loan_id")["vulnerable"].to_list() == [False, True, True, True]


def test_category_compatibility_is_configurable(curve):
    policy = PolicySettings(category_actions={"A": ("hold",), "B": ("settle", "hold"), "C": ("hold",)})

    result = ActionValuer(StrategySettings(policy=policy)).run(_one(), curve)
    feasible = result.values.filter(pl.col("feasible"))["action"].cast(pl.Utf8).to_list()

    assert sorted(feasible) == ["hold", "settle"]


def test_settle_offer_share_maximises_expected_payment(curve):
    result = ActionValuer().run(_one(willingness=0.9, ability=0.9), curve)
    row = _row(result, "settle")
    base = 0.9 * (0.5 + 0.5 * 0.9)

    assert result.terms["offer_share"].item() == 0.5
    assert row["p_success"] == pytest.approx(base)


def test_settle_acceptance_falls_with_share(curve):
    fixed_low = StrategySettings(settle=SettleSettings(optimise_share=False, settlement_share=0.4))
    fixed_high = StrategySettings(settle=SettleSettings(optimise_share=False, settlement_share=0.4, offer_shares=(0.6,)))

    low = ActionValuer(fixed_low).run(_one(willingness=0.5), curve).terms["offer_acceptance"].item()
    high = ActionValuer(StrategySettings(settle=SettleSettings(optimise_share=True, offer_shares=(0.6,)))).run(_one(willingness=0.5), curve).terms[
        "offer_acceptance"
    ].item()

    assert fixed_high.settle.optimise_share is False
    assert high < low


def test_commission_tiers_by_dpd(curve):
    settings = StrategySettings(outsource=OutsourceSettings(commission_by_dpd={"0": 0.15, "365": 0.3}))
    early = ActionValuer(settings).run(_one(dpd=200), curve)
    late = ActionValuer(settings).run(_one(dpd=800), curve)

    def rate(result):
        row = _row(result, "outsource")
        return row["cost"] / (row["p_success"] * row["amount"] * row["discount_factor"])

    assert rate(early) == pytest.approx(0.15)
    assert rate(late) == pytest.approx(0.30)


def test_commission_tier_keys_checked():
    with pytest.raises(ValueError, match="whole days"):
        OutsourceSettings(commission_by_dpd={"one year": 0.3})


def test_unaffordable_restructure_infeasible(curve):
    frame = _one(category="A", income_annual=600.0, interest_rate=0.24)

    result = ActionValuer().run(frame, curve)

    assert not _row(result, "restructure")["feasible"]
    assert not result.terms["affordable"].item()


def test_hold_may_not_use_officers():
    with pytest.raises(ValueError):
        StrategySettings.model_validate({"hold": {"officer_hours": 1.0}})
