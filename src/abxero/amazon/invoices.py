"""Invoice details per order line and Pay-by-Invoice payment status, 25 per request."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from abxero.amazon.api import AmazonApi
from abxero.amazon.errors import FatalError

INVOICES_PATH = "/reconciliation/2021-01-08/invoices"
PAYMENTS_PATH = "/reconciliation/2021-01-08/invoices/batch/paymentDetails"
BATCH = 25

Item = TypeVar("Item")


def batches(items: Iterable[Item], size: int = BATCH) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class OrderLineRef:
    """An order line of one shipment, as ``transactionLineItems`` name it."""

    order_id: str
    order_line_item_id: str
    shipment_id: str

    def as_json(self) -> dict[str, str]:
        return {
            "orderId": self.order_id,
            "orderLineItemId": self.order_line_item_id,
            "shipmentId": self.shipment_id,
        }


@dataclass(frozen=True)
class InvoiceInfo:
    number: str
    date: datetime | None
    kind: str
    consolidated_number: str = ""


@dataclass(frozen=True)
class LineInvoices:
    """The invoices Amazon lists for one line, or why it refused to look the line up."""

    line: OrderLineRef
    invoices: tuple[InvoiceInfo, ...]
    error: str = ""


@dataclass(frozen=True)
class InvoicePayment:
    """Payment status of a Pay-by-Invoice invoice, or why Amazon has none."""

    invoice_id: str
    found: bool
    status: str = ""
    due_date: datetime | None = None
    error: str = ""


class InvoiceClient:
    def __init__(self, api: AmazonApi) -> None:
        self.api = api

    def invoice_details(self, lines: Iterable[OrderLineRef]) -> Iterator[LineInvoices]:
        """The invoices and credit memos of each line, asked 25 lines at a time.

        A 400 for a batch (Amazon may refuse a whole request for one line it does not know)
        is narrowed down by asking each of its lines alone, so one bad line costs only itself.
        """
        for chunk in batches(lines):
            yield from self._lines(chunk)

    def _lines(self, chunk: list[OrderLineRef]) -> Iterator[LineInvoices]:
        try:
            body = self.api.post(INVOICES_PATH, {"orderLineItems": [x.as_json() for x in chunk]})
        except FatalError as problem:
            if problem.status != 400:
                raise
            if len(chunk) == 1:
                yield LineInvoices(chunk[0], (), error=str(problem))
                return
            for line in chunk:
                yield from self._lines([line])
            return
        results = body.get("invoiceDetailsByOrderLineItems", []) if isinstance(body, dict) else []
        by_key = {_line_key(result.get("orderLineItem")): result for result in results}
        for line in chunk:
            found = by_key.get((line.order_id, line.order_line_item_id, line.shipment_id))
            yield LineInvoices(line, _invoices(found))

    def payment_details(self, invoice_ids: Iterable[str]) -> Iterator[InvoicePayment]:
        """Payment status and due date of each invoice, asked 25 at a time (a 400 for a batch
        is narrowed down to the invoice it is about, as for :meth:`invoice_details`)."""
        for chunk in batches(invoice_ids):
            yield from self._payments(chunk)

    def _payments(self, chunk: list[str]) -> Iterator[InvoicePayment]:
        try:
            body = self.api.post(PAYMENTS_PATH, {"invoiceIds": chunk})
        except FatalError as problem:
            if problem.status != 400:
                raise
            if len(chunk) == 1:
                yield InvoicePayment(chunk[0], False, error=str(problem))
                return
            for invoice_id in chunk:
                yield from self._payments([invoice_id])
            return
        results = body.get("invoicePaymentDetailsResults", []) if isinstance(body, dict) else []
        by_id = {str(r.get("invoiceId")): r for r in results if isinstance(r, dict)}
        for invoice_id in chunk:
            yield _payment(invoice_id, by_id.get(invoice_id))


def _line_key(value: Any) -> tuple[str, str, str]:
    if not isinstance(value, dict):
        return ("", "", "")
    return (
        str(value.get("orderId", "")),
        str(value.get("orderLineItemId", "")),
        str(value.get("shipmentId", "")),
    )


def _invoices(result: Any) -> tuple[InvoiceInfo, ...]:
    details = result.get("invoiceDetails", []) if isinstance(result, dict) else []
    found = []
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict) or not detail.get("invoiceNumber"):
            continue
        consolidated = detail.get("consolidatedInvoiceDetails")
        found.append(
            InvoiceInfo(
                number=str(detail["invoiceNumber"]),
                date=_moment(detail.get("invoiceDate")),
                kind=str(detail.get("invoiceType") or "STANDARD"),
                consolidated_number=str(consolidated.get("invoiceNumber", ""))
                if isinstance(consolidated, dict)
                else "",
            )
        )
    return tuple(found)


def _payment(invoice_id: str, result: dict[str, Any] | None) -> InvoicePayment:
    if result is None:
        return InvoicePayment(invoice_id, False, error="not in the response")
    details = result.get("paymentDetails")
    if result.get("resultType") == "SUCCESS" and isinstance(details, dict):
        return InvoicePayment(
            invoice_id, True, str(details.get("status", "")), _moment(details.get("dueDate"))
        )
    if result.get("resultType") == "SUCCESS":
        # The model's own sample answers SUCCESS without paymentDetails.
        return InvoicePayment(invoice_id, True, error="Amazon gave no payment details")
    error = result.get("error")
    message = error.get("message", "") if isinstance(error, dict) else ""
    return InvoicePayment(invoice_id, False, error=str(message or result.get("resultType", "")))
