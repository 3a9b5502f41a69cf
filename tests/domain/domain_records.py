"""Builders of raw Amazon Business transactions whose arithmetic adds up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PARTS = (
    "principalAmount",
    "shippingCharge",
    "giftWrappingCharge",
    "regulatoryFee",
    "discount",
    "tax",
)


def money(amount: Decimal | str, currency: str) -> dict[str, str]:
    return {"currencyCode": currency, "amount": str(amount)}


def amazon_line(
    currency: str,
    *,
    principal: str,
    title: str = "Item",
    quantity: int = 1,
    shipping: str = "0",
    gift_wrap: str = "0",
    regulatory_fee: str = "0",
    discount: str = "0",
    tax: str = "0",
    tax_rate: str = "0.00",
    sign: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    """A line; with ``sign=-1`` every amount is negated (a refund line)."""
    amounts = dict(
        zip(
            PARTS,
            (
                Decimal(v) * sign
                for v in (principal, shipping, gift_wrap, regulatory_fee, discount, tax)
            ),
            strict=True,
        )
    )
    line: dict[str, Any] = {
        "totalAmount": money(sum(amounts.values(), Decimal(0)), currency),
        **{
            name: money(value, currency)
            for name, value in amounts.items()
            if value != 0 or name == "tax"
        },
        "taxRate": tax_rate,
        "productTitle": title,
        "itemQuantity": quantity,
        **fields,
    }
    return line


def amazon_transaction(
    transaction_id: str,
    lines: list[dict[str, Any]],
    *,
    currency: str,
    kind: str = "CHARGE",
    date: str = "2026-04-02T15:00:00Z",
    instrument: str = "Visa",
    last4: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    total = sum((Decimal(line["totalAmount"]["amount"]) for line in lines), Decimal(0))
    record: dict[str, Any] = {
        "marketplaceId": "A1F83G8C2ARO7P" if currency == "GBP" else "ATVPDKIKX0DER",
        "transactionDate": date,
        "feedDate": date,
        "transactionType": kind,
        "transactionId": transaction_id,
        "amount": money(total, currency),
        "paymentInstrumentType": instrument,
        "transactionLineItems": lines,
        **fields,
    }
    if last4 is not None:
        record["paymentInstrumentLast4Digits"] = last4
    return record
