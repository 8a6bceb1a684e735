"""Identity documents, phones, cards and e-mails, with numbers computed from their definitions."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from fixtures.defect_tape import check_char, resident_id
from sanhua.tape import identity

CHECK = date(2024, 6, 30)


def test_check_char_matches_reference_implementation():
    # The fixture's independent implementation and the library's agree on many numbers.
    for n in range(0, 10**17, 10**17 // 997):
        first17 = f"{n:017d}"
        assert identity.mod11_2_check_char(first17) == check_char(first17)


def test_check_char_of_remainders():
    # Weighted sum of 11010519491231002 is 167, remainder 2 -> 'X' (GB 11643-1999 mapping).
    first17 = "11010519491231002"
    assert sum(int(d) * w for d, w in zip(first17, identity.ID_WEIGHTS, strict=True)) % 11 == 2
    assert identity.mod11_2_check_char(first17) == "X"


def _check(numbers: list[str | None], types: list[str | None]) -> list[dict]:
    result = identity.check_id_numbers(pl.Series(numbers, dtype=pl.String), pl.Series(types, dtype=pl.String), CHECK)
    return result.to_dicts()


def _with_check(first17: str) -> str:
    return first17 + check_char(first17)


GOOD_18 = resident_id("110105", date(1990, 3, 7), 123)
BAD_18 = GOOD_18[:17] + ("0" if GOOD_18[17] != "0" else "1")
HMT = resident_id("810000", date(1988, 8, 8), 21)
MACAO = resident_id("820000", date(1975, 1, 31), 7)
TAIWAN = resident_id("830000", date(2001, 12, 1), 99)
FOREIGN = resident_id("931156", date(1985, 3, 7), 12)


@pytest.mark.parametrize(
    ("number", "given", "checked", "valid", "mismatch"),
    [
        (GOOD_18, "resident_id", "resident_id", True, False),
        (BAD_18, "resident_id", "resident_id", False, False),
        (_with_check("11010519491231002"), "resident_id", "resident_id", True, False),  # check character X
        (_with_check("11010519900230001"), "resident_id", "resident_id", False, False),  # no 30 February
        (resident_id("110105", date(2030, 1, 1), 1), "resident_id", "resident_id", False, False),  # born after check date
        ("110105900307123", "resident_id", "resident_id_15", True, False),
        ("110105901332123", "resident_id", "resident_id_15", False, False),
        ("11010590030712", "resident_id", "resident_id", False, False),
        (HMT, "residence_permit_hmt", "residence_permit_hmt", True, False),
        (MACAO, "residence_permit_hmt", "residence_permit_hmt", True, False),
        (TAIWAN, "residence_permit_hmt", "residence_permit_hmt", True, False),
        (HMT[:17] + ("1" if HMT[17] != "1" else "2"), "residence_permit_hmt", "residence_permit_hmt", False, False),
        (FOREIGN, "foreign_permanent", "foreign_permanent", True, False),
        (FOREIGN[:17] + ("1" if FOREIGN[17] != "1" else "2"), "foreign_permanent", "foreign_permanent", False, False),
        (GOOD_18, "foreign_permanent", "foreign_permanent", False, True),
        (HMT, "resident_id", "resident_id", False, True),
        ("110105900307123", "residence_permit_hmt", "residence_permit_hmt", False, True),
        ("E12345678", "passport", "passport", True, False),
        ("E1", "passport", "passport", False, False),
        ("ABC", "other", "other", True, False),
    ],
)
def test_id_numbers_by_type(number, given, checked, valid, mismatch):
    row = _check([number], [given])[0]
    assert row["id_type_checked"] == checked
    assert row["id_valid"] is valid
    assert row["id_mismatch"] is mismatch


def test_id_type_inferred_from_form():
    rows = _check([GOOD_18, HMT, FOREIGN, "110105900307123", "XYZ"], [None] * 5)
    assert [r["id_type_checked"] for r in rows] == [
        "resident_id",
        "residence_permit_hmt",
        "foreign_permanent",
        "resident_id_15",
        None,
    ]
    assert [r["id_type_inferred"] for r in rows] == [True, True, True, True, False]
    assert rows[4]["id_valid"] is False


def test_missing_number_is_null_not_invalid():
    assert _check([None], ["resident_id"])[0]["id_valid"] is None


def _luhn_reference(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@pytest.mark.parametrize(
    ("card", "valid"),
    [
        ("4111111111111111", True),  # Visa test number
        ("5500005555555559", True),  # Mastercard test number
        ("378282246310005", True),  # American Express test number (15 digits)
        ("3530111333300000", True),  # JCB test number
        ("6212345678901232", True),
        ("4111111111111112", False),  # Luhn fails
        ("1234567890123452", False),  # unknown scheme
        ("41111111111", False),  # too short
        ("62a2345678901232", False),
    ],
)
def test_card_valid(card, valid):
    assert identity.card_valid(pl.Series([card])).to_list() == [valid]


def test_luhn_agrees_with_reference():
    import random

    rng = random.Random(5)
    numbers = ["".join(str(rng.randrange(10)) for _ in range(rng.randint(12, 19))) for _ in range(2000)]
    result = identity.luhn_valid(pl.Series(numbers)).to_list()
    assert result == [_luhn_reference(n) for n in numbers]


def test_luhn_null_stays_null():
    assert identity.luhn_valid(pl.Series([None, "0"], dtype=pl.String)).to_list() == [None, True]


@pytest.mark.parametrize(
    ("raw", "valid"),
    [("13812345678", True), ("138 1234 5678", True), ("+86 138-1234-5678", True), ("12812345678", False), ("1381234567", False)],
)
def test_phone_valid(raw, valid):
    cleaned = pl.select(identity.clean_phone(pl.lit(raw))).to_series()
    assert identity.phone_valid(cleaned).to_list() == [valid]


@pytest.mark.parametrize(("email", "valid"), [("a@b.cn", True), ("wang.li@bank.com.cn", True), ("a@b", False), ("a b@c.cn", False)])
def test_email_valid(email, valid):
    assert identity.email_valid(pl.Series([email])).to_list() == [valid]
