"""A small, valid one-page PDF invoice, written by hand (no PDF library)."""

from __future__ import annotations

from typing import Any


def _escape(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_lines(number: str, kind: str, record: dict[str, Any]) -> list[str]:
    """The text of an invoice or credit memo for one transaction record."""
    title = "Credit Note" if kind == "CREDIT_MEMO" else "VAT Invoice / Invoice"
    amount = record.get("amount", {})
    lines = [
        f"{title} {number}",
        f"Date: {str(record.get('transactionDate', ''))[:10]}",
        f"Bill to: {record.get('legalEntityName', '')}",
        f"Paid by: {record.get('paymentInstrumentType', '')}",
        "",
    ]
    for item in record.get("transactionLineItems", []):
        total = item.get("totalAmount", {})
        lines.append(
            f"{item.get('itemQuantity', 1)} x {str(item.get('productTitle', ''))[:60]}"
            f"  {total.get('amount', '')} {total.get('currencyCode', '')}"
        )
        lines.append(
            f"    Order {item.get('orderId', '')}  Seller {item.get('merchantLegalName', '')}"
        )
    lines += ["", f"Total: {amount.get('amount', '')} {amount.get('currencyCode', '')}"]
    return lines


def render_pdf(lines: list[str]) -> bytes:
    """A PDF 1.4 file showing ``lines`` in Helvetica on one A4 page."""
    text = ["BT", "/F1 11 Tf", "14 TL", "50 790 Td"]
    text += [f"({_escape(line)}) Tj T*" for line in lines]
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
