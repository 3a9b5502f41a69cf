"""Amazon Business Reconciliation transactions as the rest of abxero sees them.

``parse_transaction`` turns one raw record of ``getTransactions`` into a :class:`Transaction`
or, when the record cannot be posted at all, a :class:`Quarantined` item that keeps the raw JSON
and says why. It never raises. Amounts are parsed from Amazon's strings into ``Decimal``.

The transaction's ``amount`` is the truth (the Reconciliation model: "the amount charged ...
If the amount is not settled yet, this is the amount for which Amazon received an
authorization"). A record is quarantined only when its id, type, amount or currency cannot be
read, when it has no readable date, or when a value cannot be stored (see
:data:`QUARANTINE_REASONS`). Everything else is accepted as real accounts send it:

* signs: the model's enum text says a REFUND is negative, but integrations that process refunds
  negate the amount themselves, so both conventions are accepted; amounts are normalised to the
  model's (CHARGE positive, REFUND / OVERREFUND negative) from ``transactionType``;
* a line's ``totalAmount`` is either principal + charges + discount + tax (VAT exclusive) or
  principal + charges + discount with the tax already inside them (VAT inclusive, seen on UK
  accounts; the model only says "principalAmount plus or minus any additional charges or
  credits"); inclusive lines are turned into exclusive parts here;
* split payments: each sibling (``associatedTransactionDetails``) may carry the whole order's
  lines with its own, smaller amount; its lines are then scaled to its share of the order;
* any other difference between the amount and the lines is left to the planner, which posts it
  on an explicit "Amazon adjustment" line (:attr:`Transaction.unexplained`);
* informational fields that cannot be read (titles, rates, order info, linked ids, dates of
  shipment, ...) are ignored; the raw record keeps them.

What may need a person's eye is collected in :attr:`Transaction.notes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
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

    @property
    def sign(self) -> int:
        """The sign of the amount in the model's convention."""
        return -1 if self.is_refund else 1


PAY_BY_INVOICE_HINTS = ("invoice", "paystation")


@dataclass(frozen=True, order=True)
class Instrument:
    """A payment instrument as the mapping knows it: Amazon's type text and last four digits."""

    kind: str
    last4: str = ""

    @property
    def key(self) -> str:
        """A stable text key, e.g. ``"Visa/1234"`` (used in the stored mapping).

        :meth:`from_key` reads it back.
        """
        return f"{self.kind}/{self.last4}" if self.last4 else self.kind

    @classmethod
    def from_key(cls, key: str) -> Instrument:
        """The instrument whose :attr:`key` is ``key``.

        The split is at the *last* ``/``. ``paymentInstrumentType`` is free text with no enum
        (reconciliation-2021-01-08.json; amazon-business-api.md §3.2), so a type such as
        ``"Credit/Debit card"`` may hold the separator, while ``paymentInstrumentLast4Digits``
        is "the last 4 digits" of the instrument and so never does. What follows the last ``/``
        is taken as the digits only when it is digits and something precedes it; otherwise the
        whole key is the type. This inverts ``key`` for every instrument with a type and no or
        all-digit ``last4`` except a type that itself ends in ``/`` and digits with no ``last4``
        (``Instrument("Card/1234").key == Instrument("Card", "1234").key``): the key format
        cannot tell those two apart.
        """
        kind, _, last4 = key.rpartition("/")
        if kind and last4.isdigit():
            return cls(kind, last4)
        return cls(key)

    @property
    def looks_like_pay_by_invoice(self) -> bool:
        lowered = self.kind.lower().replace(" ", "")
        return any(hint in lowered for hint in PAY_BY_INVOICE_HINTS)

    @property
    def label(self) -> str:
        return f"{self.kind} ending {self.last4}" if self.last4 else self.kind


@dataclass(frozen=True)
class LineItem:
    """One ``TransactionLineItem``, VAT exclusive; signs follow the model (negative on refunds).

    ``vat_inclusive`` says Amazon sent the tax inside principal and charges; the parts here have
    been reduced to their net amounts, so ``total`` = the parts + ``tax`` always holds.
    """

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
    vat_inclusive: bool = False

    @property
    def parts(self) -> tuple[Decimal, ...]:
        """Principal, shipping, gift wrap, regulatory fee, discount, tax (in that order)."""
        return (
            self.principal,
            self.shipping,
            self.gift_wrap,
            self.regulatory_fee,
            self.discount,
            self.tax,
        )

    def with_parts(self, parts: Sequence[Decimal]) -> LineItem:
        principal, shipping, gift_wrap, fee, discount, tax = parts
        return replace(
            self,
            principal=principal,
            shipping=shipping,
            gift_wrap=gift_wrap,
            regulatory_fee=fee,
            discount=discount,
            tax=tax,
            total=sum(parts, Decimal(0)),
        )


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
    notes: tuple[str, ...] = ()

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.line_items), Decimal(0))

    @property
    def lines_total(self) -> Decimal:
        return sum((line.total for line in self.line_items), Decimal(0))

    @property
    def unexplained(self) -> Decimal:
        """What the amount holds beyond its lines (model signs); posted as an adjustment."""
        return self.amount - self.lines_total

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
    """Raised inside the parser for a record that cannot be posted; becomes ``Quarantined``."""


class LineError(ValueError):
    """A line whose money cannot be read; the line is left out and the amount still posts."""


LINE_PARTS = (
    "principalAmount",
    "shippingCharge",
    "giftWrappingCharge",
    "regulatoryFee",
    "discount",
    "tax",
)

ID_LIMIT = 128
"""The ledger keys transactions by id in a 128-character column."""
INSTRUMENT_LIMIT = 190
"""The ledger keeps ``Instrument.key`` in a 200-character column."""
AMOUNT_LIMIT = Decimal(10) ** 15
"""Money is stored as ``Numeric(18, 2)``; Xero's own totals stay far below this."""

QUARANTINE_REASONS = (
    "not a JSON object",
    "transactionId is missing",
    "transactionId cannot be stored",
    "transactionType is missing",
    "unknown transactionType",
    "amount is missing or not a Money object",
    "amount.currencyCode",
    "amount.amount",
    "amount cannot be stored",
    "paymentInstrument cannot be stored",
    "no readable date",
)
"""The start of every reason a record is quarantined for (each reason contains one of these)."""


def parse_transaction(raw: Any) -> Transaction | Quarantined:
    """Parse one raw Amazon transaction; only an unpostable record comes back quarantined."""
    if not isinstance(raw, Mapping):
        return Quarantined(
            None, f"record is {type(raw).__name__}, not a JSON object", {"value": raw}
        )
    transaction_id = raw.get("transactionId")
    known_id = (
        transaction_id
        if isinstance(transaction_id, str) and transaction_id and _storable(transaction_id)
        else None
    )
    try:
        return _parse(raw)
    except RecordError as problem:
        return Quarantined(known_id, str(problem), raw)


def _storable(text: str) -> bool:
    return len(text) <= ID_LIMIT and "\x00" not in text


def _parse(raw: Mapping[str, Any]) -> Transaction:
    transaction_id = _transaction_id(raw)
    kind = _transaction_type(raw.get("transactionType"))
    amount, currency = _amount(raw.get("amount"))
    notes: list[str] = []
    instrument = _instrument(raw)
    moment = _record_date(raw, notes)
    ship_rate = _rate(raw.get("shipTaxRate"))
    wrap_rate = _rate(raw.get("giftWrapTaxRate"))
    lines = _read_lines(raw, currency, ship_rate, wrap_rate, notes)
    amount = _signed_amount(amount, kind, notes)
    lines = _signed_lines(lines, kind, notes)
    associated = _associated(raw.get("associatedTransactionDetails"))
    if associated:
        lines = _share_of_order(lines, amount)
    return Transaction(
        transaction_id=transaction_id,
        transaction_type=kind,
        transaction_date=moment,
        feed_date=_optional_moment(raw.get("feedDate"), notes, "feedDate") or moment,
        currency=currency,
        amount=amount,
        instrument=instrument,
        line_items=lines,
        marketplace_id=_optional_text(raw, "marketplaceId"),
        charge_identifier=_optional_text(raw, "chargeIdentifier"),
        invoice_number=_optional_text(raw, "invoiceNumber"),
        legal_entity=_optional_text(raw, "legalEntityName"),
        purchasing_group=_optional_text(raw, "purchasingCustomerGroupName"),
        buyer_name=_customer_name(raw.get("buyer")),
        ship_tax_rate=ship_rate,
        gift_wrap_tax_rate=wrap_rate,
        associated_transaction_ids=associated,
        notes=tuple(notes),
    )


# -- the four things a record cannot do without -------------------------------------------------


def _transaction_id(raw: Mapping[str, Any]) -> str:
    value = raw.get("transactionId")
    if not isinstance(value, str) or not value.strip():
        raise RecordError("transactionId is missing")
    if len(value) > ID_LIMIT:
        raise RecordError(
            f"transactionId cannot be stored: {len(value)} characters, the limit is {ID_LIMIT}"
        )
    if "\x00" in value:
        raise RecordError("transactionId cannot be stored: it contains a NUL character")
    return value


def _transaction_type(value: Any) -> TransactionType:
    if not isinstance(value, str):
        raise RecordError("transactionType is missing")
    try:
        return TransactionType(value.strip().upper())
    except ValueError as problem:
        raise RecordError(f"unknown transactionType {value!r}") from problem


def _amount(value: Any) -> tuple[Decimal, str]:
    if not isinstance(value, Mapping):
        raise RecordError("amount is missing or not a Money object")
    currency = value.get("currencyCode")
    if not isinstance(currency, str) or currency.strip().upper() not in ISO_4217:
        raise RecordError(f"amount.currencyCode {currency!r} is not a known ISO 4217 currency")
    text = value.get("amount")
    if not isinstance(text, str):
        raise RecordError(f"amount.amount must be a decimal string, got {type(text).__name__}")
    amount = _decimal(text)
    if amount is None:
        raise RecordError(f"amount.amount {text!r} is not a decimal number")
    if abs(amount) >= AMOUNT_LIMIT:
        raise RecordError(f"amount cannot be stored: {amount} is beyond {AMOUNT_LIMIT:,}")
    if amount != amount.quantize(CENT):
        raise RecordError(f"amount cannot be stored: {amount} is not a whole number of cents")
    return amount, currency.strip().upper()


def _instrument(raw: Mapping[str, Any]) -> Instrument:
    kind = _optional_text(raw, "paymentInstrumentType") or "Unknown instrument"
    last4 = _optional_text(raw, "paymentInstrumentLast4Digits")
    instrument = Instrument(kind=kind, last4=last4)
    if len(instrument.key) > INSTRUMENT_LIMIT:
        raise RecordError(
            f"paymentInstrument cannot be stored: {instrument.key[:40]!r}... is longer than "
            f"{INSTRUMENT_LIMIT} characters"
        )
    return instrument


def _record_date(raw: Mapping[str, Any], notes: list[str]) -> datetime:
    for name in ("transactionDate", "feedDate"):
        moment = _optional_moment(raw.get(name), notes, name)
        if moment is not None:
            if name != "transactionDate":
                notes.append(f"transactionDate could not be read; dated by {name}")
            return moment
    raise RecordError("no readable date: transactionDate and feedDate are missing or unreadable")


# -- signs and shares ----------------------------------------------------------------------------


def _signed_amount(amount: Decimal, kind: TransactionType, notes: list[str]) -> Decimal:
    """The amount in the model's sign convention; a refund may arrive either way."""
    if amount * kind.sign >= 0:
        return amount
    if kind is TransactionType.CHARGE:
        notes.append(
            f"CHARGE sent with a negative amount {amount}; posted as a charge of {-amount}"
        )
    return -amount


def _signed_lines(
    lines: tuple[LineItem, ...], kind: TransactionType, notes: list[str]
) -> tuple[LineItem, ...]:
    """Lines in the model's convention, judged by the sign of their sum."""
    total = sum((line.total for line in lines), Decimal(0))
    if total * kind.sign < 0:
        lines = tuple(line.with_parts([-part for part in line.parts]) for line in lines)
    if any(line.total * kind.sign < 0 for line in lines):
        notes.append(
            f"the lines of this {kind.value} carry both signs; each is posted as sent, relative "
            "to the others"
        )
    return lines


def _share_of_order(lines: tuple[LineItem, ...], amount: Decimal) -> tuple[LineItem, ...]:
    """A split payment's lines scaled to its amount when it carries the whole order's lines."""
    order_total = sum((line.total for line in lines), Decimal(0))
    if not lines or order_total == 0 or order_total == amount:
        return lines
    if amount * order_total < 0 or abs(amount) > abs(order_total):
        return lines
    parts = [part for line in lines for part in line.parts]
    shares = apportion(parts, amount)
    size = len(LINE_PARTS)
    return tuple(
        line.with_parts(shares[index * size : (index + 1) * size])
        for index, line in enumerate(lines)
    )


CENT = Decimal("0.01")


def apportion(values: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """``values`` scaled so they sum to ``total`` in whole cents.

    Each share is rounded half up; what rounding leaves over goes to the value largest in size
    (the first of equals), so the result is deterministic.
    """
    whole = sum(values, Decimal(0))
    if whole == 0:
        raise ValueError("cannot apportion over values that sum to zero")
    shares = [(value * total / whole).quantize(CENT, rounding=ROUND_HALF_UP) for value in values]
    left = total - sum(shares, Decimal(0))
    if left:
        largest = max(range(len(values)), key=lambda index: (abs(values[index]), -index))
        shares[largest] += left
    return shares


# -- lines ---------------------------------------------------------------------------------------


def _read_lines(
    raw: Mapping[str, Any],
    currency: str,
    ship_rate: Decimal | None,
    wrap_rate: Decimal | None,
    notes: list[str],
) -> tuple[LineItem, ...]:
    items = raw.get("transactionLineItems")
    if items is None:
        return ()
    if not isinstance(items, list):
        notes.append("transactionLineItems is not a list; the amount is posted without line detail")
        return ()
    lines = []
    for index, item in enumerate(items):
        where = f"transactionLineItems[{index}]"
        try:
            lines.append(_line(item, where, currency, ship_rate, wrap_rate, notes))
        except LineError as problem:
            notes.append(f"{where} left out: {problem}")
    return tuple(lines)


def _line(
    raw: Any,
    where: str,
    currency: str,
    ship_rate: Decimal | None,
    wrap_rate: Decimal | None,
    notes: list[str],
) -> LineItem:
    if not isinstance(raw, Mapping):
        raise LineError("it is not a JSON object")
    parts = [_line_money(raw.get(name), name, currency, notes, where) for name in LINE_PARTS]
    total = (
        _line_money(raw.get("totalAmount"), "totalAmount", currency, notes, where)
        if raw.get("totalAmount") is not None
        else None
    )
    rate = _rate(raw.get("taxRate"))
    line = LineItem(
        order_id=_optional_text(raw, "orderId"),
        order_line_item_id=_optional_text(raw, "orderLineItemId"),
        title=_optional_text(raw, "productTitle"),
        quantity=_quantity(raw.get("itemQuantity")),
        principal=Decimal(0),
        shipping=Decimal(0),
        gift_wrap=Decimal(0),
        regulatory_fee=Decimal(0),
        discount=Decimal(0),
        tax=Decimal(0),
        total=Decimal(0),
        unit_price=_optional_money(raw.get("unitPrice")),
        tax_rate=rate,
        asin=_optional_text(raw, "asin"),
        unspsc=_optional_text(raw, "unspsc"),
        shipment_id=_optional_text(raw, "shipmentId"),
        shipment_date=_optional_moment(raw.get("shipmentDate"), [], "shipmentDate"),
        seller=_optional_text(raw, "merchantLegalName"),
        purchase_order_number=_optional_text(raw, "purchaseOrderNumber"),
        refund_reason=_optional_text(raw, "refundReason"),
        business_order_info=_business_order_info(raw.get("businessOrderInfo")),
    )
    return _with_total(line, parts, total, (ship_rate, wrap_rate), notes, where)


def _with_total(
    line: LineItem,
    parts: list[Decimal],
    total: Decimal | None,
    extra_rates: tuple[Decimal | None, Decimal | None],
    notes: list[str],
    where: str,
) -> LineItem:
    """The line with exclusive parts: VAT inclusive or exclusive, told apart by the arithmetic."""
    exclusive = sum(parts, Decimal(0))
    tax = parts[-1]
    if total is None or total == exclusive:
        return line.with_parts(parts)
    if tax != 0 and total == exclusive - tax:
        rates = (line.tax_rate, *extra_rates)
        return replace(line.with_parts(_net_parts(parts, rates)), vat_inclusive=True)
    notes.append(
        f"{where}.totalAmount {total} is neither principal + charges + discount + tax "
        f"({exclusive}) nor the same with the tax included ({exclusive - tax}); the parts are "
        "posted and the difference to the amount goes on the adjustment line"
    )
    return line.with_parts(parts)


def _net_parts(
    parts: list[Decimal], rates: tuple[Decimal | None, Decimal | None, Decimal | None]
) -> list[Decimal]:
    """Gross parts + their tax → net parts + the same tax; charges first, the item takes the rest.

    A charge's VAT is gross × rate / (1 + rate), rounded half up to the cent, at its own rate
    (shipping at ``shipTaxRate``, gift wrap at ``giftWrapTaxRate``, the rest at the line's).
    """
    principal, shipping, gift_wrap, fee, discount, tax = parts
    line_rate, ship_rate, wrap_rate = rates
    base = line_rate or Decimal(0)
    charged = (
        (shipping, base if ship_rate is None else ship_rate),
        (gift_wrap, base if wrap_rate is None else wrap_rate),
        (fee, base),
        (discount, base),
    )
    taxes = [_inclusive_tax(gross, rate) for gross, rate in charged]
    net = [gross - share for (gross, _), share in zip(charged, taxes, strict=True)]
    principal_tax = tax - sum(taxes, Decimal(0))
    return [principal - principal_tax, *net, tax]


def _inclusive_tax(gross: Decimal, rate: Decimal) -> Decimal:
    return (gross * rate / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _line_money(value: Any, name: str, currency: str, notes: list[str], where: str) -> Decimal:
    """A money part of a line: missing is zero; a zero needs no currency (Amazon sends ``""``)."""
    if value is None:
        return Decimal(0)
    if not isinstance(value, Mapping):
        raise LineError(f"{name} is not a Money object")
    amount = _decimal(value.get("amount"))
    if amount is None:
        raise LineError(f"{name}.amount {value.get('amount')!r} is not a decimal number")
    if amount == 0:
        return Decimal(0)
    if abs(amount) >= AMOUNT_LIMIT or amount != amount.quantize(CENT):
        raise LineError(f"{name} {amount} cannot be stored as cents")
    code = value.get("currencyCode")
    text = code.strip().upper() if isinstance(code, str) else ""
    if text and text != currency:
        raise LineError(f"{name} is in {text} but the transaction is in {currency}")
    if not text:
        notes.append(f"{where}.{name} has no currency; taken as {currency}")
    return amount


def _optional_money(value: Any) -> Decimal | None:
    if not isinstance(value, Mapping):
        return None
    return _decimal(value.get("amount"))


# -- values --------------------------------------------------------------------------------------


DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _decimal(value: Any, *, numbers: bool = False) -> Decimal | None:
    """A finite decimal from Amazon's text, else ``None``.

    Money is text in the model (``Money.amount`` is a string), so a JSON number is unreadable
    there; ``numbers`` allows one where the value is not money (rates, quantities).
    """
    if isinstance(value, bool):
        return None
    if numbers and isinstance(value, int | Decimal):
        number = Decimal(value)
        return number if number.is_finite() else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not DECIMAL_TEXT.match(text) or len(text) > 40:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        return None


def _rate(value: Any) -> Decimal | None:
    """A tax rate as a fraction: ``"0.2"``, ``"20"`` and ``"20%"`` are all 20 %.

    The model types ``taxRate`` as a free string; a number above 1 or with a ``%`` sign is a
    percentage. Anything else unreadable is ignored (``None``).
    """
    percent = isinstance(value, str) and value.strip().endswith("%")
    rate = _decimal(value.strip().rstrip("%") if isinstance(value, str) else value, numbers=True)
    if rate is None or rate < 0:
        return None
    if percent or rate > 1:
        rate = rate / 100
    return rate if rate <= 1 else None


def _optional_moment(value: Any, notes: list[str], name: str) -> datetime | None:
    """An ISO 8601 time; with an offset or Z, with or without fractions; no zone means UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        notes.append(f"{name} {value!r} has no time zone; taken as UTC")
        moment = moment.replace(tzinfo=UTC)
    return moment


def _quantity(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
        return value
    number = _decimal(value, numbers=True)
    if number is not None and number == number.to_integral_value() and 0 <= number < 10**9:
        return int(number)
    return 1


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def _optional_text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return ""


def _customer_name(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return _clean(str(value["name"]))
    return ""


def _associated(value: Any) -> tuple[str, ...]:
    """Ids of the other transactions of a split payment; entries without an id are ignored."""
    if not isinstance(value, list):
        return ()
    ids = []
    for detail in value:
        identifier = detail.get("associatedTransactionId") if isinstance(detail, Mapping) else None
        if isinstance(identifier, str) and _clean(identifier):
            ids.append(_clean(identifier))
    return tuple(ids)


def _business_order_info(value: Any) -> dict[str, str]:
    """Text values of Business Order Info; other shapes (null, lists, numbers) are ignored."""
    if not isinstance(value, Mapping):
        return {}
    info: dict[str, str] = {}
    for label, entry in value.items():
        if isinstance(entry, str):
            info[_clean(str(label))] = _clean(entry)
        elif isinstance(entry, int | Decimal) and not isinstance(entry, bool):
            info[_clean(str(label))] = str(entry)
    return info
