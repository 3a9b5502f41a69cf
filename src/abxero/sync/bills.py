"""The planner's view of bills already in the ledger, for Pay-by-Invoice refunds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.lifecycles import DocumentStatus
from abxero.domain.lookup import OriginalBill, line_refs
from abxero.domain.plan import Role
from abxero.domain.transactions import Transaction, parse_transaction
from abxero.store import tallies
from abxero.store.models import OutboxDocument, SourceTransaction


class LedgerBills:
    """The open bills of an order with the Amazon lines each was charged for, and what our
    allocations left due on each.

    Only bills without a payment of ours count: a card-paid bill of the same order (a purchase
    split over instruments) has nothing left to allocate a credit to.
    """

    def __init__(self, session: Session, connection_id: int) -> None:
        self._session = session
        self._connection_id = connection_id

    def bills_of_orders(self, order_ids: tuple[str, ...]) -> Sequence[OriginalBill]:
        if not order_ids:
            return []
        charges = self._session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == self._connection_id,
                SourceTransaction.transaction_id.in_(
                    tallies.orders_of(self._connection_id, order_ids)
                ),
                SourceTransaction.amount > 0,
            )
            .order_by(SourceTransaction.id)
        ).all()
        found = []
        for charge in charges:
            parsed = parse_transaction(jsontext.loads(charge.raw))
            if not isinstance(parsed, Transaction) or not set(parsed.order_ids) & set(order_ids):
                continue
            bill = self._document(charge.transaction_id, Role.BILL)
            if bill is None or self._document(charge.transaction_id, Role.PAYMENT) is not None:
                continue
            found.append(self._original(bill, parsed))
        return found

    def _original(self, bill: OutboxDocument, charge: Transaction) -> OriginalBill:
        day = jsontext.loads(bill.payload).get("Date")
        return OriginalBill(
            key=bill.doc_key,
            amount_due=bill.amount - self._allocated_to(bill),
            currency=bill.currency,
            xero_id=bill.xero_id if bill.status == DocumentStatus.POSTED else None,
            lines=line_refs(charge),
            day=date.fromisoformat(day) if isinstance(day, str) else None,
            order_ids=charge.order_ids,
        )

    def _document(self, transaction_id: str, role: Role) -> OutboxDocument | None:
        return self._session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == self._connection_id,
                OutboxDocument.transaction_id == transaction_id,
                OutboxDocument.role == role.value,
            )
        ).first()

    def _allocated_to(self, bill: OutboxDocument) -> Decimal:
        """Our allocations to ``bill``: linked by key while it was unposted, or naming its
        Xero id; refused ones do not count."""
        allocations = self._session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == self._connection_id,
                OutboxDocument.role == Role.ALLOCATION.value,
                OutboxDocument.status != DocumentStatus.FAILED,
            )
        )
        return sum(
            (
                allocation.amount
                for allocation in allocations
                if bill.doc_key in allocation.depends_on or _names(allocation, bill.xero_id)
            ),
            Decimal(0),
        )


def _names(allocation: OutboxDocument, xero_id: str) -> bool:
    if not xero_id:
        return False
    invoice = jsontext.loads(allocation.payload).get("Invoice") or {}
    return bool(invoice.get("InvoiceID") == xero_id)
