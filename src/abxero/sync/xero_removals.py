"""The rollback's view of Xero (``rollback.XeroRemover``) over our Accounting API client."""

from __future__ import annotations

from typing import Any

from abxero.domain.plan import Endpoint
from abxero.sync.rollback import DELETE, DELETE_PAYMENT, REMOVE_ALLOCATION, Refused, Target
from abxero.sync.rollback import XeroState as State
from abxero.sync.xero_books import translated
from abxero.xero import ValidationFailedError, XeroAccounting

GONE = {"DELETED", "VOIDED"}
_ID_FIELDS = {"Invoices": "InvoiceID", "CreditNotes": "CreditNoteID"}
_BANK_WRITABLE = ("Type", "Contact", "BankAccount", "LineItems", "LineAmountTypes", "Date")
"""What an update of a bank transaction carries besides its id and Status: the spec's
``BankTransaction`` requires ``Type``, ``LineItems`` and ``BankAccount`` (xero_accounting.yaml),
so the document is sent back as Xero holds it, with ``Status: DELETED``."""


class XeroRemovalsClient:
    """Reads the state of our documents in Xero and takes them out as Xero allows."""

    def __init__(self, api: XeroAccounting) -> None:
        self._api = api

    def state(self, target: Target) -> State:
        return translated(lambda: self._state(target))

    def remove(self, target: Target, action: str, idempotency_key: str) -> None:
        try:
            translated(lambda: self._remove(target, action, idempotency_key))
        except ValidationFailedError as refusal:
            raise Refused("; ".join(refusal.messages) or str(refusal)) from refusal

    def _state(self, target: Target) -> State:
        endpoint = Endpoint(target.endpoint)
        if endpoint is Endpoint.PAYMENTS:
            payment = self._api.get_payment(target.xero_id)
            if payment is None or payment.get("Status") == "DELETED":
                return State(False)
            return State(True, str(payment.get("Status")), bool(payment.get("IsReconciled")))
        if endpoint is Endpoint.ALLOCATIONS:
            credit_note = self._api.get_document("CreditNotes", target.parent_xero_id)
            allocations = (credit_note or {}).get("Allocations") or []
            ids = {str(a.get("AllocationID", "")).lower() for a in allocations}
            return State(target.xero_id.lower() in ids, "AUTHORISED")
        document = self._api.get_document(endpoint.value, target.xero_id)
        if document is None or document.get("Status") in GONE:
            return State(False)
        return State(
            True,
            str(document.get("Status")),
            bool(document.get("IsReconciled")),
            _settled_by(document),
        )

    def _remove(self, target: Target, action: str, key: str) -> None:
        if action == REMOVE_ALLOCATION:
            self._api.delete_allocation(target.parent_xero_id, target.xero_id)
        elif action == DELETE_PAYMENT:
            self._api.delete_payment(target.xero_id, key)
        elif target.endpoint == Endpoint.BANK_TRANSACTIONS.value:
            self._delete_bank_transaction(target, key)
        else:
            status = "DELETED" if action == DELETE else "VOIDED"
            body = {_ID_FIELDS[target.endpoint]: target.xero_id, "Status": status}
            self._api.update_status(target.endpoint, target.xero_id, body, key)

    def _delete_bank_transaction(self, target: Target, key: str) -> None:
        held = self._api.get_document("BankTransactions", target.xero_id) or {}
        body: dict[str, Any] = {name: held[name] for name in _BANK_WRITABLE if name in held}
        body.update(BankTransactionID=target.xero_id, Status="DELETED")
        self._api.update_status("BankTransactions", target.xero_id, body, key)


def _settled_by(document: dict[str, Any]) -> tuple[str, ...]:
    """The payments and allocations Xero lists on a bill or credit note."""
    ids = [str(p.get("PaymentID")) for p in document.get("Payments") or [] if p.get("PaymentID")]
    ids += [
        str(c.get("CreditNoteID"))
        for c in document.get("CreditNotes") or []
        if c.get("CreditNoteID")
    ]
    ids += [
        str(a.get("AllocationID"))
        for a in document.get("Allocations") or []
        if a.get("AllocationID")
    ]
    return tuple(ids)
