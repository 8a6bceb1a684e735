"""Borrowers and their contacts: personal values, income and employment of a demo book.

Income is the application income: it follows the long-run ability, the
province's income level and, for the tape, the settings' ``income_shift``.
Employment is the status at the as-of date: a hardship of job loss or
business failure that still lasts shows as unemployed. Identity documents are
mostly 18-character resident IDs; about 2 % are 15-digit legacy IDs, 1.5 %
residence permits for Hong Kong, Macao and Taiwan residents and 0.5 %
foreigners' permanent-residence IDs (ASSUMPTION).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sanhua.demo import identity
from sanhua.demo.book import BookState
from sanhua.demo.geography import PROVINCES
from sanhua.demo.settings import DemoSettings

__all__ = ["build_borrowers", "build_contacts", "debtor_as_of", "RELATIONS"]

RELATIONS: tuple[str, ...] = ("spouse", "parent", "child", "relative", "friend", "colleague", "other")
_RELATION_SHARES = np.array([0.25, 0.25, 0.08, 0.12, 0.15, 0.1, 0.05])
_HMT_AREAS = np.array([810000, 820000, 830000], dtype=np.int64)


def debtor_as_of(state: BookState) -> np.ndarray:
    """Return each debtor's as-of date (all loans of a debtor share it)."""
    _, first = np.unique(state.loans.owner, return_index=True)
    return state.as_of[first]


def debtor_gap(state: BookState) -> np.ndarray:
    """Return each debtor's whole months from default to the as-of date."""
    _, first = np.unique(state.loans.owner, return_index=True)
    return state.gap[first]


def _month_day(days: np.ndarray) -> np.ndarray:
    """Return month * 31 + day of month, an order key of the date within its year."""
    month_start = days.astype("datetime64[M]")
    return (month_start.astype(np.int64) % 12) * 31 + (days - month_start.astype("datetime64[D]")).astype(np.int64)


def _exact_age(birth: np.ndarray, as_of: np.ndarray) -> np.ndarray:
    """Return whole years between birth and as-of dates."""
    years = as_of.astype("datetime64[Y]").astype(np.int64) - birth.astype("datetime64[Y]").astype(np.int64)
    return years - (_month_day(as_of) < _month_day(birth)).astype(np.int64)


def build_borrowers(rng: np.random.Generator, state: BookState, settings: DemoSettings) -> pl.DataFrame:
    """Build the canonical borrowers table of a book, with ``_debtor`` (debtor index) and ``_employment_active``."""
    debtors = state.debtors
    n = debtors.size
    as_of = debtor_as_of(state)
    gap = debtor_gap(state)

    birth = as_of - (debtors.age * 365.25 + rng.integers(1, 365, n)).astype(np.int64).astype("timedelta64[D]")
    age = _exact_age(birth, as_of)

    id_kind = rng.choice(4, size=n, p=[0.96, 0.02, 0.015, 0.005])
    district = np.array([p.district_code for p in PROVINCES])[debtors.province]
    area = np.where(id_kind == 2, _HMT_AREAS[rng.integers(0, 3, n)], district)
    id_18 = identity.resident_ids(rng, area, birth, debtors.male)
    id_15 = identity.legacy_ids(rng, district, birth, debtors.male)
    id_foreign = identity.foreign_permanent_ids(rng, district // 10000, birth, debtors.male)
    kind_series = pl.Series(id_kind)
    id_number = pl.select(
        pl.when(kind_series == 1).then(id_15).when(kind_series == 3).then(id_foreign).otherwise(id_18)
    ).to_series()
    id_type = pl.Series(["resident_id", "resident_id_15", "residence_permit_hmt", "foreign_permanent"]).gather(id_kind)

    names, pinyin = identity.chinese_names(rng, debtors.male)
    latin = identity.latin_names(rng, n)
    name = pl.select(pl.when(kind_series == 3).then(latin).otherwise(names)).to_series()
    handle = pl.select(
        pl.when(kind_series == 3).then(latin.str.to_lowercase().str.replace(" ", ".")).otherwise(pinyin)
    ).to_series()
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    # Residence: 5 % moved to another province after taking the loan.
    moved = rng.random(n) < 0.05
    residence = np.where(moved, rng.integers(0, len(PROVINCES), n), debtors.province)

    ability_now = np.where(debtors.hardship & (gap <= debtors.hardship_end), debtors.ability * 0.25, debtors.ability)
    business = np.zeros(n, dtype=bool)
    business[state.loans.owner[state.loans.product == 2]] = True
    income_level = np.array([p.income_level for p in PROVINCES])[debtors.province]
    shift = settings.income_shift if state.book == "tape" else 0.0
    income = (
        60_000.0 * income_level * np.exp(1.1 * (debtors.ability - 0.38) + rng.normal(0.0, 0.35, n) + shift)
        * np.where(business, 1.4, 1.0)
    )
    income = np.round(income, -2)

    job_shock = debtors.hardship & np.isin(debtors.hardship_kind, (2, 4)) & (gap <= debtors.hardship_end)
    draw = rng.random(n)
    employment = np.select(
        [
            (age >= 60) & (draw < 0.85),
            (age < 23) & (draw < 0.3),
            job_shock | (rng.random(n) < 0.5 * (1.0 - ability_now) ** 2),
            business | (draw > 0.85),
            draw < 0.03,
        ],
        ["retired", "student", "unemployed", "self_employed", "other"],
        default="employed",
    )
    working = np.isin(employment, ("employed", "self_employed"))
    years = np.where(working, np.round(rng.random(n) * np.maximum(age - 20, 1) * 0.6, 1), 0.0)
    employment_series = pl.Series(employment)

    region_names = pl.Series([p.name for p in PROVINCES])
    return pl.DataFrame(
        {
            "_debtor": np.arange(n),
            "borrower_id": state.borrower_ids,
            "name": name,
            "id_type": id_type,
            "id_number": id_number,
            "phone": identity.mobile_numbers(rng, n),
            "email": identity.emails(rng, handle, birth_year),
            "address": identity.addresses(rng, residence),
            "card_number": identity.card_numbers(rng, n),
            "gender": np.where(debtors.male, "male", "female"),
            "birth_date": birth,
            "age": age.astype(np.int32),
            "income_annual": income,
            "employment": employment_series,
            "employment_years": years,
            "employer": identity.employers(rng, residence, employment_series),
            "region": region_names.gather(residence),
        }
    ).with_columns(pl.col("birth_date").cast(pl.Date))


def build_contacts(rng: np.random.Generator, state: BookState) -> pl.DataFrame:
    """Build the contact graph: 1-5 contacts per debtor, reachable more often for willing debtors.

    Returns the canonical contacts table plus ``_debtor``.
    """
    debtors = state.debtors
    count = np.minimum(1 + rng.poisson(1.2, debtors.size), 5)
    debtor = np.repeat(np.arange(debtors.size), count)
    m = debtor.size
    relation = rng.choice(len(RELATIONS), size=m, p=_RELATION_SHARES)
    male = np.where(relation == 0, ~debtors.male[debtor], rng.random(m) < 0.5)
    names, _ = identity.chinese_names(rng, male)
    willingness = debtors.willingness[debtor]
    reachable_p = (0.25 + 0.55 * willingness) * np.where(debtors.lost_contact[debtor], 0.6, 1.0)
    return pl.DataFrame(
        {
            "_debtor": debtor,
            "borrower_id": state.borrower_ids[debtor],
            "contact_name": names,
            "contact_phone": identity.mobile_numbers(rng, m),
            "relation": np.array(RELATIONS)[relation],
            "reachable": rng.random(m) < reachable_p,
        }
    )
