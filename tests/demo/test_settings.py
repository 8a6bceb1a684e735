"""Demo settings: documented defaults and rejected values."""

from __future__ import annotations

from datetime import date

import pydantic
import pytest

from sanhua.demo import DemoSettings, RecoveryCalibration, generate_portfolio
from sanhua.errors import ConfigError


def test_every_field_documented():
    for model in (DemoSettings, RecoveryCalibration):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def test_tape_cutoff_after_history_cutoff():
    with pytest.raises(pydantic.ValidationError, match="tape_cutoff"):
        DemoSettings(history_cutoff=date(2026, 6, 30), tape_cutoff=date(2026, 6, 30))


def test_unknown_product_rejected():
    with pytest.raises(pydantic.ValidationError, match="yacht"):
        DemoSettings(product_mix={"yacht": 1.0})


def test_region_bias_range_and_names():
    with pytest.raises(pydantic.ValidationError, match="region_bias"):
        DemoSettings(region_bias={"青海省": 1.5})
    with pytest.raises(ConfigError, match="Atlantis"):
        generate_portfolio(DemoSettings(n_history_loans=200, n_tape_loans=100, region_bias={"Atlantis": 0.5}))


def test_unknown_field_rejected():
    with pytest.raises(pydantic.ValidationError):
        DemoSettings(n_loans=5)


def test_income_shift_moves_tape_incomes():
    base = DemoSettings(n_history_loans=300, n_tape_loans=2_000)
    plain = generate_portfolio(base).tape["borrowers"]["income_annual"].median()
    shifted = generate_portfolio(base.model_copy(update={"income_shift": 0.5})).tape["borrowers"]["income_annual"].median()
    assert shifted > 1.4 * plain


def test_hardship_share_knob():
    base = DemoSettings(n_history_loans=2_000, n_tape_loans=100)
    none = generate_portfolio(base.model_copy(update={"hardship_share": 0.0})).latent
    many = generate_portfolio(base.model_copy(update={"hardship_share": 0.5})).latent
    assert not none["hardship"].any()
    assert 0.4 < many["hardship"].mean() < 0.6
