"""A refusal is not trusted for a document that may already be in Xero.

A payment or an allocation refused by Xero may have been written by an earlier attempt whose
reply was lost: paying a bill that this very payment already paid is answered "Invoice not of
valid status for creating payment". Marking it failed would put the ledger out of step with
Xero, and Retry would be refused for ever. So before a refused payment or allocation is
recorded as failed, it is looked up in Xero (``GET Payments`` over its dates, matched on the
same invoice or credit note and amount; the credit note's ``Allocations`` for an allocation —
see ``XeroBooks.find_many``). One that is found is recorded as posted with Xero's id, with a
notice; only one that is not found is recorded as refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from abxero.domain import jsontext
from abxero.domain.plan import Endpoint
from abxero.sync.batches import ElementOutcome, OutgoingBatch
from abxero.sync.ports import XeroBooks

DEPENDENT = frozenset({Endpoint.PAYMENTS, Endpoint.ALLOCATIONS})
FOUND_CODE = "document_found_after_refusal"
FOUND_REMEDY = (
    "Nothing to do: the document was already in Xero (an earlier reply was lost), so abxero "
    "recorded Xero's own document instead of sending it again."
)


@dataclass(frozen=True)
class Rechecked:
    """The outcomes to record, and which elements (by place in the batch) were found."""

    outcomes: list[ElementOutcome]
    found: dict[int, str]


def recheck_refusals(
    xero: XeroBooks, batch: OutgoingBatch, outcomes: Sequence[ElementOutcome]
) -> Rechecked:
    """``outcomes`` with each refused payment or allocation that Xero already holds turned
    into a success carrying Xero's id (one lookup request per batch of payments)."""
    kept = list(outcomes)
    if batch.endpoint not in DEPENDENT:
        return Rechecked(kept, {})
    refused = [index for index, outcome in enumerate(kept) if not outcome.ok]
    if not refused:
        return Rechecked(kept, {})
    payloads = _element_payloads(batch)
    if len(payloads) != len(kept):
        return Rechecked(kept, {})
    ids = xero.find_many(batch.endpoint, [payloads[index] for index in refused])
    found = {index: xero_id for index, xero_id in zip(refused, ids, strict=True) if xero_id}
    for index, xero_id in found.items():
        kept[index] = ElementOutcome(True, xero_id)
    return Rechecked(kept, found)


def _element_payloads(batch: OutgoingBatch) -> list[dict[str, Any]]:
    payloads: list[dict[str, Any]] = jsontext.loads(batch.body)[batch.endpoint.value]
    if batch.endpoint is Endpoint.ALLOCATIONS:
        return [{**payload, "CreditNotePath": batch.path} for payload in payloads]
    return payloads


def found_message(key: str, errors: Sequence[str]) -> str:
    refusal = "; ".join(errors) or "a refusal"
    return (
        f"{key}: Xero answered {refusal!r}, but it already holds this document from an earlier "
        "attempt; recorded as posted."
    )
