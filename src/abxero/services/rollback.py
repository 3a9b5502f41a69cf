"""What the manage page and ``abxero rollback`` do: preview a rollback, then carry it out.

The preview is stored (``rollbacks``/``rollback_actions``), so what a person confirms is exactly
what runs. Carrying it out holds the organisation's sync lease: no sync posts while documents
are being taken out. A rollback a crash interrupted is resumed before anything new starts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.lifecycles import RollbackStatus
from abxero.runtime import Runtime
from abxero.store.models import Rollback, SyncRun
from abxero.sync import rollback as protocol
from abxero.sync.leases import LeaseBusy, held
from abxero.sync.ports import SideError
from abxero.sync.rollback import RollbackBlocked, Summary
from abxero.sync.xero_removals import XeroRemovalsClient

LEASE_TTL = timedelta(minutes=10)

__all__ = ["LeaseBusy", "RollbackBlocked", "SideError", "Summary"]


class NotThisOrganisation(LookupError):
    """The rollback asked for belongs to another organisation (or does not exist)."""


def _remover(runtime: Runtime, connection_id: int) -> XeroRemovalsClient:
    return XeroRemovalsClient(runtime.xero_api(connection_id))


def preview(runtime: Runtime, connection_id: int, since: datetime, until: datetime) -> Summary:
    """Read Xero and store what rolling back ``[since, until)`` would do; nothing changes."""
    rollback_id = protocol.plan(
        runtime.sessions,
        _remover(runtime, connection_id),
        connection_id,
        since,
        until,
        runtime.now(),
    )
    return summary(runtime.sessions, connection_id, rollback_id)


def preview_run(runtime: Runtime, connection_id: int, run_id: int) -> Summary:
    """The preview of rolling back what one import run read (its feed-date range)."""
    with runtime.sessions() as session:
        run = session.get(SyncRun, run_id)
        if run is None or run.xero_connection_id != connection_id:
            raise NotThisOrganisation(run_id)
        if run.kind != "import" or run.range_start is None or run.range_end is None:
            raise RollbackBlocked(f"Run {run_id} is not an import of a date range.")
        since, until = run.range_start, run.range_end
    rollback_id = protocol.plan(
        runtime.sessions,
        _remover(runtime, connection_id),
        connection_id,
        since,
        until,
        runtime.now(),
        by_feed_date=True,
    )
    return summary(runtime.sessions, connection_id, rollback_id)


def summary(sessions: sessionmaker[Session], connection_id: int, rollback_id: int) -> Summary:
    """A stored rollback's counts, totals and kept documents."""
    with sessions() as session:
        stored = session.get(Rollback, rollback_id)
        if stored is None or stored.xero_connection_id != connection_id:
            raise NotThisOrganisation(rollback_id)
        return protocol.summary(session, rollback_id)


def carry_out(
    runtime: Runtime, connection_id: int, rollback_id: int, lease_ttl: timedelta = LEASE_TTL
) -> Summary:
    """Carry out a previewed rollback (or resume one), holding the organisation's lease.

    A failure on Xero's side leaves the rollback ``failed`` with the cause; running it again
    resumes where it stopped."""
    summary(runtime.sessions, connection_id, rollback_id)
    name = f"sync:{connection_id}"
    with held(runtime.sessions, name, runtime.work_holder(), lease_ttl, runtime.now) as renew:
        try:
            protocol.act(
                runtime.sessions, _remover(runtime, connection_id), rollback_id, runtime.now, renew
            )
        except SideError as problem:
            _fail(runtime.sessions, rollback_id, str(problem))
            raise
    return summary(runtime.sessions, connection_id, rollback_id)


def _fail(sessions: sessionmaker[Session], rollback_id: int, cause: str) -> None:
    with sessions() as session, session.begin():
        stored = session.get_one(Rollback, rollback_id)
        stored.status, stored.error = RollbackStatus.FAILED, cause


def unfinished(sessions: sessionmaker[Session], connection_id: int) -> int | None:
    """The id of a rollback that was confirmed but not finished, if any."""
    with sessions() as session:
        found = protocol.unfinished(session, connection_id)
        return found.id if found else None


def latest(sessions: sessionmaker[Session], connection_id: int) -> Summary | None:
    """The organisation's most recent rollback, for the manage page."""
    with sessions() as session:
        found = session.scalars(
            select(Rollback.id)
            .where(Rollback.xero_connection_id == connection_id)
            .order_by(Rollback.id.desc())
        ).first()
        return protocol.summary(session, found) if found is not None else None
