"""Money arithmetic: Decimal only, 2 dp amounts and 4 dp unit prices, rounded half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
UNIT_STEP = Decimal("0.0001")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    """Round to whole cents, half away from zero (how Xero rounds line tax)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_unit(value: Decimal) -> Decimal:
    """Round a unit price to Xero's four decimals (``unitdp=4``)."""
    return value.quantize(UNIT_STEP, rounding=ROUND_HALF_UP)


def is_whole_cents(value: Decimal) -> bool:
    return value == value.quantize(CENT)


def tax_on(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax on ``amount`` at ``rate``, rounded to the cent."""
    return round_money(amount * rate)


def exact_unit_price(line_amount: Decimal, quantity: int) -> Decimal | None:
    """A 4 dp unit price with ``quantity × price == line_amount`` exactly, if there is one."""
    if quantity <= 0:
        return None
    price = round_unit(line_amount / quantity)
    if price * quantity != line_amount:
        return None
    return price.quantize(CENT) if is_whole_cents(price) else price


def money_sum(values: list[Decimal] | tuple[Decimal, ...]) -> Decimal:
    """Sum with a Decimal start so an empty sum is ``Decimal('0.00')``, not ``0``."""
    return sum(values, ZERO)
