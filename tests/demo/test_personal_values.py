"""Synthetic personal values: filled, well-formed and consistent with gender and age."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from sanhua.tape.schema import TABLES

from .checks import luhn_valid, mod11_2_valid

BOOKS = ("history", "tape")


def _book(demo, book):
    return getattr(demo, book)


@pytest.mark.parametrize("book", BOOKS)
def test_every_personal_column_filled(demo, book):
    for name, frame in _book(demo, book).items():
        for column in TABLES[name].personal:
            values = frame[column]
            assert values.null_count() == 0, f"{book}.{name}.{column} has nulls"
            assert (values.str.strip_chars() != "").all(), f"{book}.{name}.{column} has empty values"


@pytest.mark.parametrize("book", BOOKS)
def test_all_text_encodes_in_gbk(demo, book):
    for name, frame in _book(demo, book).items():
        for column in frame.select(pl.col(pl.Utf8)).columns:
            text = "\n".join(frame[column].drop_nulls().unique().to_list())
            text.encode("gbk")


@pytest.mark.parametrize("book", BOOKS)
def test_id_check_characters_valid(demo, book):
    borrowers = _book(demo, book)["borrowers"]
    checked = borrowers.filter(pl.col("id_type").is_in(["resident_id", "residence_permit_hmt", "foreign_permanent"]))
    invalid = [n for n in checked["id_number"].to_list() if not mod11_2_valid(n)]
    assert not invalid, f"{len(invalid)} IDs fail MOD 11-2"
    assert checked.height > 0.95 * borrowers.height


@pytest.mark.parametrize("book", BOOKS)
def test_id_types_and_layouts(demo, book):
    borrowers = _book(demo, book)["borrowers"]
    counts = dict(borrowers["id_type"].value_counts().iter_rows())
    for kind in ("resident_id", "resident_id_15", "residence_permit_hmt", "foreign_permanent"):
        assert counts.get(kind, 0) > 0, kind
    legacy = borrowers.filter(pl.col("id_type") == "resident_id_15")["id_number"]
    assert legacy.str.contains(r"^\d{15}$").all()
    permits = borrowers.filter(pl.col("id_type") == "residence_permit_hmt")["id_number"]
    assert permits.str.slice(0, 6).is_in(["810000", "820000", "830000"]).all()
    foreign = borrowers.filter(pl.col("id_type") == "foreign_permanent")["id_number"]
    assert foreign.str.starts_with("9").all()


@pytest.mark.parametrize("book", BOOKS)
def test_id_birth_date_and_gender_digit(demo, book):
    borrowers = _book(demo, book)["borrowers"].with_columns(
        pl.col("birth_date").dt.strftime("%Y%m%d").alias("_birth")
    )
    long = borrowers.filter(pl.col("id_type") != "resident_id_15")
    assert (long["id_number"].str.slice(6, 8) == long["_birth"]).all()
    male_digit = long["id_number"].str.slice(16, 1).cast(pl.Int32) % 2 == 1
    assert (male_digit == (long["gender"] == "male")).all()

    legacy = borrowers.filter(pl.col("id_type") == "resident_id_15")
    assert (legacy["id_number"].str.slice(6, 6) == legacy["_birth"].str.slice(2, 6)).all()
    assert ((legacy["id_number"].str.slice(14, 1).cast(pl.Int32) % 2 == 1) == (legacy["gender"] == "male")).all()


@pytest.mark.parametrize("book", BOOKS)
def test_age_matches_birth_date(demo, book):
    tables = _book(demo, book)
    as_of = tables["loans"].group_by("borrower_id").agg(pl.col("as_of_date").first())
    borrowers = tables["borrowers"].join(as_of, on="borrower_id")
    assert borrowers.height == tables["borrowers"].height
    for birth, age, cut in borrowers.select("birth_date", "age", "as_of_date").head(3000).iter_rows():
        whole_years = cut.year - birth.year - ((cut.month, cut.day) < (birth.month, birth.day))
        assert whole_years == age
    assert borrowers["age"].is_between(18, 90).all()


@pytest.mark.parametrize("book", BOOKS)
def test_cards_phones_emails(demo, book):
    borrowers = _book(demo, book)["borrowers"]
    cards = borrowers["card_number"]
    assert all(luhn_valid(c) for c in cards.to_list())
    assert cards.str.contains(r"^(62\d{14}|62\d{17}|4\d{15}|5[1-5]\d{14})$").all()
    assert cards.str.starts_with("62").mean() > 0.5
    assert borrowers["phone"].str.contains(r"^1[3-9]\d{9}$").all()
    assert tables_contacts_phones_ok(_book(demo, book)["contacts"])
    assert borrowers["email"].str.contains(r"^[a-z0-9._]+@[a-z0-9.]+\.(com|cn)$").all()
    assert borrowers["name"].str.len_chars().min() >= 2


def tables_contacts_phones_ok(contacts: pl.DataFrame) -> bool:
    return bool(contacts["contact_phone"].str.contains(r"^1[3-9]\d{9}$").all())


def test_addresses_name_the_residence_region(demo):
    borrowers = demo.history["borrowers"]
    assert (borrowers["address"].str.slice(0, 2) == borrowers["region"].str.slice(0, 2)).all()
    assert borrowers["address"].str.ends_with("室").all()


def test_notes_sometimes_quote_names_and_phones(demo):
    notes = demo.history["collection_events"]["note"]
    with_phone = notes.str.contains(r"1[3-9]\d{9}").mean()
    assert 0.001 < with_phone < 0.2
    assert notes.str.contains("联系人").any()
    assert notes.n_unique() > 10


def test_birth_dates_plausible(demo):
    births = demo.history["borrowers"]["birth_date"]
    assert births.min() > date(1930, 1, 1)
    assert births.max() < date(2008, 1, 1)
