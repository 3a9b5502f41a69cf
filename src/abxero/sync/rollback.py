"""Rollback: take what abxero posted for a period back out of Xero, exactly once.

Its own protocol beside the batch protocol (``batches.py``), with the same shape:

1. **Plan** (the preview): the transactions of the period that have posted documents, each
   document's state read from Xero (paced, reads only), stored as one ``rollback_actions`` row
   per document: what will be done (remove the allocation, delete the payment, void or delete
   the bill or credit note, delete the spend/receive money), or why it is kept (reconciled in
   Xero, a payment someone else made, a document outside the period depends on it). A
   transaction is rolled back whole or not at all, so the ledger never holds half of one.
2. **Act**: per action, in phases (allocations and payments before the documents they settle),
   the row is marked ``sending`` and committed, then Xero is called, then the outcome is
   committed with the outbox document marked ``removed``.
3. **Resume**: an action still ``sending`` after a crash is looked up in Xero first: gone means
   done; still there means the request is sent again (with the same Idempotency-Key).
4. **Settle the ledger**: a transaction whose documents are all out of Xero loses its outbox
   rows (the actions keep what they were: ids, amounts, keys) and its source becomes
   ``rolled_back``. A sync leaves it alone; an import whose range covers it sets it ``new``
   (``release``), so it is planned and posted again exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.lifecycles import (
    DocumentStatus,
    RollbackActionStatus,
    RollbackStatus,
    SourceStatus,
)
from abxero.domain.plan import Endpoint
from abxero.store.db import transaction
from abxero.store.models import (
    OutboxDocument,
    Rollback,
    RollbackAction,
    SourceTransaction,
)
from abxero.sync import ledger
from abxero.sync.batches import interrupted_batches
from abxero.sync.events import record_event
from abxero.sync.failpoints import reached

ROLLED_BACK = SourceStatus.ROLLED_BACK
REMOVED = DocumentStatus.REMOVED
PREVIEWED, RUNNING = RollbackStatus.PREVIEWED, RollbackStatus.RUNNING
DONE, FAILED = RollbackStatus.DONE, RollbackStatus.FAILED
PLANNED, SENDING = RollbackActionStatus.PLANNED, RollbackActionStatus.SENDING
ACTED, GONE, KEPT = RollbackActionStatus.DONE, RollbackActionStatus.GONE, RollbackActionStatus.KEPT
REFUSED = RollbackActionStatus.FAILED  # Xero refused the removal
REMOVE_ALLOCATION, DELETE_PAYMENT, VOID, DELETE = (
    "remove_allocation",
    "delete_payment",
    "void",
    "delete",
)
FIRST, SECOND = 1, 2
_PAYMENT_ROLES = {"payment", "refund"}


@dataclass(frozen=True)
class XeroState:
    """What Xero holds now for one of our documents."""

    exists: bool
    status: str = ""
    reconciled: bool = False
    settled_by: tuple[str, ...] = ()
    """Ids of the payments and allocations Xero shows on a bill or credit note."""


@dataclass(frozen=True)
class Target:
    """One document to look at or remove: enough to address it in Xero."""

    endpoint: str
    role: str
    xero_id: str
    parent_xero_id: str = ""


class RollbackBlocked(RuntimeError):
    """The rollback cannot be planned now; the message says why and what to do."""


class Refused(RuntimeError):
    """Xero refused a removal (a validation error): the reason, in Xero's words."""


class XeroRemover(Protocol):
    def state(self, target: Target) -> XeroState:
        """The document as Xero has it now (a read)."""
        ...

    def remove(self, target: Target, action: str, idempotency_key: str) -> None:
        """Delete or void it; raise ``Refused`` when Xero says no."""
        ...


# -- 1. plan -------------------------------------------------------------------------------


@dataclass
class _Item:
    document: OutboxDocument
    action: str = ""
    status: str = PLANNED
    reason: str = ""
    parent: str = ""


def plan(
    factory: sessionmaker[Session],
    xero: XeroRemover,
    connection_id: int,
    since: datetime,
    until: datetime,
    now: datetime,
    *,
    by_feed_date: bool = False,
) -> int:
    """Read Xero and store the preview of rolling back the transactions dated in
    ``[since, until)`` (or fetched in it, ``by_feed_date``, for one import run); its id."""
    with factory() as session:
        if interrupted_batches(session, connection_id):
            raise RollbackBlocked(
                "A sync was interrupted while sending to Xero; let the next sync finish "
                "(it settles what was sent), then preview the rollback again."
            )
        sources = _sources_in(session, connection_id, since, until, by_feed_date)
        documents = _documents(session, connection_id, [s.transaction_id for s in sources])
        known = _all_posted_ids(session, connection_id)
        outside = _dependants_outside(session, connection_id, {s.transaction_id for s in sources})
    by_key = {d.doc_key: d for d in documents}
    items = [
        _Item(d)
        for d in documents
        if d.status in (DocumentStatus.POSTED, REMOVED, DocumentStatus.SENDING)
    ]
    for item in items:
        _classify(item, by_key, xero, known)
    _keep_whole_transactions(items, outside)
    with transaction(factory) as session:
        rollback = Rollback(
            xero_connection_id=connection_id,
            range_start=since,
            range_end=until,
            status=PREVIEWED,
            created_at=now,
        )
        session.add(rollback)
        session.flush()
        for item in items:
            session.add(_action_row(rollback.id, item))
        return rollback.id


def _sources_in(
    session: Session, connection_id: int, since: datetime, until: datetime, by_feed_date: bool
) -> list[SourceTransaction]:
    dated = SourceTransaction.feed_date if by_feed_date else SourceTransaction.transaction_date
    return list(
        session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == connection_id,
                dated >= since,
                dated < until,
            )
            .order_by(SourceTransaction.id)
        )
    )


def _documents(
    session: Session, connection_id: int, transaction_ids: Sequence[str]
) -> list[OutboxDocument]:
    found: list[OutboxDocument] = []
    for start in range(0, len(transaction_ids), 500):
        found += session.scalars(
            select(OutboxDocument)
            .where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.transaction_id.in_(transaction_ids[start : start + 500]),
            )
            .order_by(OutboxDocument.id)
        )
    return found


def _all_posted_ids(session: Session, connection_id: int) -> set[str]:
    """Every Xero id abxero posted for the organisation (to tell its payments from others')."""
    rows = session.scalars(
        select(OutboxDocument.xero_id).where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.xero_id != "",
        )
    )
    return {str(xero_id).lower() for xero_id in rows}


def _dependants_outside(session: Session, connection_id: int, inside: set[str]) -> dict[str, str]:
    """doc_key → the transaction outside the period whose posted document depends on it."""
    found: dict[str, str] = {}
    rows = session.scalars(
        select(OutboxDocument).where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.status.in_((DocumentStatus.POSTED, DocumentStatus.SENDING)),
        )
    )
    for document in rows:
        if document.transaction_id in inside:
            continue
        for key in document.depends_on:
            found.setdefault(key, document.transaction_id)
    return found


def _target(document: OutboxDocument, parent: str = "") -> Target:
    return Target(document.endpoint, document.role, document.xero_id, parent)


def _classify(
    item: _Item, by_key: dict[str, OutboxDocument], xero: XeroRemover, known: set[str]
) -> None:
    document = item.document
    if document.status == REMOVED:
        item.status, item.reason = GONE, "removed from Xero by an earlier rollback"
        return
    if document.status == DocumentStatus.SENDING:
        item.status = KEPT
        item.reason = "it is being sent to Xero right now; let the sync finish, then try again"
        return
    endpoint = Endpoint(document.endpoint)
    if endpoint is Endpoint.ALLOCATIONS:
        item.parent = _credit_note_of(document, by_key)
        if not item.parent or ":" in document.xero_id:
            item.status = KEPT
            item.reason = "Xero gave no id for this allocation; remove it in Xero by hand"
            return
    state = xero.state(_target(document, item.parent))
    if not state.exists:
        item.status, item.reason = GONE, "already voided or deleted in Xero"
        return
    if state.reconciled:
        item.status = KEPT
        item.reason = "it is reconciled with a bank statement line in Xero, which apps may not undo"
        return
    strangers = [i for i in state.settled_by if i.lower() not in known]
    if strangers:
        item.status = KEPT
        item.reason = (
            f"it has a payment or allocation in Xero that abxero did not make ({strangers[0]})"
        )
        return
    item.action = _action_for(endpoint, state.status)


def _credit_note_of(document: OutboxDocument, by_key: dict[str, OutboxDocument]) -> str:
    """The Xero id of the credit note an allocation was made from."""
    for key, *path in document.links:
        if path and path[0] == "CreditNote" and key in by_key:
            return by_key[key].xero_id
    for key in document.depends_on:
        found = by_key.get(key)
        if found is not None and found.endpoint == Endpoint.CREDIT_NOTES.value:
            return found.xero_id
    return ""


def _action_for(endpoint: Endpoint, status: str) -> str:
    """Xero's way out for a document in ``status`` (xero-api.md §4.2: DELETED for drafts and
    submitted, VOIDED for authorised; spend/receive money is deleted)."""
    if endpoint is Endpoint.ALLOCATIONS:
        return REMOVE_ALLOCATION
    if endpoint is Endpoint.PAYMENTS:
        return DELETE_PAYMENT
    if endpoint is Endpoint.BANK_TRANSACTIONS or status in {"DRAFT", "SUBMITTED"}:
        return DELETE
    return VOID


def _keep_whole_transactions(items: list[_Item], outside: dict[str, str]) -> None:
    """A transaction is rolled back whole or kept whole, and nothing a document that stays in
    Xero depends on is removed. ``outside`` maps a doc_key to a transaction that stays and
    depends on it; it grows as transactions are kept, until nothing changes."""
    groups: dict[str, list[_Item]] = defaultdict(list)
    for item in items:
        groups[item.document.transaction_id].append(item)
    changed = True
    while changed:
        changed = False
        for transaction_id, group in groups.items():
            if not any(item.status == PLANNED for item in group):
                continue
            reason = _why_keep(group, outside)
            if reason is None:
                continue
            for item in group:
                if item.status == PLANNED:
                    item.status, item.reason = KEPT, reason
            for item in group:
                for key in item.document.depends_on:
                    outside.setdefault(key, transaction_id)
            changed = True


def _why_keep(group: list[_Item], outside: dict[str, str]) -> str | None:
    kept = next((item for item in group if item.status == KEPT), None)
    if kept is not None:
        document = kept.document
        name = document.xero_id or document.doc_key
        return f"kept with its {document.role} ({name}): {kept.reason}"
    for item in group:
        other = outside.get(item.document.doc_key)
        if other is not None and other != item.document.transaction_id:
            return f"transaction {other}, which stays in Xero, depends on its {item.document.role}"
    return None


def _action_row(rollback_id: int, item: _Item) -> RollbackAction:
    document = item.document
    return RollbackAction(
        rollback_id=rollback_id,
        transaction_id=document.transaction_id,
        doc_key=document.doc_key,
        role=document.role,
        endpoint=document.endpoint,
        xero_id=document.xero_id,
        parent_xero_id=item.parent,
        action=item.action,
        phase=SECOND if item.action in (VOID, DELETE) else FIRST,
        amount=document.amount,
        currency=document.currency,
        status=item.status,
        reason=item.reason,
    )


# -- 2. and 3. act, resuming after a crash -------------------------------------------------


@dataclass
class ActReport:
    """What one run of ``act`` did."""

    removed: int = 0
    already_gone: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


def act(
    factory: sessionmaker[Session],
    xero: XeroRemover,
    rollback_id: int,
    now: Callable[[], datetime],
    renew: Callable[[], None] = lambda: None,
) -> ActReport:
    """Carry out (or resume) a confirmed rollback, then settle the ledger."""
    report = ActReport()
    with transaction(factory) as session:
        rollback = session.get_one(Rollback, rollback_id)
        if rollback.status not in (PREVIEWED, RUNNING, FAILED):
            return report
        rollback.status, rollback.error = RUNNING, ""
        rollback.started_at = rollback.started_at or now()
    for action_id in _open_actions(factory, rollback_id):
        _act_once(factory, xero, rollback_id, action_id, now, report)
        renew()
    with transaction(factory) as session:
        settle(session, rollback_id, now())
        rollback = session.get_one(Rollback, rollback_id)
        rollback.status, rollback.finished_at = DONE, now()
    reached("rollback_settled")
    return report


def _open_actions(factory: sessionmaker[Session], rollback_id: int) -> list[int]:
    with factory() as session:
        return list(
            session.scalars(
                select(RollbackAction.id)
                .where(
                    RollbackAction.rollback_id == rollback_id,
                    RollbackAction.status.in_((PLANNED, SENDING)),
                )
                .order_by(RollbackAction.phase, RollbackAction.id)
            )
        )


def _act_once(
    factory: sessionmaker[Session],
    xero: XeroRemover,
    rollback_id: int,
    action_id: int,
    now: Callable[[], datetime],
    report: ActReport,
) -> None:
    with transaction(factory) as session:
        action = session.get_one(RollbackAction, action_id)
        target = Target(action.endpoint, action.role, action.xero_id, action.parent_xero_id)
        interrupted = action.status == SENDING
        if not interrupted and not _still_posted(session, rollback_id, action):
            action.status = KEPT
            action.reason = "abxero's record of it changed after the preview; preview again"
            return
        action.status, action.sent_at = SENDING, action.sent_at or now()
        action.attempts += 1
        verb = action.action
    reached("rollback_intent", str(action_id))
    if interrupted and not xero.state(target).exists:
        _record(factory, rollback_id, action_id, ACTED, "", now())
        report.already_gone += 1
        return
    try:
        xero.remove(target, verb, f"abx-rb-{rollback_id}-{action_id}")
    except Refused as refusal:
        _record(factory, rollback_id, action_id, REFUSED, str(refusal), now())
        report.refused.append((target.xero_id, str(refusal)))
        return
    reached("rollback_answered", str(action_id))
    _record(factory, rollback_id, action_id, ACTED, "", now())
    reached("rollback_recorded", str(action_id))
    report.removed += 1


def _still_posted(session: Session, rollback_id: int, action: RollbackAction) -> bool:
    rollback = session.get_one(Rollback, rollback_id)
    document = _outbox_row(session, rollback.xero_connection_id, action.doc_key)
    return (
        document is not None
        and document.status == DocumentStatus.POSTED
        and document.xero_id == action.xero_id
    )


def _outbox_row(session: Session, connection_id: int, doc_key: str) -> OutboxDocument | None:
    return session.scalars(
        select(OutboxDocument).where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.doc_key == doc_key,
        )
    ).first()


def _record(
    factory: sessionmaker[Session],
    rollback_id: int,
    action_id: int,
    status: str,
    reason: str,
    when: datetime,
) -> None:
    with transaction(factory) as session:
        action = session.get_one(RollbackAction, action_id)
        action.status, action.reason, action.finished_at = status, reason, when
        if status == ACTED:
            rollback = session.get_one(Rollback, rollback_id)
            _mark_removed(session, rollback.xero_connection_id, action)


def _mark_removed(session: Session, connection_id: int, action: RollbackAction) -> None:
    document = _outbox_row(session, connection_id, action.doc_key)
    if document is not None and document.xero_id == action.xero_id:
        document.status = REMOVED


# -- 4. settle the ledger -----------------------------------------------------------------


def settle(session: Session, rollback_id: int, now: datetime) -> None:
    """Reset every transaction of the rollback whose documents are all out of Xero; an event
    for the rollback, naming what was kept and why."""
    rollback = session.get_one(Rollback, rollback_id)
    actions = _actions(session, rollback_id)
    for action in actions:
        if action.status == GONE:
            _mark_removed(session, rollback.xero_connection_id, action)
    session.flush()
    by_transaction: dict[str, list[RollbackAction]] = defaultdict(list)
    for action in actions:
        by_transaction[action.transaction_id].append(action)
    reset = 0
    for transaction_id in by_transaction:
        reset += _reset_if_out(session, rollback, transaction_id, now)
    kept = [a for a in actions if a.status in (KEPT, REFUSED)]
    _rollback_event(session, rollback, reset, kept, now)


def _reset_if_out(session: Session, rollback: Rollback, transaction_id: str, now: datetime) -> int:
    connection_id = rollback.xero_connection_id
    documents = _documents(session, connection_id, [transaction_id])
    if not documents or any(
        d.status in (DocumentStatus.POSTED, DocumentStatus.SENDING) for d in documents
    ):
        return 0
    session.execute(delete(OutboxDocument).where(OutboxDocument.id.in_([d.id for d in documents])))
    source = ledger.find_source(session, connection_id, transaction_id)
    if source is not None:
        source.status = ROLLED_BACK
        source.needs_review = False
        source.planned_hash = ""
        source.reason_code = ROLLED_BACK
        source.reason = f"Rolled back from Xero on {now:%Y-%m-%d} (rollback {rollback.id})."
        source.remedy = "Import its period again to post it once more."
    return 1


def _actions(session: Session, rollback_id: int) -> list[RollbackAction]:
    return list(
        session.scalars(
            select(RollbackAction)
            .where(RollbackAction.rollback_id == rollback_id)
            .order_by(RollbackAction.phase, RollbackAction.id)
        )
    )


def _rollback_event(
    session: Session,
    rollback: Rollback,
    reset: int,
    kept: Sequence[RollbackAction],
    now: datetime,
) -> None:
    message = (
        f"Rollback {rollback.id} of {rollback.range_start:%Y-%m-%d} to "
        f"{rollback.range_end:%Y-%m-%d}: {reset} transactions taken out of Xero"
    )
    if kept:
        message += f"; {len(kept)} documents kept in Xero (see the rollback for why)"
    record_event(
        session,
        rollback.xero_connection_id,
        "warning" if kept else "info",
        "rollback_done",
        message + ".",
        "Import the period again to post them once more." if reset else "",
        at=now,
        rollback_id=rollback.id,
        transactions=reset,
        kept=len(kept),
    )


def release(session: Session, connection_id: int, start: datetime, end: datetime) -> int:
    """Rolled-back transactions whose feed date is in ``[start, end)`` become ``new`` again, so
    the import that called this plans and posts them once; how many."""
    sources = session.scalars(
        select(SourceTransaction).where(
            SourceTransaction.xero_connection_id == connection_id,
            SourceTransaction.status == ROLLED_BACK,
            SourceTransaction.feed_date >= start,
            SourceTransaction.feed_date < end,
        )
    ).all()
    for source in sources:
        source.status = SourceStatus.NEW
        source.reason_code, source.reason, source.remedy = "", "", ""
    return len(sources)


def unfinished(session: Session, connection_id: int) -> Rollback | None:
    """A confirmed rollback a crash (or an error) interrupted, if any."""
    return session.scalars(
        select(Rollback)
        .where(
            Rollback.xero_connection_id == connection_id,
            Rollback.status.in_((RUNNING, FAILED)),
        )
        .order_by(Rollback.id)
    ).first()


# -- what the preview and the result show ------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One document in a preview or result."""

    transaction_id: str
    role: str
    xero_id: str
    action: str
    status: str
    amount: Decimal
    currency: str
    reason: str


@dataclass
class Summary:
    """Counts and totals of a rollback by what is done, and the documents that are kept."""

    rollback_id: int
    status: str
    range_start: datetime
    range_end: datetime
    transactions: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=dict)
    kept: list[Line] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def summary(session: Session, rollback_id: int) -> Summary:
    """Counts per action (``void``, ``delete``, …), totals per action and currency, the kept."""
    rollback = session.get_one(Rollback, rollback_id)
    result = Summary(rollback.id, rollback.status, rollback.range_start, rollback.range_end)
    lines = [_line(a) for a in _actions(session, rollback_id)]
    result.lines = lines
    result.transactions = len({line.transaction_id for line in lines if line.action})
    for line in lines:
        if line.status in (KEPT, REFUSED):
            result.kept.append(line)
            continue
        what = line.action or "already_gone"
        result.counts[what] = result.counts.get(what, 0) + 1
        total_key = f"{what} {line.currency}"
        result.totals[total_key] = result.totals.get(total_key, Decimal(0)) + line.amount
    return result


def _line(action: RollbackAction) -> Line:
    return Line(
        action.transaction_id,
        action.role,
        action.xero_id,
        action.action,
        action.status,
        action.amount,
        action.currency,
        action.reason,
    )


def removable(lines: Iterable[Line]) -> int:
    """How many documents the rollback removes (or removed)."""
    return sum(1 for line in lines if line.action and line.status not in (KEPT, REFUSED))
