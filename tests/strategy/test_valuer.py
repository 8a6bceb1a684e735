"""Tests of the action values and the chosen action (sanhua.strategy.valuer)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from sanhua.segment import Segmenter
from sanhua.strategy import ACTIONS, ActionValuer, LitigateSettings, StrategySettings
from sanhua.strategy.court_fees import court_fee
from sanhua.value import RecoveryCurve
from sanhua.value.checks import InputDataError

V = 1 / (1 + 0.08 / 12)  # monthly discount factor at the default 8% annual rate


def _portfolio(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    principal = rng.lognormal(9.5, 0.8, n)
    interest = principal * rng.uniform(0, 0.4, n)
    frame = pl.DataFrame(
        {
            "loan_id": [f"L{i:06d}" for i in range(n)],
            "currency": ["CNY"] * n,
            "product": rng.choice(["credit_card", "consumer_loan", "business_loan", "mortgage", "auto_loan"], n),
            "principal_outstanding": principal,
            "interest_outstanding": pl.Series(np.where(rng.random(n) < 0.1, np.nan, interest)).fill_nan(None),
            "exposure_at_default": principal + interest,
            "dpd": pl.Series(rng.integers(91, 1500, n), dtype=pl.Int32),
            "written_off": rng.random(n) < 0.3,
            "collateral": pl.Series(rng.choice(["none", "none", "guarantee", "mortgage", ""], n)).replace("", None),
            "litigation_status": rng.choice(["not_sued", "in_suit", "judged", "in_execution", "execution_ended_no_assets", "mediated"], n),
            "notarised": rng.random(n) < 0.1,
            "willingness": rng.random(n),
            "ability": rng.random(n),
            "expected_recovery_rate": rng.beta(1, 8, n),
            "hardship": rng.random(n) < 0.05,
            "lost_contact": rng.random(n) < 0.1,
        }
    )
    return Segmenter().run(frame)


def _one_loan(**overrides: object) -> pl.DataFrame:
    row = {
        "loan_id": "X1",
        "currency": "CNY",
        "product": "credit_card",
        "principal_outstanding": 8_000.0,
        "interest_outstanding": 2_000.0,
        "exposure_at_default": 10_000.0,
        "dpd": 180,
        "written_off": False,
        "collateral": "none",
        "litigation_status": "not_sued",
        "notarised": False,
        "willingness": 0.8,
        "ability": 0.5,
        "expected_recovery_rate": 0.1,
        "category": "B",
        "hardship": False,
        "lost_contact": False,
    }
    row.update(overrides)
    return pl.DataFrame([row])


@pytest.fixture(scope="module")
def curve() -> RecoveryCurve:
    return RecoveryCurve.configured()


@pytest.fixture(scope="module")
def result(curve):
    return ActionValuer().run(_portfolio(3_000, seed=42), curve)


def _value_of(result, loan_id: str, action: str) -> dict:
    return result.values.filter((pl.col("loan_id") == loan_id) & (pl.col("action") == action)).to_dicts()[0]


# -------------------------------------------------------------- goldens


def test_settle_value_golden(curve):
    result = ActionValuer().run(_one_loan(), curve)
    row = _value_of(result, "X1", "settle")

    # p = 0.8 * (0.5 + 0.5 * 0.5) = 0.6; amount = 50% * (8,000 + 2,000) = 5,000;
    # lump sum 2 months ahead: df = v**2; cost = 200 CNY fixed.
    assert row["p_success"] == pytest.approx(0.6)
    assert row["amount"] == pytest.approx(5_000.0)
    assert row["discount_factor"] == pytest.approx(V**2)
    assert row["cost"] == pytest.approx(200.0)
    assert row["value"] == pytest.approx(0.6 * 5_000 * V**2 - 200)


def test_litigate_value_golden(curve):
    # An expected recovery of 60 % of EAD puts the ceiling (1.5 x 6,000) above p x amount (5,200).
    result = ActionValuer().run(_one_loan(collateral="guarantee", expected_recovery_rate=0.6), curve)
    row = _value_of(result, "X1", "litigate")

    # ability_eff = 0.5 + 0.3 * 0.5 = 0.65, status factor 1 -> p = 0.65; amount = 0.8 * 10,000.
    # New suit: first cash after 15 months, 6 monthly parts: df = v**15 * mean(v**0 .. v**5).
    # Court fee on 10,000 CNY = 50, halved under the summary procedure = 25.
    df = V**15 * sum(V**j for j in range(6)) / 6
    expected_cash = 0.65 * 8_000 * df
    assert row["p_success"] == pytest.approx(0.65)
    assert row["amount"] == pytest.approx(8_000.0)
    assert row["discount_factor"] == pytest.approx(df)
    assert row["cost"] == pytest.approx(800 + 25 + 0.08 * expected_cash)
    assert row["value"] == pytest.approx(expected_cash - (800 + 25 + 0.08 * expected_cash))


def test_litigate_recovery_within_ceiling(curve):
    # Expected recovery 10 % of EAD = 1,000: a suit's expected gross cash is at most 1.5 x 1,000 = 1,500,
    # below p x amount = 0.65 x 8,000, so the amount is lowered to 1,500 / 0.65.
    result = ActionValuer().run(_one_loan(collateral="guarantee"), curve)
    row = _value_of(result, "X1", "litigate")

    assert row["p_success"] == pytest.approx(0.65)
    assert row["p_success"] * row["amount"] == pytest.approx(1_500.0)


def test_mediate_recovery_within_ceiling(curve):
    result = ActionValuer().run(_one_loan(), curve)
    row = _value_of(result, "X1", "mediate")

    assert row["p_success"] * row["amount"] <= 1.3 * 1_000.0 + 1e-9


def test_transfer_price_golden(curve):
    result = ActionValuer().run(_one_loan(product="consumer_loan", dpd=200), curve)
    row = _value_of(result, "X1", "transfer")

    # Under one year past due: consumer 6.5% * (13.1% / 6.9%) of principal 8,000.
    price = 0.065 * 0.131 / 0.069 * 8_000
    assert row["amount"] == pytest.approx(price)
    assert row["discount_factor"] == pytest.approx(V**4)
    assert row["value"] == pytest.approx(price * V**4 * (1 - 0.01) - 20)


def test_hold_and_expected_recovery_pv_golden(curve):
    result = ActionValuer().run(_one_loan(dpd=90 + 365), curve)
    row = _value_of(result, "X1", "hold")
    months = 365 / (365.25 / 12)
    pv = curve.pv_factor(0.08, np.array([months]))[0]

    assert row["amount"] == pytest.approx(1_000.0)
    assert row["discount_factor"] == pytest.approx(pv)
    assert row["value"] == pytest.approx(1_000 * pv * (1 - 0.08) - 100)
    assert result.chosen["expected_recovery_pv"][0] == pytest.approx(1_000 * pv)


# --------------------------------------------------------- monotonicity


def test_settle_value_non_decreasing_in_willingness(curve):
    grid = np.linspace(0, 1, 21)
    frame = pl.concat([_one_loan(loan_id=f"W{i}", willingness=float(w)) for i, w in enumerate(grid)])
    result = ActionValuer().run(frame, curve)

    values = result.values.filter(pl.col("action") == "settle")["value"].to_numpy()
    assert np.all(np.diff(values) >= 0)
    assert values[-1] > values[0]


def test_litigate_value_non_decreasing_in_ability(curve):
    grid = np.linspace(0, 1, 21)
    frame = pl.concat([_one_loan(loan_id=f"A{i}", ability=float(a), category="C") for i, a in enumerate(grid)])
    result = ActionValuer().run(frame, curve)

    values = result.values.filter(pl.col("action") == "litigate")["value"].to_numpy()
    # Flat (up to rounding) once the expected recovery ceiling binds.
    assert np.all(np.diff(values) >= -1e-9)
    assert values[-1] > values[0]


def test_written_off_raises_outsource_commission(curve):
    frame = pl.concat([_one_loan(loan_id="on", written_off=False), _one_loan(loan_id="off", written_off=True)])
    result = ActionValuer().run(frame, curve)

    on_book = _value_of(result, "on", "outsource")
    written_off = _value_of(result, "off", "outsource")
    gross = on_book["p_success"] * on_book["amount"] * on_book["discount_factor"]
    assert on_book["cost"] == pytest.approx(0.25 * gross)
    assert written_off["cost"] == pytest.approx(0.50 * gross)


def test_notarised_skips_court_fee_and_trial(curve):
    frame = pl.concat([_one_loan(loan_id="plain"), _one_loan(loan_id="notary", notarised=True)])
    result = ActionValuer().run(frame, curve)

    plain = _value_of(result, "plain", "litigate")
    notary = _value_of(result, "notary", "litigate")
    assert notary["discount_factor"] > plain["discount_factor"]
    assert notary["cost"] - 0.08 * notary["p_success"] * notary["amount"] * notary["discount_factor"] == pytest.approx(800.0)
    assert notary["value"] > plain["value"]


def test_short_plan_shortens_restructuring(curve):
    frame = pl.concat([_one_loan(loan_id="long", category="A"), _one_loan(loan_id="short", category="A")])
    frame = frame.with_columns(short_plan=pl.Series([False, True]))
    result = ActionValuer().run(frame, curve)

    long_df = _value_of(result, "long", "restructure")["discount_factor"]
    short_df = _value_of(result, "short", "restructure")["discount_factor"]
    terms = result.terms.sort("loan_id")
    assert terms["term_months"].to_list() == [36, 12]
    assert long_df == pytest.approx(_zero_rate_schedule_df(36))
    assert short_df == pytest.approx(_zero_rate_schedule_df(12))


def _zero_rate_schedule_df(term: int, trial: int = 3, trial_share: float = 0.5) -> float:
    """PV per unit paid of a zero-rate schedule: ``trial`` instalments of ``trial_share / term``, then ``term`` level ones, from month 1."""
    trial_payment = trial_share / term
    level = (1 - trial * trial_payment) / term
    payments = [trial_payment] * trial + [level] * term
    return sum(amount * V ** (month + 1) for month, amount in enumerate(payments)) / sum(payments)


def test_costs_scale_with_fx(curve):
    settings = StrategySettings(fx_cny_per_unit={"CNY": 1.0, "USD": 7.0})
    cny = _one_loan(loan_id="cny", principal_outstanding=70_000.0, interest_outstanding=14_000.0, exposure_at_default=84_000.0)
    usd = _one_loan(loan_id="usd", currency="USD", principal_outstanding=10_000.0, interest_outstanding=2_000.0, exposure_at_default=12_000.0)
    result = ActionValuer(settings).run(pl.concat([cny, usd]), curve)

    compared = 0
    for action in ACTIONS:
        in_cny = _value_of(result, "cny", action)
        in_usd = _value_of(result, "usd", action)
        assert in_usd["feasible"] == in_cny["feasible"], action
        if not in_cny["feasible"]:
            continue
        compared += 1
        assert in_usd["cost"] * 7.0 == pytest.approx(in_cny["cost"]), action
        assert in_usd["value"] * 7.0 == pytest.approx(in_cny["value"]), action
    assert compared == 6


def test_court_fee_applies_to_claim_in_cny(curve):
    frame = _one_loan(principal_outstanding=80_000.0, interest_outstanding=20_000.0, exposure_at_default=100_000.0)
    result = ActionValuer().run(frame, curve)
    row = _value_of(result, "X1", "litigate")

    lawyer = 0.08 * row["p_success"] * row["amount"] * row["discount_factor"]
    assert row["cost"] - lawyer - 800 == pytest.approx(court_fee(100_000, summary_procedure=True)[0])


def test_fees_of_filed_cases_are_sunk(curve):
    result = ActionValuer().run(_one_loan(litigation_status="judged"), curve)
    row = _value_of(result, "X1", "litigate")

    lawyer = 0.08 * row["p_success"] * row["amount"] * row["discount_factor"]
    assert row["cost"] - lawyer == pytest.approx(800.0)


# ----------------------------------------------------------- feasibility


def test_chosen_action_is_feasible(result):
    joined = result.chosen.join(result.values, on=["loan_id", "action"])

    assert joined.height == result.chosen.height
    assert joined["feasible"].all()


def test_chosen_value_is_max_of_feasible(result):
    best = result.values.filter(pl.col("feasible")).group_by("loan_id").agg(pl.col("value").max().alias("best"))
    joined = result.chosen.join(best, on="loan_id")

    assert joined["action_value"].to_numpy() == pytest.approx(joined["best"].to_numpy())


def test_infeasible_values_are_null(result):
    infeasible = result.values.filter(~pl.col("feasible"))

    assert infeasible.height > 0
    for column in ("p_success", "amount", "discount_factor", "cost", "value"):
        assert infeasible[column].null_count() == infeasible.height, column
    feasible = result.values.filter(pl.col("feasible"))
    assert feasible["value"].null_count() == 0


def test_feasibility_rules_hold(result):
    loans = _portfolio(3_000, seed=42)
    table = result.values.join(loans, on="loan_id")

    def feasible_where(action: str, condition: pl.Expr) -> pl.Series:
        return table.filter((pl.col("action") == action) & condition)["feasible"]

    assert not feasible_where("restructure", pl.col("category") != "A").any()
    assert not feasible_where("settle", pl.col("category") == "C").any()
    assert not feasible_where("mediate", pl.col("category") != "B").any()
    assert not feasible_where("outsource", pl.col("category") == "A").any()
    for action in ("restructure", "settle", "mediate"):
        assert not feasible_where(action, pl.col("lost_contact")).any(), action
    assert not feasible_where("litigate", pl.col("hardship")).any()
    assert not feasible_where("litigate", pl.col("litigation_status") == "execution_ended_no_assets").any()
    assert not feasible_where("transfer", pl.col("product").is_in(["mortgage", "auto_loan"])).any()
    assert not feasible_where("transfer", pl.col("collateral").is_in(["guarantee", "mortgage"])).any()
    assert feasible_where("hold", pl.lit(True)).all()
    assert feasible_where("transfer", (pl.col("product") == "credit_card") & pl.col("collateral").is_null()).all()
    assert not feasible_where("transfer", (pl.col("product") == "consumer_loan") & pl.col("collateral").is_null()).any()


def test_disabled_action_never_chosen(curve):
    frame = _portfolio(500, seed=1)
    settings = StrategySettings(litigate=LitigateSettings(enabled=False))
    result = ActionValuer(settings).run(frame, curve)

    assert not result.values.filter(pl.col("action") == "litigate")["feasible"].any()
    assert "litigate" not in result.chosen["action"].cast(pl.Utf8).to_list()


def test_hold_stays_feasible_when_disabled(curve):
    settings = StrategySettings.model_validate({"hold": {"enabled": False}})
    result = ActionValuer(settings).run(_one_loan(), curve)

    assert _value_of(result, "X1", "hold")["feasible"]


# ----------------------------------------------- conservation, invariance


def test_totals_are_conserved(result):
    summary = result.summary()

    assert result.values.height == result.chosen.height * len(ACTIONS)
    assert summary["loans"].sum() == result.chosen.height
    assert summary["action_value"].sum() == pytest.approx(result.chosen["action_value"].sum(), rel=1e-12)
    assert summary["expected_recovery_pv"].sum() == pytest.approx(result.chosen["expected_recovery_pv"].sum(), rel=1e-12)
    shares = summary.group_by("currency", "category").agg(pl.col("share_of_loans").sum())
    assert shares["share_of_loans"].to_numpy() == pytest.approx(np.ones(shares.height))


def test_chosen_keeps_input_order(result):
    assert result.chosen["loan_id"].to_list() == _portfolio(3_000, seed=42)["loan_id"].to_list()
    assert result.chosen.columns == ["loan_id", "action", "action_value", "expected_recovery_pv"]


def test_row_order_invariance(curve):
    frame = _portfolio(1_000, seed=5)
    first = ActionValuer().run(frame, curve)
    second = ActionValuer().run(frame.sample(fraction=1.0, shuffle=True, seed=9), curve)

    assert first.chosen.sort("loan_id").equals(second.chosen.sort("loan_id"))
    assert first.values.sort("loan_id", "action").equals(second.values.sort("loan_id", "action"))


# ---------------------------------------------------- months since default


def test_months_since_default_sources(curve):
    frame = pl.concat(
        [
            _one_loan(loan_id="from_dpd", dpd=90 + 300),
            _one_loan(loan_id="from_dates", dpd=None),
            _one_loan(loan_id="from_default", dpd=None),
        ]
    ).with_columns(
        default_date=pl.Series([date(2020, 1, 10), date(2020, 1, 10), None]),
        as_of_date=pl.Series([date(2021, 1, 10), date(2020, 7, 10), None]),
    )
    result = ActionValuer(StrategySettings(default_months_since_default=9.0)).run(frame, curve)

    months = result.context["months_since_default"].to_list()
    assert months == pytest.approx([300 / (365.25 / 12), 6.0, 9.0])


def test_optional_columns_may_be_absent(curve):
    frame = _one_loan().drop("notarised", "litigation_status", "collateral", "dpd", "interest_outstanding", "product")
    result = ActionValuer().run(frame, curve)

    assert result.chosen.height == 1
    assert not _value_of(result, "X1", "transfer")["feasible"]


# ------------------------------------------------------------ validation


def test_missing_required_column_raises(curve):
    with pytest.raises(InputDataError, match="missing column.*expected_recovery_rate"):
        ActionValuer().run(_one_loan().drop("expected_recovery_rate"), curve)


def test_score_out_of_range_raises(curve):
    frame = pl.concat([_one_loan(loan_id="ok"), _one_loan(loan_id="bad", willingness=1.2)])

    with pytest.raises(InputDataError, match=r"'willingness' lies outside \[0, 1\] in 1 of 2 row\(s\), for example loan_id 'bad'"):
        ActionValuer().run(frame, curve)


def test_unknown_currency_raises(curve):
    with pytest.raises(InputDataError, match="fx_cny_per_unit"):
        ActionValuer().run(_one_loan(currency="EUR"), curve)


def test_unknown_category_raises(curve):
    with pytest.raises(InputDataError, match="'category' contains values \\['D'\\]"):
        ActionValuer().run(_one_loan(category="D"), curve)


def test_unknown_litigation_code_raises(curve):
    with pytest.raises(InputDataError, match="litigation_status"):
        ActionValuer().run(_one_loan(litigation_status="won"), curve)


def test_negative_principal_raises(curve):
    with pytest.raises(InputDataError, match="'principal_outstanding' is negative"):
        ActionValuer().run(_one_loan(principal_outstanding=-1.0), curve)


def test_unfitted_curve_raises():
    from sanhua.errors import NotFittedError

    with pytest.raises(NotFittedError):
        ActionValuer().run(_one_loan(), RecoveryCurve())


def test_settings_reject_incomplete_status_map():
    with pytest.raises(ValidationError, match="status_factor lacks"):
        LitigateSettings(status_factor={"not_sued": 1.0})


# ------------------------------------------------------------ assumptions


def test_assumptions_have_unit_and_provenance():
    rows = StrategySettings().assumptions()
    by_name = {row["name"]: row for row in rows}

    assert all(row["unit"] for row in rows)
    assert {row["tag"] for row in rows} <= {"SOURCED", "ASSUMPTION", "POLICY"}
    assert all(row["source"] for row in rows if row["tag"] == "SOURCED")
    assert by_name["strategy.transfer.band_under_1y"]["tag"] == "SOURCED"
    assert by_name["strategy.transfer.band_1y_to_2y"]["tag"] == "ASSUMPTION"
    assert by_name["strategy.outsource.written_off_cost_rate"]["value"] == 0.5
    assert by_name["strategy.discount_rate"]["tag"] == "ASSUMPTION"


def test_assumption_descriptions_carry_tag():
    for name, field in StrategySettings.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("tag") == "ASSUMPTION":
            assert "ASSUMPTION" in (field.description or ""), name


def test_empty_frame_gives_empty_result(curve):
    result = ActionValuer().run(_one_loan().clear(), curve)

    assert result.values.height == 0
    assert result.chosen.height == 0
    assert result.summary().height == 0
