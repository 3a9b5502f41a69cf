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


def inclusive_tax(gross: Decimal, rate: Decimal) -> Decimal:
    """The tax Xero computes on a tax-inclusive line: gross × rate / (1 + rate), to the cent.

    Xero computes tax per line and rounds each line's tax to 2 dp before summing
    (https://developer.xero.com/documentation/api-guides/rounding-in-xero, summarised in
    ``xero-api.md`` §5.3); for an inclusive line that is tax = gross × r / (100 + r) with r in
    percent. ``rate`` here is a fraction (0.20).
    """
    return round_money(gross * rate / (1 + rate))


def gross_for_tax(tax: Decimal, rate: Decimal, near: Decimal) -> Decimal | None:
    """The gross amount closest to ``near`` on which Xero computes exactly ``tax``, if any.

    Each cent of gross moves the computed tax by rate / (1 + rate) < 1 cent, so for a rate above
    zero every whole-cent tax is reached, by a run of about (1 + rate) / rate cents of gross
    around ``tax × (1 + rate) / rate``; that run is searched for the gross nearest ``near``.
    """
    if rate <= 0:
        return near if tax == 0 else None
    start = round_money(tax * (1 + rate) / rate)
    reach = min(int((1 + rate) / rate) + 2, 10_000)
    candidates = [start + CENT * step for step in range(-reach, reach + 1)]
    found = [gross for gross in candidates if inclusive_tax(gross, rate) == tax]
    if not found:  # pragma: no cover - the reasoning above says this cannot happen
        return None
    return min(found, key=lambda gross: (abs(gross - near), gross))


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
