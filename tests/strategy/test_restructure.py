"""Tests of the restructured schedule (sanhua.strategy.restructure): amortisation, annual rate, affordability."""

from __future__ import annotations

import numpy as np
import pytest

from sanhua.strategy.restructure import _schedule_pv, restructure_terms
from sanhua.strategy.settings import RestructureSettings


def _terms(settings=None, income=np.nan, rate=0.12, short=False, principal=10_000.0, interest=1_000.0):
    return restructure_terms(
        np.array([principal]), np.array([interest]), np.array([rate]), np.array([income]), np.array([short]), settings or RestructureSettings(), 0.08
    )


def test_schedule_amortises_financed_balance():
    settings = RestructureSettings(principal_deferral=0.2, restructure_fee_rate=0.01, delay_months=2)
    terms = _terms(settings)

    # At the schedule's own monthly rate the payments are worth the financed balance grown to one month before the first payment.
    j = terms.annual_rate / 12
    pv = _schedule_pv(j, terms.delay_months, terms.trial_months, terms.trial_instalment, terms.term_months.astype(float), terms.instalment, terms.balloon)

    assert pv[0] == pytest.approx((terms.debt + terms.fee)[0], rel=1e-10)
    assert terms.balloon[0] == pytest.approx(2_000.0)


def test_apr_equals_rate_without_fee():
    terms = _terms()

    assert terms.annual_rate[0] == pytest.approx(0.06)
    assert terms.apr[0] == pytest.approx(0.06, abs=1e-9)


def test_fee_raises_apr():
    terms = _terms(RestructureSettings(restructure_fee_rate=0.02))

    assert terms.apr[0] > terms.annual_rate[0] + 1e-4


def test_interest_waiver_reduces_debt():
    terms = _terms(RestructureSettings(interest_waiver=0.5))

    assert terms.debt[0] == pytest.approx(10_500.0)


def test_unaffordable_term_extended_to_fit_income():
    terms = _terms(income=600.0, rate=0.24)

    assert terms.affordable[0]
    assert terms.term_months[0] > 36
    assert terms.instalment_to_income[0] <= 0.5 + 1e-12


def test_still_unaffordable_is_flagged():
    terms = _terms(income=100.0, rate=0.24)

    assert not terms.affordable[0]
    assert terms.term_months[0] + terms.trial_months == RestructureSettings().max_term_months


def test_unknown_income_passes_check():
    terms = _terms(income=np.nan)

    assert terms.affordable[0]
    assert not terms.income_known[0]


def test_short_plan_uses_short_term():
    assert _terms(short=True).term_months[0] == 12


def test_observation_period_rules():
    settings = RestructureSettings()

    terms = _terms(settings)

    assert terms.observation_months[0] >= settings.observation_min_months
    assert terms.observation_months[0] >= settings.observation_min_periods


def test_missing_contract_rate_uses_default():
    terms = _terms(rate=np.nan)

    assert terms.annual_rate[0] == 0.0
    assert terms.total_paid[0] == pytest.approx(terms.debt[0])


def test_discount_factor_falls_with_longer_term():
    short = _terms(short=True)
    long = _terms(short=False)

    assert long.discount_factor[0] < short.discount_factor[0]
