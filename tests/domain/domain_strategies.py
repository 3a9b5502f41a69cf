"""Hypothesis strategies: valid Amazon transactions for the US and UK test organisations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from abxero.domain.context import OrgContext
from abxero.domain.mapping import MappingConfig
from abxero.domain.plan import Role
from tests.domain.domain_fixtures import uk_context, uk_mapping, us_context, us_mapping
from tests.domain.domain_records import amazon_line, amazon_transaction

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAIN_ROLES = {Role.BILL, Role.CREDIT_NOTE, Role.SPEND, Role.RECEIVE}

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Region:
    name: str
    currency: str
    context: OrgContext
    mapping: MappingConfig
    instruments: tuple[tuple[str, str | None], ...]
    item_rates: tuple[str, ...]
    ship_rates: tuple[str, ...]


US = Region(
    "US",
    "USD",
    us_context(),
    us_mapping(),
    (
        ("Amex", "1001"),
        ("Visa", "2002"),
        ("Visa", "3003"),
        ("Pay by Invoice", None),
        ("PayStation", None),
    ),
    ("0.00", "0.0625", "0.07", "0.08875"),
    ("0.00", "0.07"),
)
UK = Region(
    "UK",
    "GBP",
    uk_context(),
    uk_mapping(),
    (("Visa", "4242"), ("Mastercard", "5454"), ("Pay by Invoice", None)),
    ("0.00", "0.05", "0.20"),
    ("0.00", "0.20"),
)
REGIONS = (US, UK)


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) * CENT)


def _tax(amount: Decimal, rate: str) -> Decimal:
    return (amount * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


@st.composite
def amazon_lines(draw: st.DrawFn, region: Region, ship_rate: str, index: int) -> dict[str, Any]:
    principal = draw(cents(0, 200_000))
    quantity = draw(st.integers(1, 7))
    shipping = draw(st.one_of(st.just(Decimal("0.00")), cents(1, 2_500)))
    gift_wrap = draw(st.one_of(st.just(Decimal("0.00")), cents(1, 800)))
    fee = draw(st.one_of(st.just(Decimal("0.00")), cents(1, 300)))
    discount = -draw(st.one_of(st.just(Decimal("0.00")), cents(1, 5_000)))
    rate = draw(st.sampled_from(region.item_rates))
    base = principal + discount + fee
    tax = _tax(base, rate) + _tax(shipping, ship_rate) + _tax(gift_wrap, ship_rate)
    tax += draw(st.sampled_from((Decimal("0.00"), Decimal("0.00"), CENT, -CENT)))
    info = draw(
        st.sampled_from(
            (
                {},
                {"GL code": "535-office"},
                {"GL code": "463", "Cost centre": "IT"},
                {"Cost center": "CC-200"},
            )
        )
    )
    return amazon_line(
        region.currency,
        principal=str(principal),
        quantity=quantity,
        shipping=str(shipping),
        gift_wrap=str(gift_wrap),
        regulatory_fee=str(fee),
        discount=str(discount),
        tax=str(tax),
        tax_rate=rate,
        title=draw(st.sampled_from(("Stapler", "Toner cartridge", "Monitor", "x" * 5000, ""))),
        orderId=f"113-{index:07d}-0000001",
        orderLineItemId=f"li-{index}",
        asin=f"B0{index:08d}",
        unspsc=draw(st.sampled_from(("", "43211902", "44103103"))),
        businessOrderInfo=info,
    )


def _sign_all(line: dict[str, Any], sign: int) -> dict[str, Any]:
    flipped = dict(line)
    for name, value in line.items():
        if isinstance(value, dict) and "amount" in value and name != "unitPrice":
            flipped[name] = {**value, "amount": str(Decimal(value["amount"]) * sign)}
    return flipped


@st.composite
def charge_records(draw: st.DrawFn, region: Region | None = None) -> tuple[Region, dict[str, Any]]:
    """A valid CHARGE whose total is positive, with its region."""
    region = region or draw(st.sampled_from(REGIONS))
    ship_rate = draw(st.sampled_from(region.ship_rates))
    count = draw(st.integers(1, 4))
    lines = [draw(amazon_lines(region, ship_rate, index)) for index in range(count)]
    total = sum(Decimal(line["totalAmount"]["amount"]) for line in lines)
    if total <= 0:
        lines = [_positive_line(region)]
    kind, last4 = draw(st.sampled_from(region.instruments))
    moment = draw(
        st.datetimes(datetime(2026, 4, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
    )
    record = amazon_transaction(
        draw(st.from_regex(r"[A-Za-z0-9]{8,20}", fullmatch=True)),
        lines,
        currency=region.currency,
        date=moment.isoformat().replace("+00:00", "Z"),
        instrument=kind,
        last4=last4,
        chargeIdentifier=draw(st.sampled_from(("", "RA5RE0N60"))),
        invoiceNumber=draw(st.sampled_from(("", "INV-1"))),
        shipTaxRate=ship_rate,
        giftWrapTaxRate=ship_rate,
        purchasingCustomerGroupName=draw(st.sampled_from(("", "Apollo", "Warehouse"))),
    )
    return region, record


def _positive_line(region: Region) -> dict[str, Any]:
    return amazon_line(
        region.currency, principal="1.00", title="Pencil", orderId="113-0000000-0000000"
    )


def as_refund(record: dict[str, Any], kind: str = "REFUND") -> dict[str, Any]:
    """The refund of a charge: every amount negated, under a new transaction id."""
    refund = dict(record)
    refund["transactionId"] = record["transactionId"] + "-R"
    refund["transactionType"] = kind
    refund["amount"] = {**record["amount"], "amount": str(-Decimal(record["amount"]["amount"]))}
    refund["transactionLineItems"] = [
        _sign_all(line, -1) for line in record["transactionLineItems"]
    ]
    return refund


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for name, item in value.items():
            found.extend(json_paths(item, (*prefix, name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(json_paths(item, (*prefix, index)))
    return found
