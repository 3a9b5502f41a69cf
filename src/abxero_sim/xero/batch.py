"""Batches of writes: per-element results with ``summarizeErrors=false``, else a summarised 400.

Either way Xero saves the valid elements: with the default (summarised) errors a batch with a
failed element is answered 400 ``ValidationException`` listing only the failed elements, yet
the valid ones were created (https://github.com/XeroAPI/xero-ruby/issues/247: "The invoice with
ref 001 has been successfully created in Xero, but api_response is nil";
https://stackoverflow.com/questions/52706101, answered by a Xero SDK maintainer). The
``rollback_failed_batches`` behaviour knob undoes the whole batch instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from abxero_sim.xero.call import Call, Reply, restore, snapshot, validation_exception
from abxero_sim.xero.state import Record

ElementWriter = Callable[[Call, Record], tuple[Record, list[str]]]


def elements_of(call: Call, plural: str) -> list[Any] | None:
    """The submitted array under the plural root (None when the body lacks it)."""
    payload = call.payload
    if isinstance(payload, dict) and isinstance(payload.get(plural), list):
        return list(payload[plural])
    if isinstance(payload, dict) and plural not in payload and payload:
        return [payload]
    return None


def run_batch(call: Call, plural: str, write_one: ElementWriter) -> Reply:
    """Write each element; report per element, or refuse the whole batch with a 400."""
    items = elements_of(call, plural)
    if items is None:
        return validation_exception(message=f"The request body must contain a '{plural}' array")
    summarize = call.flag("summarizeErrors", default=True)
    saved = snapshot(call.org) if summarize and call.rollback_failed_batches else None
    results, failed = [], False
    for item in items:
        if not isinstance(item, dict):
            results.append(
                {"ValidationErrors": [{"Message": "Invalid element"}], "HasErrors": True}
            )
            failed = True
            continue
        element, errors = write_one(call, item)
        if errors:
            failed = True
            element = {
                **element,
                "HasErrors": True,
                "StatusAttributeString": "ERROR",
                "ValidationErrors": [{"Message": m} for m in errors],
            }
        else:
            element = {**element, "StatusAttributeString": "OK"}
        results.append(element)
    if failed and summarize:
        if saved is not None:
            restore(call.org, saved)
        refused = [r for r in results if r.get("HasErrors")]
        reply = validation_exception(refused)
        reply.wrote = saved is None and len(refused) < len(results)
        return reply
    reply = call.envelope(plural, results)
    reply.wrote = True
    return reply
