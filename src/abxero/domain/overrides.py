"""What Amazon's invoice and payment details add to a transaction, applied around planning.

The raw ``getTransactions`` record stays the source of truth. Details fetched separately may
name the invoice a record lacks (US Pay by Invoice: the number comes from
getInvoiceDetailsByOrderLineItems) and the Pay-by-Invoice due date (getBatchInvoicePaymentDetails),
which replaces the configured terms. Both are optional: without them the plan is exactly what
:func:`plan_record` makes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from abxero.domain.context import OrgContext
from abxero.domain.lookup import BillLookup, NoBills
from abxero.domain.mapping import MappingConfig
from abxero.domain.plan import Plan, Planned, PlannedDocument, Role
from abxero.domain.planner import plan_transaction
from abxero.domain.transactions import Quarantined, parse_transaction


@dataclass(frozen=True)
class PlanOverrides:
    """Amazon's own invoice number (used only when the record has none) and due date."""

    invoice_number: str = ""
    due_date: date | None = None


def plan_record_with(
    raw: Any,
    mapping: MappingConfig,
    context: OrgContext,
    lookup: BillLookup | None = None,
    overrides: PlanOverrides | None = None,
) -> Plan:
    """Parse and plan one raw record, then apply ``overrides``."""
    parsed = parse_transaction(raw)
    if isinstance(parsed, Quarantined):
        return parsed
    if overrides and overrides.invoice_number and not parsed.invoice_number:
        parsed = dataclasses.replace(parsed, invoice_number=overrides.invoice_number)
    plan = plan_transaction(parsed, mapping, context, lookup or NoBills(), raw=raw)
    if overrides and overrides.due_date and isinstance(plan, Planned):
        return with_due_date(plan, overrides.due_date)
    return plan


def with_due_date(plan: Planned, due: date) -> Planned:
    """The plan with its bill due on ``due`` (never before the bill's own date)."""
    return dataclasses.replace(
        plan, documents=tuple(_due(document, due) for document in plan.documents)
    )


def _due(document: PlannedDocument, due: date) -> PlannedDocument:
    if document.role is not Role.BILL or "DueDate" not in document.payload:
        return document
    bill_date = date.fromisoformat(str(document.payload.get("Date")))
    payload = {**document.payload, "DueDate": max(due, bill_date).isoformat()}
    return dataclasses.replace(document, payload=payload)
