"""The written demo files load through the cn-bank profile with nothing quarantined and the same values."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sanhua.demo import write_demo
from sanhua.tape.load import load_tape
from sanhua.tape.privacy import DEMO_KEY, Pseudonymiser
from sanhua.tape.profile import load_profile

from .conftest import SMALL

COMPARED = ("exposure_at_default", "interest_rate", "default_date", "as_of_date", "dpd", "five_tier", "written_off", "term_months")


@pytest.fixture(scope="module")
def loaded(small, tmp_path_factory):
    paths = write_demo(tmp_path_factory.mktemp("demo"), SMALL)
    profile = load_profile("cn-bank")
    pseudonymiser = Pseudonymiser(DEMO_KEY)
    return {
        "history": load_tape(paths.history, profile, pseudonymiser=pseudonymiser),
        "tape": load_tape(paths.tape, profile, pseudonymiser=pseudonymiser),
    }


@pytest.mark.parametrize("book", ["history", "tape"])
def test_nothing_quarantined(small, loaded, book):
    tape = loaded[book]
    assert tape.quarantine.height == 0
    for table, frame in getattr(small, book).items():
        assert tape.counts[table]["loaded"] == frame.height, table


@pytest.mark.parametrize("book", ["history", "tape"])
def test_loans_values_survive(small, loaded, book):
    read = loaded[book].tables["loans"].sort("loan_id")
    written = getattr(small, book)["loans"].sort("loan_id")
    for column in COMPARED:
        if read[column].dtype.is_numeric():
            assert np.allclose(read[column].to_numpy().astype(float), written[column].to_numpy().astype(float), equal_nan=True), column
        else:
            assert read[column].equals(written[column], null_equal=True), column


def test_personal_values_pass_checks(loaded):
    borrowers = loaded["history"].tables["borrowers"]
    for column in ("id_number_valid", "card_number_valid", "phone_valid"):
        assert borrowers[column].all(), column
    assert set(borrowers["id_type"].unique()) >= {"resident_id", "resident_id_15"}
    assert not any(c in borrowers.columns for c in ("name", "id_number", "phone"))


def test_outcomes_survive(small, loaded):
    read = loaded["history"].tables["outcomes"]
    assert read["amount"].sum() == pytest.approx(small.history["outcomes"]["amount"].sum(), rel=1e-9)
    assert read.group_by("kind").len().sort("kind").equals(small.history["outcomes"].group_by("kind").len().sort("kind"))
