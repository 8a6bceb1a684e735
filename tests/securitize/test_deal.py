"""Tests of the deal definition: loading, validation messages and the risk-retention check."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanhua.errors import ConfigError, InputFileError
from sanhua.securitize import Deal, deal_from_dict, load_deal

from .conftest import EXAMPLE, deal_dict


def test_example_deal_loads() -> None:
    deal = load_deal(EXAMPLE)

    assert deal.issue_balance == pytest.approx(233_000_000.0)
    assert deal.subordinated.balance / deal.issue_balance == pytest.approx(0.19313, abs=1e-5)
    assert sum(deal.collateral.monthly_collections()) == pytest.approx(2_097_697_500.0 * 0.115, rel=1e-9)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deal.toml"
    path.write_text(text, encoding="utf-8")
    return path


_VALID = """
name = "t"
[collateral]
kind = "projected"
outstanding_claims = 1000.0
collections = [60.0, 40.0]
[dates]
cutoff = 2025-01-01
closing = 2025-01-15
first_payment = 2025-02-26
[[tranches]]
name = "A"
seniority = "senior"
balance = 70.0
coupon = 0.03
retained_share = 0.05
[[tranches]]
name = "Sub"
seniority = "subordinated"
balance = 20.0
retained_share = 0.05
"""


def test_valid_file_loads(tmp_path: Path) -> None:
    deal = load_deal(_write(tmp_path, _VALID))

    assert [t.name for t in deal.tranches] == ["A", "Sub"]


def test_negative_coupon_names_key_value_and_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, _VALID.replace("coupon = 0.03", "coupon = -0.03"))

    with pytest.raises(ConfigError) as error:
        load_deal(path)

    message = str(error.value)
    assert str(path) in message
    assert "tranches[0].coupon" in message
    assert "-0.03" in message
    assert "Fix:" in message


def test_unknown_key_says_remove_it(tmp_path: Path) -> None:
    path = _write(tmp_path, _VALID.replace('name = "t"', 'name = "t"\ncurency = "CNY"'))

    with pytest.raises(ConfigError, match="curency.*remove the key"):
        load_deal(path)


def test_missing_key_says_add_it(tmp_path: Path) -> None:
    path = _write(tmp_path, _VALID.replace("first_payment = 2025-02-26\n", ""))

    with pytest.raises(ConfigError, match="dates.first_payment: value missing.*add the key"):
        load_deal(path)


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "name = \n")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_deal(path)


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        load_deal(tmp_path / "absent.toml")


def test_missing_timing_file(tmp_path: Path) -> None:
    text = _VALID.replace("collections = [60.0, 40.0]", 'recovery_rate = 0.1\ntiming_file = "vector.csv"')

    with pytest.raises(InputFileError, match="collateral.timing_file.*vector.csv"):
        load_deal(_write(tmp_path, text))


def test_bad_number_in_timing_file_names_row(tmp_path: Path) -> None:
    (tmp_path / "vector.csv").write_text("month,share\n1,0.5\n2,half\n", encoding="utf-8")
    text = _VALID.replace("collections = [60.0, 40.0]", 'recovery_rate = 0.1\ntiming_file = "vector.csv"')

    with pytest.raises(ConfigError, match="row 3, column 'share': value 'half'"):
        load_deal(_write(tmp_path, text))


def test_timing_must_sum_to_one() -> None:
    data = deal_dict(collateral={"kind": "projected", "outstanding_claims": 100.0, "recovery_rate": 0.1, "timing": [0.5, 0.4]})

    with pytest.raises(ConfigError, match="sum to 1"):
        deal_from_dict(data)


def test_retention_below_five_percent_rejected() -> None:
    data = deal_dict()
    data["tranches"] = [dict(t, retained_share=0.0) for t in data["tranches"]]
    data["tranches"][-1]["retained_share"] = 0.10  # 15 of 550 = 2.7 % of the issue

    with pytest.raises(ConfigError, match="retains 2.73% of the issue; at least 5% is required"):
        deal_from_dict(data)


def test_retention_of_junior_class_checked() -> None:
    data = deal_dict()
    data["tranches"] = [dict(data["tranches"][0], retained_share=0.2), dict(data["tranches"][1], retained_share=0.01)]

    with pytest.raises(ConfigError, match="most junior class 'Sub'"):
        deal_from_dict(data)


def test_retention_vertical_slice_checked() -> None:
    data = deal_dict()
    data["tranches"] = [
        {"name": "A1", "seniority": "senior", "balance": 300.0, "coupon": 0.03, "retained_share": 0.02},
        {"name": "A2", "seniority": "senior", "balance": 100.0, "coupon": 0.035, "retained_share": 0.0},
        {"name": "Sub", "seniority": "subordinated", "balance": 150.0, "retained_share": 0.5},
    ]

    with pytest.raises(ConfigError, match=r"every class; \['A1', 'A2'\] fall short"):
        deal_from_dict(data)


def test_retention_of_subordinated_only_accepted() -> None:
    data = deal_dict()
    data["tranches"] = [dict(data["tranches"][0], retained_share=0.0), dict(data["tranches"][1], retained_share=1.0)]

    deal = deal_from_dict(data)

    assert deal.tranches[1].retained_share == 1.0


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (["taxes", "senior_interest", "senior_principal", "sub_principal"], "step 'excess' is missing"),
        (["senior_interest", "senior_principal", "excess", "sub_principal"], "last step must be 'excess'"),
        (["senior_interest", "sub_principal", "senior_principal", "excess"], "senior_principal must come before"),
        (["senior_interest", "senior_interest", "senior_principal", "sub_principal", "excess"], "appears twice"),
        (["pay_everyone", "senior_interest", "senior_principal", "sub_principal", "excess"], "unknown step"),
    ],
)
def test_bad_waterfall_rejected(steps: list[str], message: str) -> None:
    data = deal_dict(facility=None, waterfall={"steps": steps})

    with pytest.raises(ConfigError, match=message):
        deal_from_dict(data)


def test_facility_needs_repayment_step() -> None:
    data = deal_dict(waterfall={"steps": ["taxes", "fees", "senior_interest", "senior_principal", "sub_principal", "excess"]})

    with pytest.raises(ConfigError, match="facility_repayment"):
        deal_from_dict(data)


def test_subordinated_must_be_last() -> None:
    data = deal_dict()
    data["tranches"] = list(reversed(data["tranches"]))

    with pytest.raises(ConfigError, match="exactly one subordinated class last"):
        deal_from_dict(data)


def test_cumulative_default_trigger_needs_loans() -> None:
    data = deal_dict(triggers=[{"name": "cd", "kind": "cumulative_default", "threshold": 0.1}])

    with pytest.raises(ConfigError, match="needs a loans collateral"):
        deal_from_dict(data)


def test_dates_out_of_order_rejected() -> None:
    data = deal_dict()
    data["dates"] = dict(data["dates"], closing=data["dates"]["first_payment"])

    with pytest.raises(ConfigError, match="cutoff <= closing < first_payment"):
        deal_from_dict(data)


def test_with_senior_share_keeps_issue() -> None:
    deal = Deal.model_validate(deal_dict())

    resized = deal.with_senior_share(0.6)

    assert resized.issue_balance == pytest.approx(deal.issue_balance)
    assert resized.seniors[0].balance == pytest.approx(0.6 * deal.issue_balance)
