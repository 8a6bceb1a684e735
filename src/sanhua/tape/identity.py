"""Vectorised checks of identity documents, phones, bank cards and e-mails.

Identity documents (quarantine on failure)
-----------------------------------------
resident_id
    18 characters: 6-digit area code (first digit 1-6), birth date YYYYMMDD,
    3-digit sequence (odd for men), and a check character by ISO 7064
    MOD 11-2: the weighted sum of the first 17 digits with weights
    7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, modulo 11, maps remainders 0-10 to
    ``1 0 X 9 8 7 6 5 4 3 2`` (GB 11643-1999).
resident_id_15
    Legacy 15-digit number: area code, birth date YYMMDD of the 1900s,
    3-digit sequence, no check character. A 15-digit number given as
    ``resident_id`` is recognised as this type, not a mismatch.
residence_permit_hmt
    Residence permit of Hong Kong, Macao and Taiwan residents: 18 characters
    with area code 810000, 820000 or 830000 and the same check.
foreign_permanent
    Foreigner's permanent residence ID, 2023 version: 18 characters starting
    with 9, birth date at the same place, same check.
passport
    5 to 20 letters and digits (no check digit can be verified).
other
    Not checked.

A birth date inside a number must be a real date between 1900-01-01 and the
check date (the cut-off, else today).

Soft checks (flag only)
-----------------------
phone
    11 digits starting with 1 then 3-9, after removing spaces, dashes and a
    leading +86 / 0086.
card
    15 to 19 digits, a known scheme prefix (UnionPay 62, Visa 4, Mastercard
    51-55 and 2221-2720, JCB 35, American Express 34/37) and a valid Luhn
    check digit. Some old debit cards fail Luhn, so a card is flagged, never
    dropped.
email
    ``local@domain.tld`` with no spaces.
"""

from __future__ import annotations

from datetime import date

import polars as pl

__all__ = [
    "ID_WEIGHTS",
    "CHECK_CHARS",
    "mod11_2_check_char",
    "IdCheck",
    "check_id_numbers",
    "clean_id_number",
    "clean_phone",
    "clean_card",
    "phone_valid",
    "card_valid",
    "luhn_valid",
    "email_valid",
]

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

HMT_AREAS = ("810000", "820000", "830000")


def mod11_2_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character of 17 digits (scalar reference)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean_id_number(text: pl.Expr) -> pl.Expr:
    """Upper-case an ID number and drop spaces inside it."""
    return text.str.replace_all(r"\s", "").str.to_uppercase()


def _mod11_2_valid(number: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        [number.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(ID_WEIGHTS)]
    )
    expected = (total % 11).replace_strict(list(range(11)), list(CHECK_CHARS), default=None, return_dtype=pl.String)
    return number.str.slice(17, 1) == expected


def _birth_valid(digits: pl.Expr, fmt: str, check_date: date) -> pl.Expr:
    born = digits.str.to_date(fmt, strict=False)
    return born.is_not_null() & (born >= date(1900, 1, 1)) & (born <= check_date)


class IdCheck:
    """Names of the expressions :func:`check_id_numbers` returns."""

    TYPE = "id_type_checked"
    VALID = "id_valid"
    MISMATCH = "id_mismatch"
    INFERRED = "id_type_inferred"


def check_id_numbers(number: pl.Expr, id_type: pl.Expr, check_date: date) -> list[pl.Expr]:
    """Check identity numbers against their document type.

    Parameters
    ----------
    number : pl.Expr
        Cleaned number (:func:`clean_id_number`); null when absent.
    id_type : pl.Expr
        Canonical document type, null when the source has none (then the type
        is inferred from the number's form).
    check_date : date
        Latest acceptable birth date.

    Returns
    -------
    list of pl.Expr
        ``id_type_checked`` (the given type, ``resident_id_15`` for a 15-digit
        resident ID, or the inferred one), ``id_valid`` (true, or null when no
        number), ``id_mismatch`` (the number's form is another document type)
        and ``id_type_inferred``.
    """
    is18 = number.str.contains(r"^\d{17}[\dX]$")
    is15 = number.str.contains(r"^\d{15}$")
    area6 = number.str.slice(0, 6)
    hmt = is18 & area6.is_in(HMT_AREAS)
    foreign = is18 & number.str.starts_with("9")
    resident18 = is18 & number.str.contains(r"^[1-6]") & ~hmt

    form = (
        pl.when(hmt)
        .then(pl.lit("residence_permit_hmt"))
        .when(foreign)
        .then(pl.lit("foreign_permanent"))
        .when(resident18)
        .then(pl.lit("resident_id"))
        .when(is15)
        .then(pl.lit("resident_id_15"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    given = pl.when((id_type == "resident_id") & is15).then(pl.lit("resident_id_15")).otherwise(id_type)
    checked = pl.coalesce(given, form)

    checks18 = _mod11_2_valid(number) & _birth_valid(number.str.slice(6, 8), "%Y%m%d", check_date)
    checks15 = _birth_valid(pl.lit("19") + number.str.slice(6, 6), "%Y%m%d", check_date)
    passport = number.str.contains(r"^[A-Z0-9]{5,20}$")

    mismatch = (
        number.is_not_null()
        & form.is_not_null()
        & checked.is_in(["resident_id", "resident_id_15", "residence_permit_hmt", "foreign_permanent"])
        & (checked != form)
    )
    valid = (
        pl.when(number.is_null())
        .then(pl.lit(None, dtype=pl.Boolean))
        .when(checked == "resident_id")
        .then(resident18 & checks18)
        .when(checked == "residence_permit_hmt")
        .then(hmt & checks18)
        .when(checked == "foreign_permanent")
        .then(foreign & checks18)
        .when(checked == "resident_id_15")
        .then(is15 & checks15)
        .when(checked == "passport")
        .then(passport)
        .when(checked == "other")
        .then(pl.lit(True))
        .otherwise(pl.lit(False))
    )
    inferred = number.is_not_null() & id_type.is_null() & form.is_not_null()
    return [
        checked.alias(IdCheck.TYPE),
        (valid & ~mismatch).alias(IdCheck.VALID),
        mismatch.alias(IdCheck.MISMATCH),
        inferred.alias(IdCheck.INFERRED),
    ]


def clean_phone(text: pl.Expr) -> pl.Expr:
    """Drop spaces and dashes and a leading +86 or 0086 from a phone number."""
    return text.str.replace_all(r"[\s\-()]", "").str.replace(r"^(\+86|0086)", "")


def phone_valid(phone: pl.Expr) -> pl.Expr:
    """Return whether a cleaned phone is a mainland mobile number (null when absent)."""
    return phone.str.contains(r"^1[3-9]\d{9}$")


def clean_card(text: pl.Expr) -> pl.Expr:
    """Drop spaces and dashes from a card number."""
    return text.str.replace_all(r"[\s\-]", "")


def luhn_valid(digits: pl.Expr, max_length: int = 19) -> pl.Expr:
    """Return whether a digit string passes the Luhn check (null when absent)."""
    reversed_digits = digits.str.reverse()
    terms = []
    for i in range(max_length):
        d = reversed_digits.str.slice(i, 1).cast(pl.Int64, strict=False).fill_null(0)
        if i % 2 == 1:
            d = d * 2
            d = pl.when(d > 9).then(d - 9).otherwise(d)
        terms.append(d)
    return pl.when(digits.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(pl.sum_horizontal(terms) % 10 == 0)


def card_valid(card: pl.Expr) -> pl.Expr:
    """Return whether a cleaned card number has a known scheme, 15-19 digits and a valid Luhn digit."""
    form = card.str.contains(r"^\d{15,19}$")
    scheme = card.str.contains(r"^(62|4|5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)|35|34|37)")
    return form & scheme & luhn_valid(card)


def email_valid(email: pl.Expr) -> pl.Expr:
    """Return whether an e-mail address has the form ``local@domain.tld``."""
    return email.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
