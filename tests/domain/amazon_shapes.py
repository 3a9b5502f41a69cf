"""Records as real Amazon Business accounts send them, one builder per shape.

Each shape is allowed by the Reconciliation model
(``/work/shared/specs/amazon-business/reconciliation-2021-01-08.json``) even where it differs from
the model's prose; the names are what the reliability table and the golden files refer to.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.domain.domain_records import amazon_line, amazon_transaction, money

GBP, USD = "GBP", "USD"
ORDER_UK = "202-5555555-0000001"
ORDER_US = "113-5555555-0000001"


def _uk_charge(transaction_id: str = "uk-1") -> dict[str, Any]:
    line = amazon_line(
        GBP,
        principal="261.15",
        tax="52.23",
        tax_rate="0.20",
        title="Office chair",
        orderId=ORDER_UK,
        orderLineItemId="li-1",
    )
    return amazon_transaction(transaction_id, [line], currency=GBP, last4="4242")


def positive_refund() -> dict[str, Any]:
    """REFUND whose amount and lines are positive (the sign only in ``transactionType``)."""
    line = amazon_line(
        USD, principal="40.00", tax="2.80", tax_rate="0.07", title="Desk lamp", orderId=ORDER_US
    )
    record = amazon_transaction(
        "pos-refund", [line], currency=USD, kind="REFUND", instrument="Amex", last4="1001"
    )
    line["refundReason"] = "Damaged"
    return record


def positive_overrefund() -> dict[str, Any]:
    """OVERREFUND sent positive, UK."""
    line = amazon_line(GBP, principal="5.00", tax="1.00", tax_rate="0.20", orderId=ORDER_UK)
    return amazon_transaction("pos-over", [line], currency=GBP, kind="OVERREFUND", last4="4242")


def vat_inclusive_line() -> dict[str, Any]:
    """UK line whose principal already includes the VAT: total = principal + shipping."""
    line = {
        "totalAmount": money("317.37", GBP),
        "principalAmount": money("313.38", GBP),
        "shippingCharge": money("3.99", GBP),
        "tax": money("52.90", GBP),
        "taxRate": "0.20",
        "productTitle": "Office chair",
        "itemQuantity": 1,
        "orderId": ORDER_UK,
        "orderLineItemId": "li-inc",
    }
    return amazon_transaction("vat-incl", [line], currency=GBP, last4="4242", shipTaxRate="0.20")


def authorised_amount() -> dict[str, Any]:
    """Unsettled: ``amount`` is the authorisation, not the sum of the lines."""
    record = _uk_charge("authorised")
    record["amount"] = money("320.00", GBP)
    return record


def split_siblings() -> list[dict[str, Any]]:
    """One order paid by two cards; each transaction carries the full order's lines."""
    lines = [
        amazon_line(
            USD,
            principal="60.00",
            tax="4.20",
            tax_rate="0.07",
            title="Chair",
            orderId=ORDER_US,
            orderLineItemId="a",
        ),
        amazon_line(
            USD,
            principal="40.00",
            shipping="5.99",
            tax="3.22",
            tax_rate="0.07",
            title="Mat",
            orderId=ORDER_US,
            orderLineItemId="b",
        ),
    ]
    first = amazon_transaction(
        "split-a", copy.deepcopy(lines), currency=USD, instrument="Amex", last4="1001"
    )
    second = amazon_transaction(
        "split-b", copy.deepcopy(lines), currency=USD, instrument="Visa", last4="2002"
    )
    first["amount"] = money("80.00", USD)
    second["amount"] = money("33.41", USD)
    first["associatedTransactionDetails"] = [{"associatedTransactionId": "split-b"}]
    second["associatedTransactionDetails"] = [{"associatedTransactionId": "split-a"}]
    return [first, second]


def null_business_order_info() -> dict[str, Any]:
    record = _uk_charge("boi-null")
    record["transactionLineItems"][0]["businessOrderInfo"] = None
    return record


def associated_without_id() -> dict[str, Any]:
    record = _uk_charge("assoc-no-id")
    record["associatedTransactionDetails"] = [{}]
    return record


def empty_currency_zero() -> dict[str, Any]:
    """``{"currencyCode": "", "amount": "0"}``, as in the invoice-details example of
    ``reconciliation-2021-01-08.json`` (Amazon's own sample)."""
    record = _uk_charge("zero-money")
    record["transactionLineItems"][0]["giftWrappingCharge"] = {"currencyCode": "", "amount": "0"}
    record["transactionLineItems"][0]["regulatoryFee"] = {"currencyCode": "", "amount": "0.00"}
    return record


def percent_tax_rate(text: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        record = _uk_charge(f"rate-{text.rstrip('%')}{'-pct' if '%' in text else ''}")
        record["transactionLineItems"][0]["taxRate"] = text
        return record

    return build


def offset_timestamp() -> dict[str, Any]:
    record = _uk_charge("offset-time")
    record["transactionDate"] = "2026-04-02T16:00:00+01:00"
    return record


def timestamp_without_millis() -> dict[str, Any]:
    record = _uk_charge("no-millis")
    record["transactionDate"] = "2026-04-02T15:00:00Z"
    record["feedDate"] = "2026-04-02T15:00:00.000Z"
    return record


def no_line_items() -> dict[str, Any]:
    record = _uk_charge("no-lines")
    record["transactionLineItems"] = []
    return record


SHAPES: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "positive REFUND": lambda: [positive_refund()],
    "positive OVERREFUND": lambda: [positive_overrefund()],
    "VAT-inclusive principal": lambda: [vat_inclusive_line()],
    "amount is the authorisation": lambda: [authorised_amount()],
    "split payment siblings": split_siblings,
    "businessOrderInfo null": lambda: [null_business_order_info()],
    "associated entry without id": lambda: [associated_without_id()],
    "zero money with empty currency": lambda: [empty_currency_zero()],
    'taxRate "20"': lambda: [percent_tax_rate("20")()],
    'taxRate "20%"': lambda: [percent_tax_rate("20%")()],
    "timestamp with offset": lambda: [offset_timestamp()],
    "timestamp without milliseconds": lambda: [timestamp_without_millis()],
    "no line items, non-zero amount": lambda: [no_line_items()],
}


def amount_of(record: dict[str, Any]) -> Decimal:
    return abs(Decimal(record["amount"]["amount"]))
