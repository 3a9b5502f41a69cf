"""Pay-by-Invoice credit left without a bill: said once, and allocated when the bill comes in.

Planning marks a source whose credit note is not (wholly) allocated with the reason code
``unapplied_credit`` and the planner's reason (``ledger.record_plan``). After each planning
pass the engine calls :func:`settle_unapplied`:

* a credit note with no allocation whose bill is now in the ledger (e.g. an earlier range was
  imported) gets its allocation planned, dated the later of the two documents; the source
  goes back to ``planned`` until it is sent;
* otherwise one warning event names the transaction, the amount, the reason and the remedy
  (never twice for the same transaction); a credit already partly allocated is not looked at
  again after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.documents import credit_allocation
from abxero.domain.lifecycles import SourceStatus
from abxero.domain.lookup import OriginalBill, refunded_bill
from abxero.domain.plan import UNAPPLIED_CODE, UNAPPLIED_REMEDY, PlannedDocument, Role
from abxero.domain.transactions import Transaction, parse_transaction
from abxero.store.models import Event, OutboxDocument, SourceTransaction
from abxero.sync import ledger
from abxero.sync.bills import LedgerBills
from abxero.sync.events import record_event

ALLOCATED_CODE = "credit_allocated"


def settle_unapplied(session: Session, connection_id: int, now: datetime) -> list[Event]:
    """Allocate what can now be allocated; the events it records, as at ``now``."""
    warned = _warned(session, connection_id)
    notices: list[Event] = []
    for source in _unapplied_sources(session, connection_id):
        documents = {d.role: d for d in ledger.documents_of(session, connection_id, source)}
        credit = documents.get(Role.CREDIT_NOTE.value)
        allocated = Role.ALLOCATION.value in documents
        if credit is not None and not allocated:
            late = _late_allocation(session, connection_id, source, credit)
            if late is not None:
                ledger.add_documents(session, source, [late])
                source.status = SourceStatus.PLANNED
                _clear(source)
                if source.transaction_id in warned:
                    notices.append(_allocated_notice(session, connection_id, source, late, now))
                continue
        if source.transaction_id not in warned:
            notices.append(_unapplied_notice(session, connection_id, source, now))
        if allocated or credit is None:
            _clear(source)
    return notices


def _unapplied_sources(session: Session, connection_id: int) -> Sequence[SourceTransaction]:
    return session.scalars(
        select(SourceTransaction)
        .where(
            SourceTransaction.xero_connection_id == connection_id,
            SourceTransaction.reason_code == UNAPPLIED_CODE,
            SourceTransaction.status.in_((SourceStatus.PLANNED, SourceStatus.POSTED)),
        )
        .order_by(SourceTransaction.id)
    ).all()


def _late_allocation(
    session: Session, connection_id: int, source: SourceTransaction, credit: OutboxDocument
) -> PlannedDocument | None:
    parsed = parse_transaction(jsontext.loads(source.raw))
    if not isinstance(parsed, Transaction):
        return None
    bill = refunded_bill(parsed, LedgerBills(session, connection_id)).bill
    if bill is None:
        return None
    amount = min(credit.amount, bill.amount_due)
    return credit_allocation(
        credit.doc_key,
        credit.currency,
        _later_day(credit, bill),
        bill.key,
        bill.xero_id,
        amount,
        source.transaction_id,
    )


def _later_day(credit: OutboxDocument, bill: OriginalBill) -> date:
    day = date.fromisoformat(str(jsontext.loads(credit.payload)["Date"]))
    return max(day, bill.day) if bill.day else day


def _clear(source: SourceTransaction) -> None:
    source.reason_code = source.reason = source.remedy = ""


def _warned(session: Session, connection_id: int) -> set[str]:
    events = session.scalars(
        select(Event).where(Event.xero_connection_id == connection_id, Event.code == UNAPPLIED_CODE)
    )
    return {str((event.data or {}).get("transaction_id", "")) for event in events}


def _unapplied_notice(
    session: Session, connection_id: int, source: SourceTransaction, now: datetime
) -> Event:
    return record_event(
        session,
        connection_id,
        "warning",
        UNAPPLIED_CODE,
        f"Amazon refund {source.transaction_id} (orders {source.order_ids}): {source.reason}.",
        source.remedy or UNAPPLIED_REMEDY,
        at=now,
        transaction_id=source.transaction_id,
    )


def _allocated_notice(
    session: Session,
    connection_id: int,
    source: SourceTransaction,
    allocation: PlannedDocument,
    now: datetime,
) -> Event:
    amount: Decimal = allocation.amount
    return record_event(
        session,
        connection_id,
        "info",
        ALLOCATED_CODE,
        f"Amazon refund {source.transaction_id}: its bill is now known, so "
        f"{amount} of the unapplied credit is allocated to it.",
        "Nothing to do.",
        at=now,
        transaction_id=source.transaction_id,
    )
