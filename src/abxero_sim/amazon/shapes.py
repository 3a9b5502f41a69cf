"""Record shapes real Amazon Business accounts send beyond the plain generated ones (knobs).

Every knob is a fraction between 0 and 1 (default 0: off, so the plain stream is unchanged).
Whether a record gets a shape is decided by a hash of the knob's name and the record's
``transactionId`` (itself drawn from the seed), so the same seed always shapes the same
records, knobs do not disturb each other, and turning a knob on changes nothing else. Each
shaped record still obeys Amazon's own arithmetic for that shape.

Sources: the Reconciliation model (``/work/shared/specs/amazon-business/
reconciliation-2021-01-08.json``, "RECON-MODEL") and the team's API notes
(``amazon-business-api.md`` §3.2, §3.3, §6):

* ``refund_positive`` - REFUND/OVERREFUND with a positive ``amount`` and positive line
  amounts. The model's enum table says "REFUND: Negative transaction amount", but the one
  public production integration we know of negates refund amounts itself, which only works if
  Amazon sends them positive; both conventions must be accepted.
* ``vat_inclusive`` (UK records only) - the line's ``principalAmount`` (and shipping, gift
  wrap) already include their VAT: total = principal + shipping + gift wrap + fee + discount,
  with ``tax`` beside it. The notes (§6.8) leave "is UK principalAmount VAT-inclusive?" open.
* ``authorised_amount`` (card charges) - ``amount`` differs from the sum of the line totals:
  RECON-MODEL ``Transaction.amount`` "If the amount is not settled yet, this is the amount for
  which Amazon received an authorization."
* ``split_shared_lines`` - a shipment paid with two instruments where each linked transaction
  (``associatedTransactionDetails``, RECON-MODEL) carries all the shipment's lines but only its
  own ``amount``; the two amounts add up to the lines. Applied while generating, see
  :mod:`.records`.
* ``null_order_info`` - a ``businessOrderInfo`` value that is ``null`` (the checkout field was
  never filled in).
* ``associated_without_id`` - an ``associatedTransactionDetails`` entry without
  ``associatedTransactionId`` (required in the model, but the notes §6.14 say to tolerate
  missing "required" fields).
* ``empty_zero_money`` - zero money fields as ``{"currencyCode": "", "amount": "0"}``, the
  shape Amazon's own invoice-details sample uses (notes §3.3, ``unitTaxInclusivePrice``).
* ``percent_tax_rate`` - ``taxRate``/``shipTaxRate``/``giftWrapTaxRate`` as percentages,
  ``"20"`` or ``"20%"``, instead of ``"0.20"`` (the model types them as free strings).
* ``offset_timestamps`` - date-times with a UTC offset instead of ``Z`` (same instant), or
  without milliseconds (as the sandbox's ``shipmentDate`` "2020-04-03T16:59:21Z").
* ``no_line_items`` - a non-zero ``amount`` with no line items (empty list or no key); every
  line field is optional in the model.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from abxero_sim.amazon.values import cents, money_text

UK_MARKETPLACE = "A1F83G8C2ARO7P"
MONEY_PARTS = ("principalAmount", "shippingCharge", "giftWrappingCharge", "regulatoryFee")
ZERO_PARTS = (*MONEY_PARTS, "discount", "tax")
LOCAL_OFFSETS = {UK_MARKETPLACE: timedelta(hours=1)}
US_OFFSET = timedelta(hours=-8)


@dataclass
class Shapes:
    """The fraction of records that get each shape (see the module docstring)."""

    refund_positive: float = 0.0
    vat_inclusive: float = 0.0
    authorised_amount: float = 0.0
    split_shared_lines: float = 0.0
    null_order_info: float = 0.0
    associated_without_id: float = 0.0
    empty_zero_money: float = 0.0
    percent_tax_rate: float = 0.0
    offset_timestamps: float = 0.0
    no_line_items: float = 0.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(knob.name for knob in fields(cls))

    @classmethod
    def all_on(cls) -> Shapes:
        """Fractions high enough that 90 days of one business show every shape."""
        return cls(
            refund_positive=0.5,
            vat_inclusive=0.3,
            authorised_amount=0.1,
            split_shared_lines=0.15,
            null_order_info=0.1,
            associated_without_id=0.05,
            empty_zero_money=0.1,
            percent_tax_rate=0.1,
            offset_timestamps=0.1,
            no_line_items=0.04,
        )

    def only(self, name: str) -> Shapes:
        """These fractions with every knob but ``name`` off."""
        return replace(Shapes(), **{name: getattr(self, name)})

    def as_json(self) -> dict[str, float]:
        return asdict(self)

    @property
    def any_on(self) -> bool:
        return any(value > 0 for value in self.as_json().values())


def shape_errors(body: dict[str, Any]) -> list[str]:
    """What is wrong with a ``/_sim/shapes`` body (unknown knobs, values outside 0..1)."""
    problems = [f"unknown shape knob {name!r}" for name in body if name not in Shapes.names()]
    for name in Shapes.names():
        value = body.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            problems.append(f"{name} must be a number between 0 and 1")
    return problems


def chosen(fraction: float, knob: str, key: str) -> bool:
    """Whether the record (or shipment) ``key`` gets the shape ``knob`` at ``fraction``."""
    return fraction > 0 and draw(knob, key) < fraction


def draw(knob: str, key: str) -> float:
    """A number in [0, 1) fixed by the knob and the key."""
    digest = hashlib.sha256(f"{knob}/{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def reshape(record: dict[str, Any], shapes: Shapes) -> None:
    """Give ``record`` (in place) the record-level shapes its hash picks."""
    key = str(record.get("transactionId", ""))
    steps = (
        ("vat_inclusive", _vat_inclusive),
        ("refund_positive", _refund_positive),
        ("authorised_amount", _authorised_amount),
        ("empty_zero_money", _empty_zero_money),
        ("percent_tax_rate", _percent_tax_rate),
        ("null_order_info", _null_order_info),
        ("associated_without_id", _associated_without_id),
        ("offset_timestamps", _offset_timestamps),
        ("no_line_items", _no_line_items),
    )
    for name, step in steps:
        if chosen(getattr(shapes, name), name, key):
            step(record, key)


def _lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    lines = record.get("transactionLineItems") or []
    return [line for line in lines if isinstance(line, dict)]


def _amount(line: dict[str, Any], name: str) -> Decimal:
    value = line.get(name)
    return Decimal(value["amount"]) if isinstance(value, dict) else Decimal(0)


def _set(line: dict[str, Any], name: str, value: Decimal, currency: str) -> None:
    line[name] = {"currencyCode": currency, "amount": money_text(value)}


def _vat_inclusive(record: dict[str, Any], key: str) -> None:
    """Fold each part's VAT into the part; the line total and ``tax`` stay as they were."""
    if record.get("marketplaceId") != UK_MARKETPLACE:
        return
    currency = record["amount"]["currencyCode"]
    ship_rate = Decimal(record.get("shipTaxRate") or 0)
    gift_rate = Decimal(record.get("giftWrapTaxRate") or 0)
    for line in _lines(record):
        shipping, gift = _amount(line, "shippingCharge"), _amount(line, "giftWrappingCharge")
        ship_tax, gift_tax = cents(shipping * ship_rate), cents(gift * gift_rate)
        item_tax = _amount(line, "tax") - ship_tax - gift_tax
        principal = _amount(line, "principalAmount") + item_tax
        _set(line, "principalAmount", principal, currency)
        _set(line, "shippingCharge", shipping + ship_tax, currency)
        if gift:
            _set(line, "giftWrappingCharge", gift + gift_tax, currency)
        quantity = line.get("itemQuantity") or 1
        _set(line, "unitPrice", cents(principal / quantity), currency)


def _refund_positive(record: dict[str, Any], key: str) -> None:
    """Every amount of a refund written as its magnitude."""
    if record.get("transactionType") not in ("REFUND", "OVERREFUND"):
        return
    for money in _money_fields(record):
        money["amount"] = money_text(abs(Decimal(money["amount"])))


def _money_fields(record: dict[str, Any]) -> list[dict[str, Any]]:
    found = [record["amount"]]
    for line in _lines(record):
        found += [value for value in line.values() if isinstance(value, dict) and "amount" in value]
    return found


def _authorised_amount(record: dict[str, Any], key: str) -> None:
    """An unsettled card charge: the authorised amount, 1-15 % above or below the lines."""
    if record.get("transactionType") != "CHARGE" or not record.get("paymentInstrumentLast4Digits"):
        return
    settled = Decimal(record["amount"]["amount"])
    share = Decimal(1 + int(draw("authorised_share", key) * 15)) / 100
    sign = -1 if draw("authorised_sign", key) < 1 / 3 else 1
    delta = max(cents(settled * share), Decimal("0.01"))
    record["amount"]["amount"] = money_text(settled + sign * delta)


def _empty_zero_money(record: dict[str, Any], key: str) -> None:
    """Zero line parts (present or not) as Amazon's empty zero money object."""
    for line in _lines(record):
        for name in ZERO_PARTS:
            if _amount(line, name) == 0:
                line[name] = {"currencyCode": "", "amount": "0"}


def _percent_tax_rate(record: dict[str, Any], key: str) -> None:
    """Rates as percentages; half the records with a ``%`` sign."""
    sign = "%" if draw("percent_sign", key) < 0.5 else ""
    for holder, name in [(record, "shipTaxRate"), (record, "giftWrapTaxRate")] + [
        (line, "taxRate") for line in _lines(record)
    ]:
        if isinstance(holder.get(name), str) and holder[name]:
            percent = (Decimal(holder[name]) * 100).normalize()
            holder[name] = format(percent, "f") + sign


def _null_order_info(record: dict[str, Any], key: str) -> None:
    """One checkout field left null: an empty one if there is one, else the last."""
    for line in _lines(record):
        info = line.get("businessOrderInfo")
        if isinstance(info, dict) and info:
            empty = [label for label, value in info.items() if value == ""]
            info[empty[0] if empty else list(info)[-1]] = None


def _associated_without_id(record: dict[str, Any], key: str) -> None:
    details = record.get("associatedTransactionDetails") or []
    record["associatedTransactionDetails"] = [*details, {}]


def _offset_timestamps(record: dict[str, Any], key: str) -> None:
    """The same instants with the local offset, or in UTC without milliseconds."""
    offset = LOCAL_OFFSETS.get(str(record.get("marketplaceId")), US_OFFSET)
    with_offset = draw("offset_kind", key) < 0.5
    holders = [(record, "transactionDate"), (record, "feedDate")]
    holders += [(line, "shipmentDate") for line in _lines(record)]
    for holder, name in holders:
        if isinstance(holder.get(name), str):
            moment = datetime.fromisoformat(holder[name].replace("Z", "+00:00"))
            holder[name] = (
                moment.astimezone(timezone(offset)).isoformat(timespec="milliseconds")
                if with_offset
                else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            )


def _no_line_items(record: dict[str, Any], key: str) -> None:
    if draw("no_lines_kind", key) < 0.5:
        record["transactionLineItems"] = []
    else:
        record.pop("transactionLineItems", None)
