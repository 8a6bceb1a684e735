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

import numpy as np
import polars as pl

__all__ = [
    "ID_WEIGHTS",
    "CHECK_CHARS",
    "mod11_2_check_char",
    "mod11_2_valid",
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

# Luhn value of a doubled digit d: 2d, minus 9 when above 9.
_LUHN_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)


def mod11_2_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character of 17 digits (scalar reference)."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean_id_number(text: pl.Expr) -> pl.Expr:
    """Upper-case an ID number and drop spaces inside it."""
    return text.str.replace_all(r"\s", "").str.to_uppercase()


def _digit_matrix(digits: pl.Series, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Return an (n, width) ``uint8`` matrix of digit values, left-padded with zeros, and a mask of usable rows.

    Rows that are not 1 to ``width`` digits are zeros in the matrix and false in
    the mask. The whole column is joined into one buffer, so no Python loop
    runs over rows.
    """
    usable = digits.str.contains(rf"^\d{{1,{width}}}$").fill_null(False)
    frame = pl.DataFrame({"d": digits, "u": usable})
    padded = frame.select(
        pl.when(pl.col("u")).then(pl.col("d").str.pad_start(width, "0")).otherwise(pl.lit("0" * width))
    ).to_series()
    if padded.len() == 0:
        return np.zeros((0, width), dtype=np.uint8), usable.to_numpy()
    buffer = padded.str.join("").item().encode("ascii")
    matrix = np.frombuffer(buffer, dtype=np.uint8).reshape(-1, width) - np.uint8(48)
    return matrix, usable.to_numpy()


def mod11_2_valid(number: pl.Series) -> pl.Series:
    """Return whether 18-character numbers carry the right MOD 11-2 check character (false otherwise)."""
    matrix, usable = _digit_matrix(number.str.slice(0, 17), 17)
    remainder = (matrix @ np.array(ID_WEIGHTS, dtype=np.uint16)) % 11
    expected = pl.Series(list(CHECK_CHARS)).gather(remainder)
    matches = (number.str.slice(17, 1) == expected).fill_null(False).to_numpy()
    shaped = number.str.contains(r"^\d{17}[\dX]$").fill_null(False).to_numpy()
    return pl.Series(number.name, usable & shaped & matches)


def _birth_valid(digits: pl.Expr, fmt: str, check_date: date) -> pl.Expr:
    born = digits.str.to_date(fmt, strict=False)
    return born.is_not_null() & (born >= date(1900, 1, 1)) & (born <= check_date)


def check_id_numbers(number: pl.Series, id_type: pl.Series, check_date: date) -> pl.DataFrame:
    """Check identity numbers against their document type.

    Parameters
    ----------
    number : pl.Series
        Cleaned numbers (:func:`clean_id_number`); null when absent.
    id_type : pl.Series
        Canonical document types, null where the source has none (then the
        type is inferred from the number's form).
    check_date : date
        Latest acceptable birth date.

    Returns
    -------
    pl.DataFrame
        ``id_type_checked`` (the given type, ``resident_id_15`` for a 15-digit
        resident ID, or the inferred one), ``id_valid`` (null when no number),
        ``id_mismatch`` (the number has the form of another document type) and
        ``id_type_inferred``.
    """
    frame = pl.DataFrame({"number": number.cast(pl.String), "given": id_type.cast(pl.String)})
    frame = frame.with_columns(mod11_2_valid(frame.get_column("number")).alias("checksum"))
    n, given = pl.col("number"), pl.col("given")

    is18 = n.str.contains(r"^\d{17}[\dX]$")
    is15 = n.str.contains(r"^\d{15}$")
    hmt = is18 & n.str.slice(0, 6).is_in(HMT_AREAS)
    foreign = is18 & n.str.starts_with("9")
    resident18 = is18 & n.str.contains(r"^[1-6]") & ~hmt
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
    frame = frame.with_columns(
        form.alias("form"),
        (pl.col("checksum") & _birth_valid(n.str.slice(6, 8), "%Y%m%d", check_date)).alias("ok18"),
        (is15 & _birth_valid(pl.lit("19") + n.str.slice(6, 6), "%Y%m%d", check_date)).alias("ok15"),
        n.str.contains(r"^[A-Z0-9]{5,20}$").alias("passport"),
    )

    # A 15-digit number given as resident_id is the legacy form of the same document.
    legacy = (given == "resident_id") & (pl.col("form") == "resident_id_15")
    frame = frame.with_columns(
        pl.coalesce(pl.when(legacy).then(pl.col("form")).otherwise(given), pl.col("form")).alias("id_type_checked")
    )
    kind, shape = pl.col("id_type_checked"), pl.col("form")
    mismatch = (
        n.is_not_null()
        & shape.is_not_null()
        & kind.is_in(["resident_id", "resident_id_15", "residence_permit_hmt", "foreign_permanent"])
        & (kind != shape)
    ).fill_null(False)
    valid = (
        pl.when(n.is_null())
        .then(pl.lit(None, dtype=pl.Boolean))
        .when(kind.is_in(["resident_id", "residence_permit_hmt", "foreign_permanent"]))
        .then((kind == shape).fill_null(False) & pl.col("ok18"))
        .when(kind == "resident_id_15")
        .then(pl.col("ok15"))
        .when(kind == "passport")
        .then(pl.col("passport"))
        .when(kind == "other")
        .then(pl.lit(True))
        .otherwise(pl.lit(False))
    )
    return frame.select(
        kind,
        (valid & ~mismatch).alias("id_valid"),
        mismatch.alias("id_mismatch"),
        (n.is_not_null() & given.is_null() & shape.is_not_null()).alias("id_type_inferred"),
    )


def clean_phone(text: pl.Expr) -> pl.Expr:
    """Drop spaces, dashes and brackets and a leading +86 or 0086 from a phone number."""
    return text.str.replace_all(r"[\s\-()]", "").str.replace(r"^(\+86|0086)", "")


def phone_valid(phone: pl.Series) -> pl.Series:
    """Return whether cleaned phones are mainland mobile numbers (null when absent)."""
    return phone.str.contains(r"^1[3-9]\d{9}$")


def clean_card(text: pl.Expr) -> pl.Expr:
    """Drop spaces and dashes from a card number."""
    return text.str.replace_all(r"[\s\-]", "")


def luhn_valid(digits: pl.Series, max_length: int = 19) -> pl.Series:
    """Return whether digit strings pass the Luhn check (false for non-digits, null when absent)."""
    matrix, usable = _digit_matrix(digits, max_length)
    # Counting from the right, every second digit is doubled (2d, minus 9 when
    # above 9); the zero padding on the left adds nothing.
    doubled = np.arange(max_length)[::-1] % 2 == 1
    matrix[:, doubled] = _LUHN_DOUBLED[matrix[:, doubled]]
    passed = pl.Series(digits.name, usable & (matrix.sum(axis=1, dtype=np.int32) % 10 == 0))
    return pl.DataFrame({"d": digits, "p": passed}).select(
        pl.when(pl.col("d").is_null()).then(None).otherwise(pl.col("p")).alias(digits.name)
    ).to_series()


def card_valid(card: pl.Series) -> pl.Series:
    """Return whether cleaned card numbers have a known scheme, 15-19 digits and a valid Luhn digit."""
    form = card.str.contains(r"^\d{15,19}$")
    scheme = card.str.contains(r"^(62|4|5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)|35|34|37)")
    return (form & scheme & luhn_valid(card)).alias(card.name)


def email_valid(email: pl.Series) -> pl.Series:
    """Return whether e-mail addresses have the form ``local@domain.tld`` (null when absent)."""
    return email.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
