"""Independent reference checks of identity numbers and card numbers, written out digit by digit."""

from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def mod11_2_valid(number: str) -> bool:
    """ISO 7064 MOD 11-2 check of an 18-character identity number (GB 11643-1999)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    remainder = sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True)) % 11
    return "10X98765432"[remainder] == number[17]


def luhn_valid(number: str) -> bool:
    """Luhn check of a card number."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            digit = digit // 10 + digit % 10
        total += digit
    return total % 10 == 0
