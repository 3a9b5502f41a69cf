"""Amazon Business Reconciliation transactions as the rest of abxero sees them.

``parse_transaction`` turns one raw record of ``getTransactions`` into a :class:`Transaction`
or, when the data itself is wrong, a :class:`Quarantined` item that keeps the raw JSON and says
why. It never raises for bad data. Amounts are parsed from Amazon's strings into ``Decimal``.

Arithmetic Amazon's data obeys, and which is checked here:

* a line's ``totalAmount`` = principal + shipping + gift wrap + regulatory fee + discount + tax
  (a missing part counts as zero; discounts are negative);
* the transaction ``amount`` = the sum of its lines' ``totalAmount``;
* a CHARGE is not negative, a REFUND or OVERREFUND is not positive;
* every amount of a transaction is in the transaction's currency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from abxero.domain.currencies import ISO_4217


class TransactionType(StrEnum):
    CHARGE = "CHARGE"
    REFUND = "REFUND"
    OVERREFUND = "OVERREFUND"

    @property
    def is_refund(self) -> bool:
        return self is not TransactionType.CHARGE


PAY_BY_INVOICE_HINTS = ("invoice", "paystation")


@dataclass(frozen=True, order=True)
class Instrument:
    """A payment instrument as the mapping knows it: Amazon's type text and last four digits."""

    kind: str
    last4: str = ""

    @property
    def key(self) -> str:
        """A stable text key, e.g. ``"Visa/1234"`` (used in the stored mapping)."""
        return f"{self.kind}/{self.last4}" if self.last4 else self.kind

    @property
    def looks_like_pay_by_invoice(self) -> bool:
        lowered = self.kind.lower().replace(" ", "")
        return any(hint in lowered for hint in PAY_BY_INVOICE_HINTS)

    @property
    def label(self) -> str:
        return f"{self.kind} ending {self.last4}" if self.last4 else self.kind


@dataclass(frozen=True)
class LineItem:
    """One ``TransactionLineItem``; signs follow the transaction (negative on refunds)."""

    order_id: str
    order_line_item_id: str
    title: str
    quantity: int
    principal: Decimal
    shipping: Decimal
    gift_wrap: Decimal
    regulatory_fee: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None
    asin: str = ""
    unspsc: str = ""
    shipment_id: str = ""
    shipment_date: datetime | None = None
    seller: str = ""
    purchase_order_number: str = ""
    refund_reason: str = ""
    business_order_info: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transaction:
    """One payment event on one instrument: one line on the card statement."""

    transaction_id: str
    transaction_type: TransactionType
    transaction_date: datetime
    feed_date: datetime
    currency: str
    amount: Decimal
    instrument: Instrument
    line_items: tuple[LineItem, ...]
    marketplace_id: str = ""
    charge_identifier: str = ""
    invoice_number: str = ""
    legal_entity: str = ""
    purchasing_group: str = ""
    buyer_name: str = ""
    ship_tax_rate: Decimal | None = None
    gift_wrap_tax_rate: Decimal | None = None
    associated_transaction_ids: tuple[str, ...] = ()

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.line_items), Decimal(0))

    @property
    def order_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.order_id for line in self.line_items if line.order_id))


@dataclass(frozen=True)
class Quarantined:
    """A record whose data is wrong; kept with its raw JSON so nothing is lost."""

    transaction_id: str | None
    reason: str
    raw: Mapping[str, Any]


class RecordError(ValueError):
    """Raised inside the parser for a record that cannot be trusted; becomes ``Quarantined``."""


LINE_PARTS = (
    "principalAmount",
    "shippingCharge",
    "giftWrappingCharge",
    "regulatoryFee",
    "discount",
    "tax",
)


def parse_transaction(raw: Any) -> Transaction | Quarantined:
    """Parse one raw Amazon transaction strictly; bad data comes back quarantined."""
    if not isinstance(raw, Mapping):
        return Quarantined(
            None, f"record is {type(raw).__name__}, not a JSON object", {"value": raw}
        )
    transaction_id = raw.get("transactionId")
    known_id = transaction_id if isinstance(transaction_id, str) and transaction_id else None
    try:
        return _parse(raw)
    except RecordError as problem:
        return Quarantined(known_id, str(problem), raw)


def _parse(raw: Mapping[str, Any]) -> Transaction:
    transaction_id = _required_text(raw, "transactionId")
    kind = _transaction_type(raw.get("transactionType"))
    amount, currency = _money(raw.get("amount"), "amount")
    lines = tuple(_line(item, index, currency) for index, item in enumerate(_lines(raw)))
    transaction = Transaction(
        transaction_id=transaction_id,
        transaction_type=kind,
        transaction_date=_moment(raw.get("transactionDate"), "transactionDate"),
        feed_date=_moment(raw.get("feedDate"), "feedDate"),
        currency=currency,
        amount=amount,
        instrument=Instrument(
            kind=_optional_text(raw, "paymentInstrumentType") or "Unknown instrument",
            last4=_optional_text(raw, "paymentInstrumentLast4Digits"),
        ),
        line_items=lines,
        marketplace_id=_optional_text(raw, "marketplaceId"),
        charge_identifier=_optional_text(raw, "chargeIdentifier"),
        invoice_number=_optional_text(raw, "invoiceNumber"),
        legal_entity=_optional_text(raw, "legalEntityName"),
        purchasing_group=_optional_text(raw, "purchasingCustomerGroupName"),
        buyer_name=_customer_name(raw.get("buyer")),
        ship_tax_rate=_rate(raw.get("shipTaxRate"), "shipTaxRate"),
        gift_wrap_tax_rate=_rate(raw.get("giftWrapTaxRate"), "giftWrapTaxRate"),
        associated_transaction_ids=_associated(raw.get("associatedTransactionDetails")),
    )
    _check_sums(transaction)
    return transaction


def _check_sums(transaction: Transaction) -> None:
    lines_total = sum((line.total for line in transaction.line_items), Decimal(0))
    if transaction.line_items and lines_total != transaction.amount:
        raise RecordError(
            f"amount {transaction.amount} does not equal the sum of its line totals {lines_total}"
        )
    if not transaction.line_items and transaction.amount != 0:
        raise RecordError(f"amount {transaction.amount} but the transaction has no line items")
    if transaction.transaction_type is TransactionType.CHARGE and transaction.amount < 0:
        raise RecordError(f"CHARGE with a negative amount {transaction.amount}")
    if transaction.transaction_type.is_refund and transaction.amount > 0:
        raise RecordError(
            f"{transaction.transaction_type.value} with a positive amount {transaction.amount}"
        )


def _lines(raw: Mapping[str, Any]) -> list[Any]:
    items = raw.get("transactionLineItems", [])
    if items is None:
        return []
    if not isinstance(items, list):
        raise RecordError("transactionLineItems is not a list")
    return items


def _line(raw: Any, index: int, currency: str) -> LineItem:
    where = f"transactionLineItems[{index}]"
    if not isinstance(raw, Mapping):
        raise RecordError(f"{where} is not a JSON object")
    parts = {name: _line_money(raw, name, where, currency) for name in LINE_PARTS}
    total = _line_money(raw, "totalAmount", where, currency, required=True)
    added = sum(parts.values(), Decimal(0))
    if added != total:
        raise RecordError(
            f"{where}.totalAmount {total} does not equal principal + charges + discount + tax "
            f"= {added}"
        )
    unit_price = _line_money(raw, "unitPrice", where, currency) if "unitPrice" in raw else None
    return LineItem(
        order_id=_optional_text(raw, "orderId"),
        order_line_item_id=_optional_text(raw, "orderLineItemId"),
        title=_optional_text(raw, "productTitle"),
        quantity=_quantity(raw.get("itemQuantity"), where),
        principal=parts["principalAmount"],
        shipping=parts["shippingCharge"],
        gift_wrap=parts["giftWrappingCharge"],
        regulatory_fee=parts["regulatoryFee"],
        discount=parts["discount"],
        tax=parts["tax"],
        total=total,
        unit_price=unit_price,
        tax_rate=_rate(raw.get("taxRate"), f"{where}.taxRate"),
        asin=_optional_text(raw, "asin"),
        unspsc=_optional_text(raw, "unspsc"),
        shipment_id=_optional_text(raw, "shipmentId"),
        shipment_date=_optional_moment(raw.get("shipmentDate"), f"{where}.shipmentDate"),
        seller=_optional_text(raw, "merchantLegalName"),
        purchase_order_number=_optional_text(raw, "purchaseOrderNumber"),
        refund_reason=_optional_text(raw, "refundReason"),
        business_order_info=_business_order_info(raw.get("businessOrderInfo"), where),
    )


def _line_money(
    raw: Mapping[str, Any], name: str, where: str, currency: str, *, required: bool = False
) -> Decimal:
    value = raw.get(name)
    if value is None:
        if required:
            raise RecordError(f"{where}.{name} is missing")
        return Decimal(0)
    amount, line_currency = _money(value, f"{where}.{name}")
    if line_currency != currency:
        raise RecordError(
            f"{where}.{name} is in {line_currency} but the transaction is in {currency}"
        )
    return amount


def _money(value: Any, where: str) -> tuple[Decimal, str]:
    if not isinstance(value, Mapping):
        raise RecordError(f"{where} is missing or not a Money object")
    currency = value.get("currencyCode")
    if not isinstance(currency, str) or currency not in ISO_4217:
        raise RecordError(f"{where}.currencyCode {currency!r} is not a known ISO 4217 currency")
    return _decimal(value.get("amount"), f"{where}.amount"), currency


DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise RecordError(f"{where} must be a decimal string, got {type(value).__name__}")
    text = value.strip()
    if not DECIMAL_TEXT.match(text):
        raise RecordError(f"{where} {value!r} is not a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation as problem:  # pragma: no cover - the pattern already excludes this
        raise RecordError(f"{where} {value!r} is not a decimal number") from problem


def _rate(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    rate = _decimal(value, where)
    if rate < 0 or rate > 1:
        raise RecordError(f"{where} {value!r} is not a rate between 0 and 1")
    return rate


def _transaction_type(value: Any) -> TransactionType:
    if not isinstance(value, str):
        raise RecordError("transactionType is missing")
    try:
        return TransactionType(value.strip().upper())
    except ValueError as problem:
        raise RecordError(f"unknown transactionType {value!r}") from problem


def _moment(value: Any, where: str) -> datetime:
    moment = _optional_moment(value, where)
    if moment is None:
        raise RecordError(f"{where} is missing")
    return moment


def _optional_moment(value: Any, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where} must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as problem:
        raise RecordError(f"{where} {value!r} is not an ISO 8601 date-time") from problem
    if moment.tzinfo is None:
        raise RecordError(f"{where} {value!r} has no time zone")
    return moment


def _quantity(value: Any, where: str) -> int:
    if value is None:
        return 1
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RecordError(f"{where}.itemQuantity {value!r} is not a whole number")
    return value


def _required_text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{name} is missing")
    return value


def _optional_text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a string, got {type(value).__name__}")
    return value.strip()


def _customer_name(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return str(value["name"])
    return ""


def _associated(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if not isinstance(value, list):
        raise RecordError("associatedTransactionDetails is not a list")
    ids = []
    for detail in value:
        identifier = detail.get("associatedTransactionId") if isinstance(detail, Mapping) else None
        if not isinstance(identifier, str) or not identifier:
            raise RecordError("associatedTransactionDetails entry without associatedTransactionId")
        ids.append(identifier)
    return tuple(ids)


def _business_order_info(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecordError(f"{where}.businessOrderInfo is not an object")
    info: dict[str, str] = {}
    for label, entry in value.items():
        if not isinstance(entry, str):
            raise RecordError(f"{where}.businessOrderInfo[{label!r}] is not a string")
        info[str(label)] = entry
    return info
