"""Profile loading: shipped profiles and every kind of inconsistency."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanhua.errors import ProfileError
from sanhua.tape.profile import list_profiles, load_profile

MINIMAL = """
name = "mini"
currency = "CNY"
[tables.loans]
file = "loans"
[tables.loans.columns]
loan_id = "id"
principal_outstanding = "bal"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_profiles_listed_and_load():
    names = list_profiles()
    assert {"cn-bank", "lendingclub"} <= set(names)
    for name in names:
        profile = load_profile(name)
        assert profile.name == name
        assert len(profile.sha256) == 64
        assert "loans" in profile.tables


def test_lendingclub_outcomes_only_in_outcomes():
    profile = load_profile("lendingclub")
    assert profile.is_outcome("recoveries")
    assert profile.is_outcome("settlement_amount")
    assert profile.is_outcome("debt_settlement_flag_date")
    assert not profile.is_outcome("funded_amnt")
    for name, mapping in profile.tables.items():
        if name != "outcomes":
            assert not any(profile.is_outcome(h) for h in mapping.source_headers)
    assert profile.tables["outcomes"].columns["amount"] == "recoveries"
    assert profile.tables["borrowers"].codes["employment_years"]["10+ years"] == 10


def test_profile_by_path(tmp_path):
    profile = load_profile(_write(tmp_path, MINIMAL))
    assert profile.name == "mini"
    assert profile.tables["loans"].id_column == "loan_id"


def test_unknown_name_lists_shipped():
    with pytest.raises(ProfileError, match="shipped profiles: .*cn-bank.*lendingclub"):
        load_profile("no-such-bank")


def test_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t + "\n[tables.nonsense]\nfile='x'\n", "unknown table"),
        (lambda t: t.replace('loan_id = "id"', 'loan_id = "id"\nloan_number = "x"'), "not a canonical column"),
        (lambda t: t.replace('currency = "CNY"', 'currency = "yuan"'), "ISO 4217"),
        (lambda t: t.replace('principal_outstanding = "bal"', ""), "required column 'principal_outstanding'"),
        (lambda t: t + "\n[tables.loans.codes.five_tier]\n'x' = 'bad'\n", "not canonical codes"),
        (lambda t: t + "\n[tables.loans.units]\ninterest_rate = 'permille'\n", "unit"),
        (lambda t: t + "\n[tables.loans.extra]\ndti = 'complex'\n", "kind"),
        (lambda t: 'outcome_columns = ["bal"]\n' + t, "outcome column 'bal'"),
        (lambda t: 'outcome_columns = ["rec*"]\n' + t + "\n[tables.loans.derived]\nx = 'recoveries * 2'\n", "reads outcome column"),
        (lambda t: 'outcome_columns = ["rec"]\n' + t + "\n[tables.loans.extra]\nrec = 'float'\n", "outcome column"),
        (lambda t: t + "\n[features]\nability = ['region']\n", "protected column"),
        (lambda t: t + "\n[features]\nability = ['unknown_feature']\n", "not mapped"),
        (lambda t: t.replace('file = "loans"', 'file = "loans"\nid_fallback = "uuid"'), "id_fallback"),
        (lambda t: "name = 'x'\n[tables]\n", "currency"),
        (lambda t: "surprise = 1\n" + t, "unknown top-level"),
        (lambda t: t + "\n[tables.borrowers]\n[tables.borrowers.columns]\nname = 'n'\n", "required column 'borrower_id'"),
        (lambda t: "name = [\n", "not valid UTF-8 TOML"),
    ],
)
def test_profile_errors(tmp_path, change, message):
    with pytest.raises(ProfileError, match=message):
        load_profile(_write(tmp_path, change(MINIMAL)))


def test_no_loans_table(tmp_path):
    text = 'name = "x"\ncurrency = "CNY"\n[tables.outcomes.columns]\nloan_id = "id"\namount = "a"\n'
    with pytest.raises(ProfileError, match="no \\[tables.loans\\]"):
        load_profile(_write(tmp_path, text))
