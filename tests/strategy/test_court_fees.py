"""Golden tests of the court acceptance fee (诉讼费用交纳办法, 2007, art. 13, 15, 16)."""

from __future__ import annotations

import numpy as np
import pytest

from sanhua.strategy.court_fees import court_fee
from sanhua.value.checks import InputDataError

# Worked by hand from the bands of art. 13(1): 50 CNY up to 10,000, then the marginal
# rate of each band on the part of the claim inside it.
HAND_WORKED = [
    (0, 50.0),
    (8_000, 50.0),
    (10_000, 50.0),
    (10_001, 50.025),  # 50 + 1 * 2.5%
    (50_000, 1_050.0),  # 50 + 40,000 * 2.5%
    (100_000, 2_300.0),  # 50 + 90,000 * 2.5%
    (150_000, 3_300.0),  # 2,300 + 50,000 * 2%
    (200_000, 4_300.0),  # 2,300 + 100,000 * 2%
    (500_000, 8_800.0),  # 4,300 + 300,000 * 1.5%
    (1_000_000, 13_800.0),  # 8,800 + 500,000 * 1%
    (2_000_000, 22_800.0),  # 13,800 + 1,000,000 * 0.9%
    (5_000_000, 46_800.0),  # 22,800 + 3,000,000 * 0.8%
    (10_000_000, 81_800.0),  # 46,800 + 5,000,000 * 0.7%
    (20_000_000, 141_800.0),  # 81,800 + 10,000,000 * 0.6%
    (30_000_000, 191_800.0),  # 141,800 + 10,000,000 * 0.5%
]


@pytest.mark.parametrize(("claim", "fee"), HAND_WORKED)
def test_fee_matches_hand_worked_values(claim, fee):
    assert court_fee(claim)[0] == pytest.approx(fee, abs=1e-9)


def test_fee_vectorised_equals_scalar():
    claims = np.array([claim for claim, _ in HAND_WORKED], dtype=float)

    fees = court_fee(claims)

    assert fees == pytest.approx([fee for _, fee in HAND_WORKED], abs=1e-9)


def test_fee_matches_quick_formulas():
    # Per band, fee = rate * claim + constant, the constant worked by hand from the band's
    # lower edge: for 10,000-100,000, 50 - 2.5% * 10,000 = -200; for 100,000-200,000,
    # 2,300 - 2% * 100,000 = 300; and so on.
    quick = [
        (10_000, 100_000, 0.025, -200),
        (100_000, 200_000, 0.02, 300),
        (200_000, 500_000, 0.015, 1_300),
        (500_000, 1_000_000, 0.01, 3_800),
        (1_000_000, 2_000_000, 0.009, 4_800),
        (2_000_000, 5_000_000, 0.008, 6_800),
        (5_000_000, 10_000_000, 0.007, 11_800),
        (10_000_000, 20_000_000, 0.006, 21_800),
        (20_000_000, 80_000_000, 0.005, 41_800),
    ]
    rng = np.random.default_rng(20070401)
    for lower, upper, rate, constant in quick:
        claims = rng.uniform(lower, upper, 50)
        assert court_fee(claims) == pytest.approx(rate * claims + constant, abs=1e-6)


def test_fee_is_continuous_and_non_decreasing():
    claims = np.linspace(0, 25_000_000, 200_001)

    fees = court_fee(claims)

    assert np.all(np.diff(fees) >= 0)
    assert np.max(np.diff(fees)) < 0.025 * (claims[1] - claims[0]) + 1e-9


def test_summary_procedure_halves_fee():
    assert court_fee(150_000, summary_procedure=True)[0] == pytest.approx(1_650.0)


def test_mediation_halves_fee():
    assert court_fee(1_000_000, mediated_or_withdrawn=True)[0] == pytest.approx(6_900.0)


def test_reductions_do_not_stack_by_default():
    assert court_fee(100_000, summary_procedure=True, mediated_or_withdrawn=True)[0] == pytest.approx(1_150.0)
    assert court_fee(100_000, summary_procedure=True, mediated_or_withdrawn=True, stack_reductions=True)[0] == pytest.approx(575.0)


def test_reduction_flags_are_vectorised():
    fees = court_fee([100_000, 100_000, 100_000], summary_procedure=np.array([True, False, False]))

    assert fees == pytest.approx([1_150.0, 2_300.0, 2_300.0])


@pytest.mark.parametrize("claim", [-1.0, float("nan")])
def test_invalid_claim_raises(claim):
    with pytest.raises(InputDataError, match="negative, NaN or missing"):
        court_fee([100.0, claim])
