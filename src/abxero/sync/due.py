"""Which organisations are due a sync, and when each one's next sync is: the facts for the rule
in ``domain/due.py``, read from the store. The scheduler (``jobs/tasks.py``), the manage page
(``services/manage.py``) and ``abxero status`` (``commands.py``) all ask here, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import due
from abxero.domain.lifecycles import UNSUCCESSFUL_RUN_STATUSES, ConnectionStatus, SetupStep
from abxero.store.models import AmazonConnection, EntityRoute, SyncRun, XeroConnection

RECENT_RUNS = 10


def failing_since(session: Session, connection_id: int) -> tuple[int, datetime | None]:
    """How many finished runs in a row failed most recently, and when the last one ended."""
    recent = session.scalars(
        select(SyncRun)
        .where(SyncRun.xero_connection_id == connection_id, SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc())
        .limit(RECENT_RUNS)
    ).all()
    failures = 0
    for run in recent:
        if run.status not in UNSUCCESSFUL_RUN_STATUSES:  # a killed run counts as a failure
            break
        failures += 1
    return failures, (recent[0].finished_at if failures else None)


def fed_connections(session: Session) -> set[int]:
    """Organisations an Amazon Business feed reaches: paired with a connected account, or sent
    legal entities by an organisation that is (sync/routing.py)."""
    paired = select(AmazonConnection.xero_connection_id).where(
        AmazonConnection.status == ConnectionStatus.CONNECTED
    )
    fed = select(EntityRoute.target_connection_id).where(EntityRoute.home_connection_id.in_(paired))
    return set(session.scalars(paired)) | set(session.scalars(fed))


def facts(
    session: Session, connection: XeroConnection, fed: Iterable[int], runs: bool = True
) -> due.SyncFacts:
    """The rule's facts for one organisation; ``fed`` from :func:`fed_connections`. Without
    ``runs`` the failed runs are not read (they can only make the next sync later)."""
    failures, last_failed = failing_since(session, connection.id) if runs else (0, None)
    return due.SyncFacts(
        setup_step=connection.setup_step,
        status=connection.status,
        fed=connection.id in fed,
        interval=timedelta(minutes=connection.sync_interval_minutes),
        last_sync_at=connection.last_sync_at,
        parked_until=connection.parked_until,
        failures=failures,
        last_failed_at=last_failed,
    )


def next_syncs(
    session: Session, connections: Iterable[XeroConnection], now: datetime
) -> dict[int, datetime | None]:
    """Each organisation's next sync (``now`` when due), or None when none is scheduled."""
    fed = fed_connections(session)
    return {c.id: due.next_sync(facts(session, c, fed), now) for c in connections}


def next_sync(session: Session, connection: XeroConnection, now: datetime) -> datetime | None:
    """One organisation's next sync, as :func:`next_syncs` tells it."""
    return next_syncs(session, [connection], now)[connection.id]


def retry_until(session: Session, connection: XeroConnection) -> datetime | None:
    """When the scheduler tries again after failed runs in a row, or None."""
    return due.retry_after(facts(session, connection, ()))


def due_connections(session: Session, now: datetime) -> list[int]:
    """Organisations the scheduler should sync now, by id."""
    candidates = session.scalars(
        select(XeroConnection)
        .where(
            XeroConnection.setup_step == SetupStep.DONE,
            XeroConnection.status == ConnectionStatus.CONNECTED,
        )
        .order_by(XeroConnection.id)
    ).all()
    fed = fed_connections(session)
    return [
        connection.id
        for connection in candidates
        if due.is_due(facts(session, connection, fed, runs=False), now)
        and due.is_due(facts(session, connection, fed), now)
    ]
