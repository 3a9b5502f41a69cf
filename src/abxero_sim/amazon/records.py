"""Writing a planned order as Reconciliation transaction records (charges and refunds).

With :class:`~.shapes.Shapes` knobs on, some shipments are paid by two instruments that each
carry all the lines (``split_shared_lines``) and some records take the other real-world shapes
(see :mod:`.shapes`); with every knob off the records are exactly the plain ones.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from abxero_sim.amazon.businesses import Business, PaymentMethod, Region
from abxero_sim.amazon.catalogue import REFUND_REASONS
from abxero_sim.amazon.orders import (
    Document,
    GeneratedOrder,
    Line,
    OrderPlan,
    Shipment,
    plan_order,
    rate_text,
)
from abxero_sim.amazon.shapes import Shapes, chosen, draw, reshape
from abxero_sim.amazon.values import (
    B36,
    ZERO,
    base36,
    cents,
    iso,
    money,
    money_text,
    random_digits,
    random_text,
)

REFUND_CHANCE = 0.10
OVERREFUND_CHANCE = 0.02
SPLIT_CHANCE = 0.12
PLAIN = Shapes()


def build_order(
    business: Business,
    index: int,
    date: datetime,
    rng: random.Random,
    shapes: Shapes = PLAIN,
) -> GeneratedOrder:
    """Generate order ``index`` with all its transactions and documents."""
    plan = plan_order(business, index, date, rng)
    for shipment in plan.shipments:
        _charge_shipment(plan, shipment, rng, shapes)
    if shapes.any_on:
        for record in plan.order.transactions:
            reshape(record, shapes)
    return plan.order


def _charge_shipment(
    plan: OrderPlan, shipment: Shipment, rng: random.Random, shapes: Shapes = PLAIN
) -> None:
    groups = _payment_groups(plan, shipment, rng)
    if _shares_lines(plan, shipment, groups, shapes):
        _charge_shared(plan, shipment, groups[0], rng)
        return
    invoice = _invoice_number(plan, shipment, str(shipment.number), groups, rng)
    records = []
    for number, (method, lines) in enumerate(groups):
        parts = [
            _charge_line(plan, shipment, line, first=(number == 0 and i == 0))
            for i, line in enumerate(lines)
        ]
        record = _record(plan, shipment, method, "CHARGE", shipment.date, parts, invoice, rng)
        records.append(record)
        plan.order.transactions.append(record)
        if invoice:
            plan.order.documents.append(
                Document(
                    invoice, "STANDARD", shipment.date, record, method.is_invoice, shipment.digital
                )
            )
    _link_siblings(records)
    for record, (method, lines) in zip(records, groups, strict=True):
        _maybe_refunds(plan, shipment, method, lines, record, rng)


def _shares_lines(
    plan: OrderPlan,
    shipment: Shipment,
    groups: list[tuple[PaymentMethod, tuple[Line, ...]]],
    shapes: Shapes,
) -> bool:
    others = [m for m in plan.order.business.instruments if m != plan.primary]
    key = f"{plan.order.order_id}/{shipment.shipment_id}"
    return len(groups) == 1 and bool(others) and chosen(shapes.split_shared_lines, "split", key)


def _charge_shared(
    plan: OrderPlan,
    shipment: Shipment,
    group: tuple[PaymentMethod, tuple[Line, ...]],
    rng: random.Random,
) -> None:
    """Two instruments pay one shipment; each record lists every line, each its own amount.

    The first record is the plain one (same draws from ``rng``) with part of the amount; the
    second, on another instrument, is drawn from its own stream and carries the rest.
    """
    method, lines = group
    key = f"{plan.order.order_id}/{shipment.shipment_id}"
    side = random.Random(f"shared/{key}")
    other = side.choice([m for m in plan.order.business.instruments if m != method])
    invoice = _invoice_number(plan, shipment, str(shipment.number), [group], rng)
    first = _record(
        plan, shipment, method, "CHARGE", shipment.date, _parts(plan, shipment, lines), invoice, rng
    )
    second = _record(
        plan, shipment, other, "CHARGE", shipment.date, _parts(plan, shipment, lines), invoice, side
    )
    total = Decimal(first["amount"]["amount"])
    first_share = cents(total * Decimal(30 + int(draw("split_share", key) * 41)) / 100)
    first["amount"]["amount"] = money_text(first_share)
    second["amount"]["amount"] = money_text(total - first_share)
    for record, payer in ((first, method), (second, other)):
        plan.order.transactions.append(record)
        if invoice:
            plan.order.documents.append(
                Document(
                    invoice, "STANDARD", shipment.date, record, payer.is_invoice, shipment.digital
                )
            )
    _link_siblings([first, second])
    _maybe_refunds(plan, shipment, method, lines, first, rng)


def _parts(plan: OrderPlan, shipment: Shipment, lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [_charge_line(plan, shipment, line, first=(i == 0)) for i, line in enumerate(lines)]


def _payment_groups(
    plan: OrderPlan, shipment: Shipment, rng: random.Random
) -> list[tuple[PaymentMethod, tuple[Line, ...]]]:
    others = [m for m in plan.order.business.instruments if m != plan.primary]
    if len(shipment.lines) < 2 or not others or rng.random() >= SPLIT_CHANCE:
        return [(plan.primary, shipment.lines)]
    cut = rng.randint(1, len(shipment.lines) - 1)
    return [(plan.primary, shipment.lines[:cut]), (rng.choice(others), shipment.lines[cut:])]


def _invoice_number(
    plan: OrderPlan,
    shipment: Shipment,
    tag: str,
    groups: list[tuple[PaymentMethod, tuple[Line, ...]]],
    rng: random.Random,
) -> str:
    business = plan.order.business
    index = plan.order.index
    if any(method.is_invoice for method, _ in groups) and business.region is Region.US:
        return f"{base36(index, 4)}-{tag}{random_text(rng, 3, B36)}-{random_digits(rng, 4)}"
    if business.region is Region.US and rng.random() < 0.3:
        return ""
    prefix = "GB" if business.region is Region.UK else "US"
    return f"{prefix}{base36(index, 6)}{tag}{random_text(rng, 3, B36)}"


def _link_siblings(records: list[dict[str, Any]]) -> None:
    if len(records) < 2:
        return
    for record in records:
        record["associatedTransactionDetails"] = [
            {"associatedTransactionId": other["transactionId"]}
            for other in records
            if other is not record
        ]


def _charge_line(plan: OrderPlan, shipment: Shipment, line: Line, *, first: bool) -> dict[str, Any]:
    shipping = shipment.shipping if first else ZERO
    tax = (
        cents((line.principal + line.discount + line.fee) * line.tax_rate)
        + cents(shipping * shipment.ship_rate)
        + cents(line.gift_wrap * shipment.gift_rate)
    )
    return _line_json(
        plan,
        shipment,
        line,
        line.quantity,
        line.unit_price,
        {
            "principalAmount": line.principal,
            "shippingCharge": shipping,
            "giftWrappingCharge": line.gift_wrap,
            "regulatoryFee": line.fee,
            "discount": line.discount,
            "tax": tax,
        },
    )


def _line_json(
    plan: OrderPlan,
    shipment: Shipment,
    line: Line,
    quantity: int,
    unit_price: Decimal,
    parts: dict[str, Decimal],
) -> dict[str, Any]:
    currency = plan.order.business.currency
    body: dict[str, Any] = {"totalAmount": money(sum(parts.values(), ZERO), currency)}
    for name, value in parts.items():
        if value != 0 or name in ("principalAmount", "shippingCharge", "tax"):
            body[name] = money(value, currency)
    body.update(
        {
            "unitPrice": money(unit_price, currency),
            "taxRate": rate_text(line.tax_rate),
            "orderId": plan.order.order_id,
            "unspsc": line.product.unspsc,
            "orderLineItemId": line.line_item_id,
            "purchaseOrderNumber": _po_number(plan),
            "asin": line.product.asin,
            "productTitle": line.product.title,
            "itemQuantity": quantity,
            "shipmentId": shipment.shipment_id,
            "shipmentDate": iso(shipment.date),
            "merchantLegalName": shipment.seller.name,
            "businessOrderInfo": dict(line.order_info),
        }
    )
    return body


def _po_number(plan: OrderPlan) -> str:
    return f"PO-{plan.order.index:06d}" if plan.order.index % 7 == 0 else ""


def _record(
    plan: OrderPlan,
    shipment: Shipment,
    method: PaymentMethod,
    kind: str,
    date: datetime,
    lines: list[dict[str, Any]],
    invoice: str,
    rng: random.Random,
) -> dict[str, Any]:
    business = plan.order.business
    total = sum((Decimal(line["totalAmount"]["amount"]) for line in lines), ZERO)
    record: dict[str, Any] = {
        "marketplaceId": business.marketplace_id,
        "transactionDate": iso(date),
        "feedDate": iso(date + _feed_lag(rng)),
        "transactionType": kind,
        "transactionId": random_text(rng, 20),
        "shipTaxRate": rate_text(shipment.ship_rate),
        "giftWrapTaxRate": rate_text(shipment.gift_rate),
        "legalEntityName": plan.order.entity.name,
        "purchasingCustomerGroupName": plan.order.group,
        "amount": money(total, business.currency),
        "paymentInstrumentType": method.kind,
        "buyer": plan.buyer,
        "payer": business.payer(plan.buyer),
        "transactionLineItems": lines,
    }
    if not method.is_invoice:
        record["chargeIdentifier"] = random_text(rng, 9, string.ascii_uppercase + string.digits)
        record["paymentInstrumentLast4Digits"] = method.last4
    if invoice:
        record["invoiceNumber"] = invoice
    return record


def _feed_lag(rng: random.Random) -> timedelta:
    if rng.random() < 0.15:
        return timedelta(hours=rng.randint(24, 96))
    return timedelta(minutes=rng.randint(10, 360))


def _maybe_refunds(
    plan: OrderPlan,
    shipment: Shipment,
    method: PaymentMethod,
    lines: tuple[Line, ...],
    charge: dict[str, Any],
    rng: random.Random,
) -> None:
    refundable = [line for line in lines if line.discount == 0]
    if refundable and rng.random() < REFUND_CHANCE:
        line = rng.choice(refundable)
        quantity = rng.randint(1, line.quantity)
        date = shipment.date + timedelta(days=rng.randint(5, 25), minutes=rng.randint(0, 600))
        part = _refund_line(plan, shipment, line, quantity, line.unit_price, fee=True)
        part["refundReason"] = rng.choice(REFUND_REASONS)
        _add_refund(plan, shipment, method, "REFUND", "R", date, part, charge, rng)
    if rng.random() < OVERREFUND_CHANCE:
        line = rng.choice(lines)
        goodwill = Decimal(rng.randint(200, 1500)) / 100
        date = shipment.date + timedelta(days=rng.randint(3, 30), minutes=rng.randint(0, 600))
        part = _refund_line(plan, shipment, line, 1, goodwill, fee=False)
        part["refundReason"] = "Price adjustment"
        _add_refund(plan, shipment, method, "OVERREFUND", "O", date, part, charge, rng)


def _refund_line(
    plan: OrderPlan, shipment: Shipment, line: Line, quantity: int, unit: Decimal, *, fee: bool
) -> dict[str, Any]:
    principal = unit * quantity
    fee_amount = line.product.fee * quantity if fee else ZERO
    tax = cents((principal + fee_amount) * line.tax_rate)
    return _line_json(
        plan,
        shipment,
        line,
        quantity,
        -unit,
        {
            "principalAmount": -principal,
            "shippingCharge": ZERO,
            "regulatoryFee": -fee_amount,
            "tax": -tax,
        },
    )


def _add_refund(
    plan: OrderPlan,
    shipment: Shipment,
    method: PaymentMethod,
    kind: str,
    tag: str,
    date: datetime,
    line: dict[str, Any],
    charge: dict[str, Any],
    rng: random.Random,
) -> None:
    invoice = ""
    if plan.order.business.region is Region.UK or method.is_invoice or rng.random() < 0.5:
        invoice = _invoice_number(plan, shipment, tag, [(method, ())], rng)
    record = _record(plan, shipment, method, kind, date, [line], invoice, rng)
    if "chargeIdentifier" in charge:
        record["chargeIdentifier"] = charge["chargeIdentifier"]
    plan.order.transactions.append(record)
    if invoice:
        plan.order.documents.append(
            Document(invoice, "CREDIT_MEMO", date, record, method.is_invoice, shipment.digital)
        )
