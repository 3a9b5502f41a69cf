"""One generated order: its lines, shipments, charges, refunds and invoice documents."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from abxero_sim.amazon.businesses import Business, LegalEntity, PaymentMethod, Region
from abxero_sim.amazon.catalogue import (
    AMAZON_SELLERS,
    MARKETPLACE_SELLERS,
    PRODUCTS,
    Product,
    Seller,
)
from abxero_sim.amazon.values import ZERO, cents, random_digits, random_text

GL_CODES = {"43": "620-equipment", "44": "535-office", "14": "535-office", "55": "640-books"}
PROJECTS = ("Apollo", "Borealis", "Cobalt", "")


@dataclass(frozen=True)
class Line:
    """An ordered line: what was bought, at what price, and its extras."""

    line_item_id: str
    product: Product
    quantity: int
    unit_price: Decimal
    discount: Decimal
    gift_wrap: Decimal
    tax_rate: Decimal
    order_info: dict[str, str]

    @property
    def principal(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def fee(self) -> Decimal:
        return self.product.fee * self.quantity


@dataclass(frozen=True)
class Shipment:
    number: int
    shipment_id: str
    date: datetime
    seller: Seller
    lines: tuple[Line, ...]
    shipping: Decimal
    ship_rate: Decimal
    gift_rate: Decimal

    @property
    def digital(self) -> bool:
        return all(line.product.digital for line in self.lines)


@dataclass(frozen=True)
class Document:
    """An invoice or credit memo and the transaction it belongs to."""

    number: str
    kind: str
    date: datetime
    record: dict[str, Any]
    pay_by_invoice: bool
    digital: bool


@dataclass
class GeneratedOrder:
    """An order and everything Amazon would report about it."""

    business: Business
    index: int
    order_id: str
    date: datetime
    entity: LegalEntity
    group: str
    transactions: list[dict[str, Any]] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)

    def document(self, number: str) -> Document | None:
        return next((doc for doc in self.documents if doc.number == number), None)

    def documents_for_line(self, line_item_id: str, shipment_id: str) -> list[Document]:
        return [
            doc
            for doc in self.documents
            if any(
                item.get("orderLineItemId") == line_item_id
                and item.get("shipmentId") == shipment_id
                for item in doc.record.get("transactionLineItems") or []
            )
        ]


@dataclass(frozen=True)
class Charge:
    """The context a transaction record is written in."""

    order: GeneratedOrder
    shipment: Shipment
    method: PaymentMethod
    date: datetime
    buyer: dict[str, str]


def rate_text(rate: Decimal) -> str:
    return "0.00" if rate == 0 else format(rate.normalize(), "f").ljust(4, "0")


@dataclass(frozen=True)
class OrderPlan:
    """An order before its transactions are written: shipments, payer and buyer."""

    order: GeneratedOrder
    shipments: tuple[Shipment, ...]
    primary: PaymentMethod
    buyer: dict[str, str]


def plan_order(business: Business, index: int, date: datetime, rng: random.Random) -> OrderPlan:
    """Draw order ``index`` of ``business`` placed at ``date`` from its random stream."""
    entity = rng.choice(business.legal_entities)
    order = GeneratedOrder(
        business=business,
        index=index,
        order_id=f"{business.order_prefix}-{index:07d}-{random_digits(rng, 7)}",
        date=date,
        entity=entity,
        group=rng.choice(entity.groups),
    )
    buyer = rng.choice(business.buyers)
    buyer_json = {"id": buyer.account_id, "name": buyer.name, "email": buyer.email}
    primary = _primary_method(business, rng)
    return OrderPlan(order, tuple(_shipments(business, order, rng)), primary, buyer_json)


def _primary_method(business: Business, rng: random.Random) -> PaymentMethod:
    invoice = [method for method in business.instruments if method.is_invoice]
    if invoice and rng.random() < 0.25:
        return invoice[0]
    return rng.choice(business.cards)


def _shipments(business: Business, order: GeneratedOrder, rng: random.Random) -> list[Shipment]:
    lines = [_line(business, order, rng) for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4)))]
    digital = [line for line in lines if line.product.digital]
    physical = [line for line in lines if not line.product.digital]
    groups = _split(physical, rng) + ([digital] if digital else [])
    shipments = []
    for number, group in enumerate(groups, start=1):
        shipments.append(_shipment(business, order, number, tuple(group), rng))
    return shipments


def _split(lines: list[Line], rng: random.Random) -> list[list[Line]]:
    if len(lines) < 2 or rng.random() < 0.6:
        return [lines] if lines else []
    cut = rng.randint(1, len(lines) - 1)
    return [lines[:cut], lines[cut:]]


def _seller(region: Region, rng: random.Random) -> Seller:
    if rng.random() < 0.6:
        return AMAZON_SELLERS[region]
    return rng.choice(MARKETPLACE_SELLERS[region])


def _line(business: Business, order: GeneratedOrder, rng: random.Random) -> Line:
    product = rng.choice(PRODUCTS)
    quantity = rng.choice((1, 1, 1, 2, 3, 5, 10))
    unit_price = Decimal(rng.randint(*product.price_cents)) / 100
    principal = unit_price * quantity
    discount = -cents(principal * Decimal(rng.randint(5, 15)) / 100) if rng.random() < 0.2 else ZERO
    gift_wrap = Decimal("3.99") if rng.random() < 0.05 else ZERO
    return Line(
        line_item_id=random_digits(rng, 14),
        product=product,
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        gift_wrap=gift_wrap,
        tax_rate=_item_rate(business, order.entity, product),
        order_info=_order_info(business, order, product, rng),
    )


def _item_rate(business: Business, entity: LegalEntity, product: Product) -> Decimal:
    if business.region is Region.UK:
        return product.uk_vat
    return entity.sales_tax if product.us_taxable else Decimal(0)


def _order_info(
    business: Business, order: GeneratedOrder, product: Product, rng: random.Random
) -> dict[str, str]:
    values = {
        "GL code": GL_CODES.get(product.unspsc[:2], "540-supplies"),
        "Cost center": f"CC-{order.group[:3].upper()}",
        "Cost centre": f"CC-{order.group[:3].upper()}",
        "Project": rng.choice(PROJECTS),
    }
    return {label: values.get(label, "") for label in business.order_info_labels}


def _shipment(
    business: Business,
    order: GeneratedOrder,
    number: int,
    lines: tuple[Line, ...],
    rng: random.Random,
) -> Shipment:
    seller = _seller(business.region, rng)
    digital = all(line.product.digital for line in lines)
    if digital:
        seller = AMAZON_SELLERS[business.region]
    shipping = ZERO if digital or rng.random() < 0.6 else Decimal(rng.randint(399, 1299)) / 100
    ship_rate, gift_rate = _fee_rates(business, order.entity, seller)
    if business.region is Region.UK and not seller.charges_vat:
        lines = tuple(_untaxed(line) for line in lines)
    return Shipment(
        number=number,
        shipment_id="D" + random_text(rng, 8),
        date=order.date + timedelta(hours=0 if digital else rng.randint(2, 96)),
        seller=seller,
        lines=lines,
        shipping=shipping,
        ship_rate=ship_rate,
        gift_rate=gift_rate,
    )


def _untaxed(line: Line) -> Line:
    return Line(
        line.line_item_id,
        line.product,
        line.quantity,
        line.unit_price,
        line.discount,
        line.gift_wrap,
        Decimal(0),
        line.order_info,
    )


def _fee_rates(business: Business, entity: LegalEntity, seller: Seller) -> tuple[Decimal, Decimal]:
    if business.region is Region.UK:
        rate = Decimal("0.20") if seller.charges_vat else Decimal(0)
        return rate, rate
    return (entity.sales_tax if entity.shipping_taxed else Decimal(0)), entity.sales_tax
