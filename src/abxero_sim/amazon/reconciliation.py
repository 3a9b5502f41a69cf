"""The simulated Reconciliation API 2021-01-08: transactions, invoice and payment details.

``getTransactions`` windows are half-open (``feedStartDate <= feedDate < feedEndDate``) and
only show transactions whose feed date has passed on the simulator's clock. Pages follow the
generated stream's order; ``nextPageToken`` is opaque. Amazon's model says both "include
nextPageToken as the only parameter" (the parameter) and marks ``feedStartDate``/``feedEndDate``
required on every call (reconciliation-2021-01-08.json, getTransactions); which one production
enforces is not documented, so ``Faults.page_token_form`` plays either strictness. SP-API page
tokens expire ("Token is not valid, token duration is 25 minutes.", 400 InvalidInput,
github.com/amzn/selling-partner-api-models issue 562) and are refused when other parameters come
with them (github.com/amzn/selling-partner-api-docs issue 1760); ``Faults.page_token_seconds``
makes ours expire on the simulator's clock.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from abxero_sim.amazon.businesses import PAY_BY_INVOICE
from abxero_sim.amazon.generator import record_feed_date
from abxero_sim.amazon.orders import Document
from abxero_sim.amazon.values import iso
from abxero_sim.amazon.wire import ApiContext, bad_request, json_body

MAX_LINE_ITEMS = 25


class WindowError(ValueError):
    """A window or token the API rejects with 400."""


def parse_feed_date(value: str) -> datetime:
    """Parse an ISO 8601 date-time the way the API accepts it (no zone means UTC)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as problem:
        raise WindowError(
            f"Input date [{value}] is not in the expected ISO8601 format."
        ) from problem
    if "T" not in value:
        raise WindowError(f"Input date [{value}] is not in the expected ISO8601 format.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def get_transactions(ctx: ApiContext) -> Response:
    try:
        cursor = _cursor(ctx)
    except WindowError as problem:
        return bad_request(str(problem))
    page, next_cursor = _page(ctx, cursor)
    body: dict[str, Any] = {"transactions": page}
    if next_cursor is not None:
        body["nextPageToken"] = _encode(next_cursor, ctx.state.now())
    return JSONResponse(body)


def _cursor(ctx: ApiContext) -> dict[str, Any]:
    params = ctx.request.query_params
    token = params.get("nextPageToken")
    start_text, end_text = params.get("feedStartDate"), params.get("feedEndDate")
    if token:
        cursor = _decode(token, ctx.business.business_id)
        _check_token_form(ctx, bool(start_text or end_text))
        _check_token_age(ctx, cursor)
        if (start_text or end_text) and (start_text, end_text) != (cursor["s"], cursor["e"]):
            raise WindowError("The nextPageToken does not belong to this date range.")
        return cursor
    if not start_text or not end_text:
        raise WindowError("Missing required request parameters.")
    start, end = parse_feed_date(start_text), parse_feed_date(end_text)
    if start > end:
        raise WindowError("feedStartDate must not be after feedEndDate.")
    return {
        "b": ctx.business.business_id,
        "s": start_text,
        "e": end_text,
        "o": -1,
        "p": -1,
        "x": -1,
    }


def _check_token_form(ctx: ApiContext, with_window: bool) -> None:
    form = ctx.state.faults.page_token_form
    if form == "token_only" and with_window:
        raise WindowError("When nextPageToken is given it must be the only parameter.")
    if form == "with_window" and not with_window:
        raise WindowError("Missing required request parameters: feedStartDate, feedEndDate.")


def _check_token_age(ctx: ApiContext, cursor: dict[str, Any]) -> None:
    lifetime = ctx.state.faults.page_token_seconds
    issued = cursor.get("t")
    too_old = isinstance(issued, int | float) and ctx.state.now().timestamp() - issued > lifetime
    if lifetime > 0 and too_old:
        raise WindowError(f"Token is not valid, token duration is {lifetime:g} seconds.")


def _encode(cursor: dict[str, Any], issued: datetime) -> str:
    stamped = {**cursor, "t": issued.timestamp()}
    return base64.urlsafe_b64encode(json.dumps(stamped).encode()).decode()


def _decode(token: str, business_id: str) -> dict[str, Any]:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error) as problem:
        raise WindowError("The nextPageToken is not valid.") from problem
    if not isinstance(cursor, dict) or cursor.get("b") != business_id:
        raise WindowError("The nextPageToken is not valid.")
    return cursor


def _page(ctx: ApiContext, cursor: dict[str, Any]) -> tuple[list[Any], dict[str, Any] | None]:
    size = max(ctx.state.faults.page_size, 1)
    page: list[Any] = []
    for position, record in _stream(ctx, cursor):
        if len(page) == size:
            return page, {**cursor, **position}
        page.append(record)
    return page, None


def _stream(ctx: ApiContext, cursor: dict[str, Any]) -> Iterator[tuple[dict[str, int], Any]]:
    start = parse_feed_date(cursor["s"])
    end = min(parse_feed_date(cursor["e"]), ctx.state.now() + timedelta(microseconds=1))
    if cursor["x"] < 0:
        after = (cursor["o"], cursor["p"])
        for item in ctx.generator.window(start, end, after):
            # the cursor points just before the item, so a page can start with it
            before = {"o": item.order_index, "p": item.position - 1, "x": -1}
            yield before, _as_served(ctx, _maybe_malformed(ctx, item.order_index, item.record))
    for index, (added_at, record) in enumerate(ctx.state.added[ctx.business.business_id]):
        if index > cursor["x"] and start <= _added_feed_date(record, added_at) < end:
            yield {"o": 1 << 60, "p": 0, "x": index - 1}, record


def _added_feed_date(record: Any, added_at: datetime) -> datetime:
    """An added record's own feed date, or when it was added if it has none."""
    try:
        return record_feed_date(record)
    except (KeyError, ValueError, TypeError, AttributeError):
        return added_at


def _as_served(ctx: ApiContext, record: dict[str, Any]) -> dict[str, Any]:
    """The record as this knob setting serves it: in NA the invoice number of a Pay by Invoice
    purchase comes from getInvoiceDetailsByOrderLineItems ("Downloading invoices in NA",
    prerequisite 4, amazon-business-api.md §5.2), so ``pbi_invoice_numbers`` False leaves it
    off the transaction."""
    if (
        ctx.state.faults.pbi_invoice_numbers
        or ctx.business.region.value != "US"
        or record.get("paymentInstrumentType") != PAY_BY_INVOICE
        or "invoiceNumber" not in record
    ):
        return record
    return {key: value for key, value in record.items() if key != "invoiceNumber"}


def _maybe_malformed(ctx: ApiContext, order_index: int, record: dict[str, Any]) -> dict[str, Any]:
    faults = ctx.state.faults
    if (
        faults.malformed_every <= 0
        or order_index % faults.malformed_every
        or not faults.malformed_kinds
    ):
        return record
    kinds = faults.malformed_kinds
    return malform(record, kinds[(order_index // faults.malformed_every) % len(kinds)])


def malform(record: dict[str, Any], kind: str) -> dict[str, Any]:
    """A copy of ``record`` broken the way ``kind`` says (see the module docstring)."""
    broken = copy.deepcopy(record)
    if kind == "wrong_type":
        broken["amount"]["amount"] = float(broken["amount"]["amount"])
    elif kind == "missing_field":
        del broken["transactionType"]
    elif kind == "bad_total":
        broken["amount"]["amount"] = f"{float(broken['amount']['amount']) + 1:.2f}"
    elif kind == "unknown_currency":
        broken["amount"]["currencyCode"] = "XQZ"
    return broken


async def get_invoice_details(ctx: ApiContext) -> Response:
    body = await json_body(ctx.request)
    items = body.get("orderLineItems") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return bad_request("Missing required request parameters.")
    if len(items) > MAX_LINE_ITEMS:
        return bad_request(
            "The request contains invalid parameters.",
            f"orderLineItems must contain at most {MAX_LINE_ITEMS} items.",
        )
    if not all(_is_line_ref(item) for item in items):
        return bad_request(
            "The request contains invalid parameters.",
            "Each orderLineItem needs orderId, orderLineItemId and shipmentId.",
        )
    results = [
        {"orderLineItem": item, "invoiceDetails": _invoices_for(ctx, item)} for item in items
    ]
    unknown = [r["orderLineItem"] for r in results if not _line_known(ctx, r["orderLineItem"])]
    if unknown and ctx.state.faults.strict_invoice_lookup:
        # The model lists 400 for this operation; its sandbox answers a request it cannot
        # match with INVALID_REQUEST_PARAMETER (reconciliation-2021-01-08.json).
        return bad_request(
            "The request contains invalid parameters.",
            f"Unknown order line items: {[item['orderLineItemId'] for item in unknown]}",
        )
    return JSONResponse({"invoiceDetailsByOrderLineItems": results})


def _line_known(ctx: ApiContext, item: dict[str, str]) -> bool:
    order = ctx.generator.order_for_id(item["orderId"])
    return order is not None and bool(
        order.documents_for_line(item["orderLineItemId"], item["shipmentId"])
    )


def _is_line_ref(item: Any) -> bool:
    keys = ("orderId", "orderLineItemId", "shipmentId")
    return isinstance(item, dict) and all(isinstance(item.get(key), str) for key in keys)


def _invoices_for(ctx: ApiContext, item: dict[str, str]) -> list[dict[str, Any]]:
    order = ctx.generator.order_for_id(item["orderId"])
    if order is None:
        return []
    seen: dict[str, dict[str, Any]] = {}
    for doc in order.documents_for_line(item["orderLineItemId"], item["shipmentId"]):
        if doc.date <= ctx.state.now():
            seen.setdefault(doc.number, _invoice_detail(ctx, doc))
    return list(seen.values())


def _invoice_detail(ctx: ApiContext, doc: Document) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "invoiceNumber": doc.number,
        "invoiceDate": iso(doc.date),
        "invoiceType": doc.kind,
    }
    if ctx.business.region.value == "UK" and doc.pay_by_invoice and doc.kind == "STANDARD":
        month = doc.date.strftime("%y%m")
        ready = ctx.state.now() - doc.date > timedelta(days=30)
        detail["consolidatedInvoiceDetails"] = {
            "invoiceNumber": f"GBC{month}-{ctx.business.order_prefix}" if ready else "Pending"
        }
    return detail


async def get_payment_details(ctx: ApiContext) -> Response:
    body = await json_body(ctx.request)
    ids = body.get("invoiceIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_LINE_ITEMS:
        return bad_request(
            "The request contains invalid parameters.",
            f"The invoiceIds array must contain between 1 and {MAX_LINE_ITEMS} invoice IDs.",
        )
    if not all(isinstance(value, str) and 1 <= len(value) <= 255 for value in ids):
        return bad_request(
            "The request contains invalid parameters.",
            "Each invoice ID must be a string of 1 to 255 characters.",
        )
    results = [_payment(ctx, value) for value in ids]
    unknown = [r["invoiceId"] for r in results if r["resultType"] != "SUCCESS"]
    if unknown and ctx.state.faults.strict_invoice_lookup:
        # The model's own 400 sample answers an unknown invoice id (["INVALID_INVOICE_ID"])
        # with INVALID_REQUEST_PARAMETER (reconciliation-2021-01-08.json).
        return bad_request(
            "The request contains invalid parameters.", f"Unknown invoices: {unknown}"
        )
    return JSONResponse({"invoicePaymentDetailsResults": results})


def _payment(ctx: ApiContext, invoice_id: str) -> dict[str, Any]:
    order = ctx.generator.order_for_invoice(invoice_id)
    docs = [d for d in order.documents if d.number == invoice_id] if order else []
    doc = next((d for d in docs if d.pay_by_invoice and d.kind == "STANDARD"), None)
    if doc is None:
        return {
            "invoiceId": invoice_id,
            "resultType": "ERROR",
            "error": {
                "code": "INVALID_REQUEST_PARAMETER",
                "message": "No Pay by Invoice invoice with this ID.",
            },
        }
    terms = timedelta(days=ctx.state.faults.payment_terms_days)
    due = (doc.date + terms).replace(hour=23, minute=59, second=59, microsecond=0)
    if not ctx.state.faults.payment_details:
        # The sandbox sample answers SUCCESS without paymentDetails (reconciliation model).
        return {"invoiceId": invoice_id, "resultType": "SUCCESS"}
    return {
        "invoiceId": invoice_id,
        "resultType": "SUCCESS",
        "paymentDetails": {
            "status": _payment_status(ctx, doc, due),
            "dueDate": iso(due)[:19] + "Z",
        },
    }


def _payment_status(ctx: ApiContext, doc: Document, due: datetime) -> str:
    age = ctx.state.now() - doc.date
    pays_late = sum(map(ord, doc.number)) % 5 == 0
    if not pays_late and age > timedelta(days=21):
        return "Closed"
    if not pays_late and age > timedelta(days=18):
        return "Payment Processing"
    return "Past Due" if ctx.state.now() > due else "Issued"
