"""``/_sim/`` knob: what a person does to a document in Xero's web app, outside the API.

Tests of the reconciliation check need someone to have changed Xero behind abxero's back.
Xero's UI lets a user edit an authorised bill or bank transaction that has no payment on it
(the edit changes the line, the totals and the amount due; a document with a payment must have
it removed first), and delete or void a document; the API shows the result as ``Status``
``DELETED`` or ``VOIDED`` (xero_accounting.yaml, Invoice.Status). This route does exactly that
and nothing more; voiding through the API is ``POST /Invoices/{id}`` with ``Status``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from abxero_sim.xero.admin import _json, _json_reply, _sim
from abxero_sim.xero.state import Org, Record

_STATUSES = {"DELETED", "VOIDED"}


async def edit_document(request: Request) -> Response:
    """``{"Status": "DELETED"|"VOIDED"}`` and/or ``{"add_to_first_line": "5.00"}``."""
    sim = _sim(request)
    body = await _json(request)
    with sim.world.lock:
        org = sim.world.org_by_key_or_id(request.path_params["ref"])
        document = org.document(request.path_params["doc_id"]) if org else None
        if org is None or document is None:
            return _json_reply({"error": "unknown organisation or document"}, 404)
        problem = _apply(org, document, body)
        if problem:
            return _json_reply({"error": problem}, 400)
        document["UpdatedDateUTC"] = sim.world.clock.now()
        return _json_reply(document)


def _apply(org: Org, document: Record, body: dict[str, Any]) -> str | None:
    if "add_to_first_line" in body:
        problem = _edit_amount(document, body["add_to_first_line"])
        if problem:
            return problem
    status = body.get("Status")
    if status is not None:
        if status not in _STATUSES:
            return f"Status must be one of {sorted(_STATUSES)}"
        document["Status"] = status
    return None


def _edit_amount(document: Record, raw: Any) -> str | None:
    try:
        delta = Decimal(str(raw))
    except InvalidOperation:
        return "add_to_first_line must be a decimal amount"
    if Decimal(document.get("AmountPaid", 0)) or Decimal(document.get("AmountCredited", 0)):
        return "This document cannot be edited as it has a payment or credit note allocated to it."
    lines = document.get("LineItems") or []
    if not lines:
        return "the document has no lines to edit"
    line = lines[0]
    line["LineAmount"] = Decimal(line["LineAmount"]) + delta
    quantity = Decimal(line.get("Quantity") or 1)
    line["UnitAmount"] = (Decimal(line["LineAmount"]) / quantity).quantize(Decimal("0.0001"))
    for key in ("SubTotal", "Total", "AmountDue", "RemainingCredit"):
        if key in document:
            document[key] = Decimal(document[key]) + delta
    return None
