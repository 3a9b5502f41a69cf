"""What the manage page shows and does: health of both sides, holds, errors and retries,
remapping, recent activity with links, and disconnecting (the ledger is kept)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.context import OrgContext
from abxero.domain.lifecycles import (
    FINISHED_RUN_STATUSES,
    UNSUCCESSFUL_RUN_STATUSES,
    ConnectionStatus,
    DocumentStatus,
    RunStatus,
    SourceStatus,
)
from abxero.domain.mapping import MappingConfig, PaymentMethod
from abxero.domain.mapping_checks import MappingProblem
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services.activity import CurrentRun, current_activity, next_sync_note
from abxero.services.amazon_link import STORES
from abxero.services.connections import forget_token_set, syncing_as
from abxero.services.setup import save_checked_mapping, saved_mapping
from abxero.store import tallies
from abxero.store.db import transaction
from abxero.store.models import (
    AmazonAccountKey,
    AmazonConnection,
    EncryptedTokenSet,
    Event,
    Lease,
    OutboxDocument,
    SourceTransaction,
    SyncRun,
    XeroConnection,
)
from abxero.sync import due
from abxero.sync.ledger import find_source
from abxero.sync.run_failures import RUN_FAILED
from abxero.xero import XeroError

ZERO = Decimal("0")
XERO_LINKS = {
    "bill": "/AccountsPayable/Edit.aspx?InvoiceID={id}",
    "credit_note": "/AccountsPayable/ViewCreditNote.aspx?creditNoteID={id}",
    "spend": "/Bank/ViewTransaction.aspx?bankTransactionID={id}",
    "receive": "/Bank/ViewTransaction.aspx?bankTransactionID={id}",
}
XERO_LABELS = {
    "bill": "Bill",
    "credit_note": "Credit note",
    "spend": "Spend money",
    "receive": "Receive money",
}


def xero_link(short_code: str, role: str, xero_id: str) -> str | None:
    """The deep link to a document in Xero, through the organisation's short code."""
    path = XERO_LINKS.get(role)
    if not path or not xero_id:
        return None
    target = path.format(id=quote(xero_id))
    return (
        "https://go.xero.com/organisationlogin/default.aspx"
        f"?shortcode={quote(short_code)}&redirecturl={target}"
    )


def amazon_order_link(region: str, order_id: str) -> str:
    store = STORES.get(region, STORES["US"])
    return f"{store}/gp/your-account/order-details?orderID={quote(order_id)}"


# -- status -----


@dataclass(frozen=True)
class AmazonSide:
    region: str
    business_name: str
    status: str


@dataclass(frozen=True)
class LastRun:
    """The latest finished run: when, whether it worked, and if not why and what to do."""

    kind: str
    status: str
    finished_at: datetime | None
    error: str
    remedy: str

    @property
    def failed(self) -> bool:
        """Failed, or interrupted (its worker died mid-way)."""
        return self.status in UNSUCCESSFUL_RUN_STATUSES


def _sync_in_progress(session: Session, connection_id: int, now: datetime) -> bool:
    """A queued run, or a running one whose worker still holds the lease: a run whose worker
    died is not shown as running (the next run closes it as interrupted)."""
    statuses = [RunStatus.QUEUED]
    lease = session.get(Lease, f"sync:{connection_id}")
    if lease is not None and lease.expires_at > now:
        statuses.append(RunStatus.RUNNING)
    count = session.scalar(
        select(func.count()).where(
            SyncRun.xero_connection_id == connection_id, SyncRun.status.in_(statuses)
        )
    )
    return bool(count)


def last_run(session: Session, connection_id: int) -> LastRun | None:
    """The latest finished run of an organisation, with the remedy recorded for its failure."""
    run = session.scalars(
        select(SyncRun)
        .where(
            SyncRun.xero_connection_id == connection_id,
            SyncRun.status.in_(FINISHED_RUN_STATUSES),
        )
        .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    remedy = ""
    if run.status == RunStatus.FAILED:
        events = session.scalars(
            select(Event)
            .where(Event.xero_connection_id == connection_id, Event.created_at >= run.started_at)
            .order_by(Event.id.desc())
        ).all()
        for event in events:
            if event.code == RUN_FAILED and event.data.get("run_id") == run.id:
                remedy = event.remedy
                break
            if event.level in ("error", "warning") and event.remedy and not remedy:
                remedy = event.remedy
    return LastRun(run.kind, run.status, run.finished_at, run.error, remedy)


@dataclass(frozen=True)
class Status:
    connection_id: int
    name: str
    short_code: str
    setup_step: str
    xero_status: str
    amazon: AmazonSide | None
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    parked_until: datetime | None
    counts: dict[str, int]
    running: bool
    last_run: LastRun | None = None
    activity: CurrentRun | None = None
    next_sync_note: str = ""

    @property
    def region(self) -> str:
        return self.amazon.region if self.amazon else ""


def status(sessions: sessionmaker[Session], connection_id: int, now: datetime) -> Status:
    with sessions() as session:
        connection = session.get_one(XeroConnection, connection_id)
        amazon = session.scalars(
            select(AmazonConnection).where(AmazonConnection.xero_connection_id == connection_id)
        ).first()
        counts = tallies.status_counts(session, connection_id)
        running = _sync_in_progress(session, connection_id, now)
        activity = current_activity(session, connection_id, now)
        next_at = due.next_sync(session, connection, now)
        retry = due.retry_until(session, connection)
        note = next_sync_note(connection, next_at, now, activity, retry)
        return Status(
            connection_id=connection.id,
            name=connection.tenant_name,
            short_code=connection.short_code,
            setup_step=connection.setup_step,
            xero_status=connection.status,
            amazon=AmazonSide(amazon.region, amazon.business_name, amazon.status)
            if amazon
            else None,
            last_sync_at=connection.last_sync_at,
            next_sync_at=next_at,
            parked_until=connection.parked_until,
            counts={str(key): int(value) for key, value in counts.items()},
            running=bool(running),
            last_run=last_run(session, connection_id),
            activity=activity,
            next_sync_note=note,
        )


# -- held transactions and errors -----


@dataclass(frozen=True)
class Waiting:
    transaction_id: str
    date: datetime | None
    amount: Decimal
    currency: str
    instrument_key: str
    order_ids: tuple[str, ...]


@dataclass
class HeldGroup:
    reason_code: str
    reason: str
    remedy: str
    transactions: list[Waiting] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.transactions)

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.transactions), ZERO)


def waiting_of(source: SourceTransaction) -> Waiting:
    """A waiting transaction as the manage page lists it."""
    return Waiting(
        source.transaction_id,
        source.transaction_date,
        source.amount or ZERO,
        source.currency,
        source.instrument_key,
        tuple(source.order_ids.split()),
    )


def held_groups(sessions: sessionmaker[Session], connection_id: int) -> list[HeldGroup]:
    """Held transactions grouped by reason, the biggest group first."""
    groups: dict[tuple[str, str], HeldGroup] = {}
    with sessions() as session:
        sources = session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.status.in_(
                    (SourceStatus.HELD, SourceStatus.QUARANTINED, SourceStatus.FAILED)
                ),
            )
            .order_by(SourceTransaction.transaction_date)
        ).all()
        for source in sources:
            key = (source.reason_code, source.reason)
            group = groups.setdefault(
                key, HeldGroup(source.reason_code, source.reason, source.remedy)
            )
            group.transactions.append(waiting_of(source))
    return sorted(groups.values(), key=lambda group: -group.count)


@dataclass(frozen=True)
class FailedDocument:
    transaction_id: str
    role: str
    error: str
    amount: Decimal
    currency: str


def failed_documents(
    sessions: sessionmaker[Session], connection_id: int, limit: int = 100
) -> dict[str, list[FailedDocument]]:
    """The latest ``limit`` documents Xero refused, by transaction; the error text carries the
    remedy when known."""
    failed: dict[str, list[FailedDocument]] = defaultdict(list)
    with sessions() as session:
        rows = session.scalars(
            select(OutboxDocument)
            .where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.status == DocumentStatus.FAILED,
            )
            .order_by(OutboxDocument.updated_at.desc())
            .limit(limit)
        ).all()
        for row in rows:
            failed[row.transaction_id].append(
                FailedDocument(row.transaction_id, row.role, row.error, row.amount, row.currency)
            )
    return dict(failed)


def retry_transaction(
    sessions: sessionmaker[Session], jobs: Jobs, connection_id: int, transaction_id: str
) -> bool:
    """Forget the refused documents of a transaction (or that it was set aside after failing
    runs) so the next sync plans it again."""
    with transaction(sessions) as session:
        source = find_source(session, connection_id, transaction_id)
        if source is None:
            return False
        refused = session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.transaction_id == transaction_id,
                OutboxDocument.status == DocumentStatus.FAILED,
            )
        ).all()
        if not refused and source.status != SourceStatus.FAILED:
            return False
        for document in refused:
            session.delete(document)
        source.status = SourceStatus.NEW
        source.reason_code = source.reason = source.remedy = ""
    jobs.enqueue_sync(connection_id)
    return True


# -- activity -----


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Activity:
    transaction_id: str
    date: datetime | None
    amount: Decimal
    currency: str
    instrument_key: str
    xero: tuple[Link, ...]
    amazon: tuple[Link, ...]


def recent_activity(
    sessions: sessionmaker[Session], connection_id: int, limit: int = 25
) -> list[Activity]:
    """The latest posted transactions, each with links to its Xero documents and Amazon orders."""
    with sessions() as session:
        connection = session.get_one(XeroConnection, connection_id)
        region = session.scalar(
            select(AmazonConnection.region).where(
                AmazonConnection.xero_connection_id == connection_id
            )
        )
        sources = session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.status == SourceStatus.POSTED,
            )
            .order_by(SourceTransaction.updated_at.desc(), SourceTransaction.id.desc())
            .limit(limit)
        ).all()
        documents: dict[str, list[OutboxDocument]] = defaultdict(list)
        for document in session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.transaction_id.in_([s.transaction_id for s in sources]),
            )
        ):
            documents[document.transaction_id].append(document)
        return [
            Activity(
                source.transaction_id,
                source.transaction_date,
                source.amount or ZERO,
                source.currency,
                source.instrument_key,
                tuple(
                    Link(XERO_LABELS[document.role], url)
                    for document in documents[source.transaction_id]
                    if (url := xero_link(connection.short_code, document.role, document.xero_id))
                ),
                tuple(
                    Link(f"Order {order_id}", amazon_order_link(region or "US", order_id))
                    for order_id in source.order_ids.split()
                ),
            )
            for source in sources
        ]


@dataclass(frozen=True)
class Notice:
    level: str
    message: str
    remedy: str
    created_at: datetime


def recent_events(
    sessions: sessionmaker[Session], connection_id: int, limit: int = 10
) -> list[Notice]:
    with sessions() as session:
        rows = session.scalars(
            select(Event)
            .where(Event.xero_connection_id == connection_id)
            .order_by(Event.created_at.desc(), Event.id.desc())
            .limit(limit)
        ).all()
        return [Notice(row.level, row.message, row.remedy, row.created_at) for row in rows]


# -- remapping -----


def remap_payment_methods(
    sessions: sessionmaker[Session],
    jobs: Jobs,
    connection_id: int,
    methods: dict[str, PaymentMethod | None],
    context: OrgContext,
) -> tuple[MappingProblem, ...]:
    """Save a new mapping version with these instruments changed, then sync so holds post."""
    current = saved_mapping(sessions, connection_id)
    if current is None:
        return (MappingProblem("payment_methods", "Finish the mapping step of the setup first."),)
    updated = dict(current.payment_methods)
    for key, method in methods.items():
        if method is None:
            updated.pop(key, None)
        else:
            updated[key] = method
    return save_and_sync(
        sessions, jobs, connection_id, replace_mapping(current, payment_methods=updated), context
    )


def replace_mapping(mapping: MappingConfig, **changes: object) -> MappingConfig:
    """A copy of ``mapping`` with ``changes``, validated again."""
    return MappingConfig.model_validate({**mapping.model_dump(), **changes})


def save_and_sync(
    sessions: sessionmaker[Session],
    jobs: Jobs,
    connection_id: int,
    mapping: MappingConfig,
    context: OrgContext,
) -> tuple[MappingProblem, ...]:
    """Save a checked mapping; held transactions are planned again by the sync it starts."""
    problems = save_checked_mapping(sessions, connection_id, mapping, context)
    if not problems:
        jobs.enqueue_sync(connection_id)
    return problems


def syncing_as_name(sessions: sessionmaker[Session], connection_id: int) -> str:
    """Whose Xero sign-in the organisation syncs with."""
    with sessions() as session:
        return syncing_as(session, connection_id)


# -- disconnecting -----


def disconnect(runtime: Runtime, connection_id: int) -> None:
    """Remove the Xero connection and forget the Amazon grant; every ledger row stays."""
    with runtime.sessions() as session:
        connection = session.get_one(XeroConnection, connection_id)
        token_set_id, uid = connection.token_set_id, connection.xero_connection_uid
    if token_set_id is not None and uid:
        with contextlib.suppress(XeroError, TimeoutError):
            access = runtime.xero_tokens(token_set_id).access_token()
            runtime.xero_auth().disconnect(access, uid)
    with transaction(runtime.sessions) as session:
        connection = session.get_one(XeroConnection, connection_id)
        connection.status = ConnectionStatus.DISCONNECTED
        connection.token_set_id = None  # the grant itself goes below
        amazon = session.scalars(
            select(AmazonConnection).where(AmazonConnection.xero_connection_id == connection_id)
        ).first()
        if amazon is not None:
            amazon_tokens = amazon.token_set_id
            session.execute(
                delete(AmazonAccountKey).where(AmazonAccountKey.amazon_connection_id == amazon.id)
            )
            session.delete(amazon)
            session.flush()
            if amazon_tokens:
                session.execute(
                    delete(EncryptedTokenSet).where(EncryptedTokenSet.id == amazon_tokens)
                )
        session.add(
            Event(
                xero_connection_id=connection_id,
                level="info",
                code="disconnected",
                message="Disconnected from Xero and Amazon Business. The history is kept.",
                remedy="Sign in with Xero again to reconnect.",
                created_at=runtime.now(),
            )
        )
    if token_set_id is not None:
        forget_token_set(runtime, token_set_id)
