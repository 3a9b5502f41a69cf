"""The planner's view of bills already in the ledger, for Pay-by-Invoice refunds."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain.lookup import OriginalBill
from abxero.domain.plan import Role
from abxero.store.models import OutboxDocument, SourceTransaction
from abxero.sync.ledger import POSTED


class LedgerBills:
    """Finds the open bill an order was charged on, and what our allocations left due on it.

    Only bills without a payment of ours count: a card-paid bill of the same order (a purchase
    split over instruments) has nothing left to allocate a credit to.
    """

    def __init__(self, session: Session, connection_id: int) -> None:
        self._session = session
        self._connection_id = connection_id

    def original_bill(
        self, order_id: str, order_line_item_ids: tuple[str, ...]
    ) -> OriginalBill | None:
        charges = self._session.scalars(
            select(SourceTransaction.transaction_id).where(
                SourceTransaction.xero_connection_id == self._connection_id,
                SourceTransaction.order_ids.contains(order_id),
                SourceTransaction.amount > 0,
            )
        ).all()
        for transaction_id in charges:
            bill = self._document(transaction_id, Role.BILL)
            paid = self._document(transaction_id, Role.PAYMENT) is not None
            if bill is not None and not paid:
                return OriginalBill(
                    key=bill.doc_key,
                    amount_due=bill.amount - self._allocated_to(bill.doc_key),
                    currency=bill.currency,
                    xero_id=bill.xero_id if bill.status == POSTED else None,
                )
        return None

    def _document(self, transaction_id: str, role: Role) -> OutboxDocument | None:
        return self._session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == self._connection_id,
                OutboxDocument.transaction_id == transaction_id,
                OutboxDocument.role == role.value,
            )
        ).first()

    def _allocated_to(self, bill_key: str) -> Decimal:
        allocations = self._session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == self._connection_id,
                OutboxDocument.role == Role.ALLOCATION.value,
            )
        )
        return sum(
            (document.amount for document in allocations if bill_key in document.depends_on),
            Decimal(0),
        )
