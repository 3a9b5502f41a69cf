"""The purchase summary PDF, read back to text with pypdf: every fact a bookkeeper needs, to
the cent, and the statement that it is not a tax invoice."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from abxero.domain.transactions import Transaction, parse_transaction
from abxero.sync.summary_pdf import money, purchase_summary_pdf, unit_price

GENERATED = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)


def _line(**values: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "totalAmount": {"currencyCode": "USD", "amount": "61.00"},
        "principalAmount": {"currencyCode": "USD", "amount": "56.97"},
        "tax": {"currencyCode": "USD", "amount": "4.03"},
        "unitPrice": {"currencyCode": "USD", "amount": "18.99"},
        "productTitle": "Nitrile gloves, box of 100",
        "itemQuantity": 3,
        "asin": "B0GLOVES01",
        "orderId": "113-1111111-2222222",
        "orderLineItemId": "li-1",
        "shipmentId": "SHIP-77",
        "merchantLegalName": "Dental Supply Co",
    }
    return line | values


def _record(lines: list[dict[str, Any]], amount: str) -> dict[str, Any]:
    return {
        "marketplaceId": "ATVPDKIKX0DER",
        "transactionDate": "2026-11-20T18:00:00Z",
        "feedDate": "2026-11-20T18:00:00Z",
        "transactionType": "CHARGE",
        "transactionId": "us-card-42",
        "amount": {"currencyCode": "USD", "amount": amount},
        "paymentInstrumentType": "Visa",
        "paymentInstrumentLast4Digits": "4242",
        "chargeIdentifier": "CHG-9X1",
        "transactionLineItems": lines,
    }


def _parsed(record: dict[str, Any]) -> Transaction:
    parsed = parse_transaction(record)
    assert isinstance(parsed, Transaction), parsed
    return parsed


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_summary_lists_every_fact_and_says_it_is_not_a_tax_invoice() -> None:
    second = _line(
        productTitle="Disposable bibs, 500",
        itemQuantity=1,
        unitPrice={"currencyCode": "USD", "amount": "24.50"},
        principalAmount={"currencyCode": "USD", "amount": "24.50"},
        tax={"currencyCode": "USD", "amount": "1.72"},
        totalAmount={"currencyCode": "USD", "amount": "26.22"},
        orderLineItemId="li-2",
        shipmentId="SHIP-78",
        merchantLegalName="Bib World LLC",
    )
    pdf = purchase_summary_pdf(
        _parsed(_record([_line(), second], "87.22")), region="US", generated_at=GENERATED
    )
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    for expected in (
        "Summary generated from Amazon Business data \u2014 not a tax invoice.",
        "us-card-42",
        "113-1111111-2222222",
        "SHIP-77, SHIP-78",
        "CHG-9X1",
        "Dental Supply Co",
        "Bib World LLC",
        "Visa ending 4242",
        "Nitrile gloves, box of 100",
        "USD 18.99",
        "USD 4.03",
        "USD 61.00",
        "USD 24.50",
        "USD 5.75",  # the tax of both lines
        "USD 87.22",  # the amount charged
        "https://www.amazon.com/gp/your-account/order-details?orderID=113-1111111-2222222",
        "none issued by Amazon",
    ):
        assert expected in text, expected
    assert "Item Seller Qty Unit price Tax Total" in text
    assert "Nitrile gloves, box of 100 Dental Supply Co 3 USD 18.99 USD 4.03 USD 61.00" in text
    assert "Disposable bibs, 500 Bib World LLC 1 USD 24.50 USD 1.72 USD 26.22" in text


def test_a_uk_summary_links_to_the_uk_store_and_prints_pounds_and_accents() -> None:
    record = _record([_line(productTitle="Caf\u00e9 cr\u00e8me pods \u2013 \u00a3 deal")], "61.00")
    record["marketplaceId"] = "A1F83G8C2ARO7P"
    for part in ("amount",):
        record[part]["currencyCode"] = "GBP"
    for key in ("totalAmount", "principalAmount", "tax", "unitPrice"):
        record["transactionLineItems"][0][key]["currencyCode"] = "GBP"
    text = _text(purchase_summary_pdf(_parsed(record), region="UK", generated_at=GENERATED))
    assert "https://www.amazon.co.uk/gp/your-account/order-details" in text
    assert "Caf\u00e9 cr\u00e8me pods \u2013 \u00a3 deal" in text
    assert "GBP 61.00" in text


def test_characters_the_font_lacks_print_as_question_marks_not_a_crash() -> None:
    record = _record([_line(productTitle="\u624b\u888b gloves \U0001f9e4")], "61.00")
    text = _text(purchase_summary_pdf(_parsed(record), region="US", generated_at=GENERATED))
    assert "?? gloves ?" in text


def test_money_is_decimal_to_the_cent_and_unit_price_falls_back_to_the_share() -> None:
    assert money(Decimal("1234.5"), "USD") == "USD 1,234.50"
    assert money(Decimal("0.005"), "GBP") == "GBP 0.01"
    assert money(Decimal("-2.004"), "GBP") == "GBP -2.00"
    line = _parsed(_record([_line(unitPrice=None)], "61.00")).line_items[0]
    assert unit_price(line) == Decimal("56.97") / 3


def test_a_long_title_is_cut_in_the_table_and_printed_whole_below() -> None:
    title = "Ultrasonic scaler tips, universal fit, autoclavable, assorted pack of twelve"
    text = _text(
        purchase_summary_pdf(
            _parsed(_record([_line(productTitle=title)], "61.00")),
            region="US",
            generated_at=GENERATED,
        )
    )
    assert "... Dental Supply Co 3 USD 18.99" in text
    assert title in " ".join(text.split())
