"""An itemised purchase summary PDF, made from the Amazon record abxero holds.

Amazon's Document API has invoice PDFs only for UK orders and US Pay-by-Invoice orders, so a
US card purchase reaches Xero with no source document; so does any document Amazon keeps
refusing. This summary stands in for it: order, shipment, charge identifier, seller, each
line with quantity, unit price and tax, the Amazon order link, and a plain statement that it
is not a tax invoice. Made with fpdf2's built-in Helvetica in Windows-1252 (pound, euro and
dashes print); a character outside that set prints as "?".
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from abxero.domain.transactions import LineItem, Transaction

NOT_AN_INVOICE = "Summary generated from Amazon Business data \u2014 not a tax invoice."
ENCODING = "windows-1252"
CENT = Decimal("0.01")
# The buyer's order page on each store (the manage page links the same way).
ORDER_PAGES = {"US": "https://www.amazon.com", "UK": "https://www.amazon.co.uk"}
COLUMNS = (
    ("Item", 70),
    ("Seller", 34),
    ("Qty", 12),
    ("Unit price", 24),
    ("Tax", 20),
    ("Total", 26),
)


def money(amount: Decimal, currency: str) -> str:
    """``USD 1,234.50``: a Decimal rounded half-up to cents."""
    return f"{currency} {amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def printable(text: str) -> str:
    """The text in the font's character set: accents kept where it has them, else '?'."""
    composed = unicodedata.normalize("NFC", " ".join(text.split()))
    return composed.encode(ENCODING, errors="replace").decode(ENCODING)


def order_link(region: str, order_id: str) -> str:
    store = ORDER_PAGES.get(region, ORDER_PAGES["US"])
    return f"{store}/gp/your-account/order-details?orderID={quote(order_id)}"


def unit_price(line: LineItem) -> Decimal:
    """Amazon's unit price when it gave one, else the principal shared over the quantity."""
    if line.unit_price is not None:
        return line.unit_price
    return line.principal / line.quantity if line.quantity else line.principal


def _distinct(values: list[str]) -> str:
    return ", ".join(dict.fromkeys(value for value in values if value)) or "-"


def purchase_summary_pdf(transaction: Transaction, *, region: str, generated_at: datetime) -> bytes:
    """The summary of one transaction as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_title(printable(f"Amazon Business purchase summary {transaction.transaction_id}"))
    pdf.set_creator("abxero")
    pdf.add_page()
    _heading(pdf)
    _facts(pdf, transaction, region, generated_at)
    _lines(pdf, transaction)
    _totals(pdf, transaction)
    return bytes(pdf.output())


def _write(pdf: FPDF, text: str, *, size: float = 9, bold: bool = False, height: float = 5) -> None:
    pdf.set_font("helvetica", "B" if bold else "", size)
    pdf.multi_cell(0, height, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF) -> None:
    _write(pdf, "Amazon Business purchase summary", size=16, bold=True, height=9)
    pdf.set_text_color(160, 0, 0)
    _write(pdf, NOT_AN_INVOICE, size=10, bold=True, height=6)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _facts(pdf: FPDF, transaction: Transaction, region: str, generated_at: datetime) -> None:
    lines = transaction.line_items
    orders = list(dict.fromkeys(line.order_id for line in lines if line.order_id))
    facts = [
        ("Transaction", f"{transaction.transaction_id} ({transaction.transaction_type.value})"),
        ("Date", f"{transaction.transaction_date:%Y-%m-%d}"),
        ("Order", _distinct(orders)),
        ("Shipment", _distinct([line.shipment_id for line in lines])),
        ("Charge identifier", transaction.charge_identifier or "-"),
        ("Invoice number", transaction.invoice_number or "none issued by Amazon"),
        ("Seller", _distinct([line.seller for line in lines])),
        ("Paid with", transaction.instrument.label or "-"),
        ("Buyer", _distinct([transaction.legal_entity, transaction.buyer_name])),
        ("Purchase order", _distinct([line.purchase_order_number for line in lines])),
    ]
    facts += [("Amazon order link", order_link(region, order)) for order in orders]
    for label, value in facts:
        pdf.set_font("helvetica", "B", 9)
        pdf.cell(38, 5, printable(label))
        pdf.set_font("helvetica", "", 9)
        pdf.multi_cell(0, 5, printable(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _write(pdf, f"Generated {generated_at:%Y-%m-%d %H:%M} UTC by abxero.", size=8)
    pdf.ln(3)


def _lines(pdf: FPDF, transaction: Transaction) -> None:
    pdf.set_font("helvetica", "B", 9)
    for name, width in COLUMNS:
        pdf.cell(width, 6, name, border="B")
    pdf.ln(6)
    pdf.set_font("helvetica", "", 8)
    currency = transaction.currency
    for line in transaction.line_items:
        title = line.title or line.asin or "(no description)"
        fitted = _fit(pdf, printable(title), COLUMNS[0][1])
        cells = (
            fitted,
            _fit(pdf, printable(line.seller) or "-", COLUMNS[1][1]),
            str(line.quantity),
            money(unit_price(line), currency),
            money(line.tax, currency),
            money(line.total, currency),
        )
        for (_, width), value in zip(COLUMNS, cells, strict=True):
            pdf.cell(width, 5, value)
        pdf.ln(5)
        extras = _line_extras(line, currency)
        if fitted != printable(title):  # the whole description, under its cut line
            extras = "; ".join(part for part in (printable(title), extras) if part)
        if extras:
            pdf.set_font("helvetica", "", 7)
            pdf.cell(6, 4, "")
            pdf.multi_cell(0, 4, printable(extras), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("helvetica", "", 8)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text cut (with "...") to fit a column, with a small gap before the next."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "...") > width - 2:
        text = text[:-1]
    return text + "..."


def _line_extras(line: LineItem, currency: str) -> str:
    parts = [
        (name, amount)
        for name, amount in (
            ("shipping", line.shipping),
            ("gift wrap", line.gift_wrap),
            ("fees", line.regulatory_fee),
            ("discount", line.discount),
        )
        if amount
    ]
    return "; ".join(f"{name} {money(amount, currency)}" for name, amount in parts)


def _totals(pdf: FPDF, transaction: Transaction) -> None:
    currency = transaction.currency
    tax = sum((line.tax for line in transaction.line_items), Decimal(0))
    pdf.ln(2)
    for label, amount in (
        ("Tax on the lines", tax),
        ("Amount charged", transaction.amount),
    ):
        pdf.set_font("helvetica", "B", 9)
        pdf.cell(160, 6, label, align="R")
        pdf.cell(26, 6, money(amount, currency), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
