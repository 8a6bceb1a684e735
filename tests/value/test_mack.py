"""Tests of Mack's chain ladder (sanhua.value.mack) against published RAA figures and the chainladder package."""

from __future__ import annotations

import numpy as np
import pytest

from sanhua.errors import InputDataError, ModelError
from sanhua.value.mack import exponential_tail, mack_chain_ladder

# RAA triangle (Mack 1994; shipped as `RAA` in R ChainLadder and as sample 'raa' in chainladder).
RAA_ROWS = [
    [5012, 8269, 10907, 11805, 13539, 16181, 18009, 18608, 18662, 18834],
    [106, 4285, 5396, 10666, 13782, 15599, 15496, 16169, 16704],
    [3410, 8992, 13873, 16141, 18735, 22214, 22863, 23466],
    [5655, 11555, 15766, 21266, 23425, 26083, 27067],
    [1092, 9565, 15836, 22169, 25955, 26180],
    [1513, 6445, 11702, 12935, 15852],
    [557, 4020, 10946, 12314],
    [1351, 6947, 13112],
    [3133, 5395],
    [2063],
]


def _raa() -> np.ndarray:
    triangle = np.full((10, 10), np.nan)
    for i, row in enumerate(RAA_ROWS):
        triangle[i, : len(row)] = row
    return triangle


def test_raa_matches_r_mackchainladder():
    # Source: R ChainLadder documentation, MackChainLadder(RAA) with est.sigma = "log-linear":
    # ultimate 213,122.23, IBNR 52,135.23, Mack S.E. 26,880.74. Tolerance 0.01 (the published rounding).
    result = mack_chain_ladder(_raa())

    assert result.total_ultimate == pytest.approx(213_122.23, abs=0.01)
    assert result.total_ibnr == pytest.approx(52_135.23, abs=0.01)
    assert result.total_mack_se == pytest.approx(26_880.74, abs=0.01)
    assert result.sigma_extrapolated.tolist() == [False] * 8 + [True]


def test_raa_per_origin_matches_chainladder_package():
    cl = pytest.importorskip("chainladder", reason="chainladder is not installed (pip install chainladder to run this parity check)")
    # chainladder 0.10.1: cl.MackChainladder().fit(cl.load_sample("raa")); tolerance 1e-6 relative.
    reference = cl.MackChainladder().fit(cl.load_sample("raa"))
    summary = reference.summary_.to_frame()
    expected_se = np.nan_to_num(summary["Mack Std Err"].to_numpy(dtype=float))
    expected_ibnr = np.nan_to_num(summary["IBNR"].to_numpy(dtype=float))

    result = mack_chain_ladder(_raa())

    assert result.mack_se == pytest.approx(expected_se, rel=1e-6, abs=1e-6)
    assert result.ibnr == pytest.approx(expected_ibnr, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("sample", ["genins", "abc", "ukmotor"])
def test_sample_triangles_match_chainladder_package(sample):
    cl = pytest.importorskip("chainladder", reason="chainladder is not installed (pip install chainladder to run this parity check)")
    triangle = cl.load_sample(sample)
    reference = cl.MackChainladder().fit(triangle)
    values = np.asarray(triangle.values[0, 0], dtype=float)
    values = np.where(values == 0, np.nan, values) if np.isnan(values).sum() == 0 else values

    result = mack_chain_ladder(values)

    assert result.total_ultimate == pytest.approx(float(reference.ultimate_.sum().sum()), rel=1e-9)
    assert result.total_mack_se == pytest.approx(float(reference.total_mack_std_err_.values.ravel()[0]), rel=1e-6)


def test_hand_triangle_projection():
    result = mack_chain_ladder(np.array([[100.0, 150.0], [120.0, np.nan]]))

    assert result.ldf.tolist() == pytest.approx([1.5])
    assert result.ultimate.tolist() == pytest.approx([150.0, 180.0])
    assert result.ibnr.tolist() == pytest.approx([0.0, 60.0])


def test_tail_scales_ultimate_and_error():
    plain = mack_chain_ladder(_raa())
    tailed = mack_chain_ladder(_raa(), tail=1.05)

    assert tailed.ultimate == pytest.approx(plain.ultimate * 1.05)
    assert tailed.total_mack_se == pytest.approx(plain.total_mack_se * 1.05)


def test_exponential_tail_of_decaying_links():
    ldf = 1.0 + 0.5 * np.exp(-0.5 * np.arange(8))
    expected = np.prod(1.0 + 0.5 * np.exp(-0.5 * np.arange(8, 108)))

    assert exponential_tail(ldf) == pytest.approx(expected, rel=1e-9)
    assert exponential_tail(np.ones(5)) == 1.0


def test_gap_in_triangle_raises():
    triangle = _raa()
    triangle[2, 1] = np.nan

    with pytest.raises(InputDataError, match="gap"):
        mack_chain_ladder(triangle)


def test_negative_amount_and_bad_tail_raise():
    triangle = _raa()
    triangle[0, 0] = -1.0
    with pytest.raises(InputDataError, match="negative"):
        mack_chain_ladder(triangle)
    with pytest.raises(InputDataError, match="tail"):
        mack_chain_ladder(_raa(), tail=0.9)


def test_undefined_link_raises():
    with pytest.raises(ModelError, match="undefined"):
        mack_chain_ladder(np.array([[0.0, 10.0], [0.0, np.nan]]))
