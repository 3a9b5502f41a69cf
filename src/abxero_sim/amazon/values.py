"""Small value helpers the Amazon simulator shares: money text, ids, time text."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
B36 = string.digits + string.ascii_uppercase
ALNUM = string.ascii_letters + string.digits


def cents(value: Decimal) -> Decimal:
    """Round half up to two decimals (symmetric for negative amounts)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: Decimal) -> str:
    """Amazon's amount text: two decimals, never ``-0.00``."""
    rounded = cents(value)
    return "0.00" if rounded == 0 else f"{rounded:.2f}"


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"currencyCode": currency, "amount": money_text(value)}


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``, as Amazon writes it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        digits.append(B36[rest])
    if number:
        raise ValueError("number too large for the width")
    return "".join(reversed(digits))


def from_base36(text: str) -> int:
    return int(text, 36)


def random_text(rng: random.Random, length: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def random_digits(rng: random.Random, length: int) -> str:
    return random_text(rng, length, string.digits)
