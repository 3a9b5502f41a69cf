"""Shared Xero pacing in the database, for installs whose queue is not Redis.

Every start locks the app-wide hold row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), then reads the tenant's and the app's live
calls and slots and, if everything fits, records the call and the slot in the same
transaction. One row per call keeps the windows sliding (see :mod:`abxero.xero.shared_pacing`).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from abxero.store.models import PaceCall, PaceHold, PaceSlot
from abxero.xero.shared_pacing import (
    APP_SCOPE,
    DAY,
    MINUTE,
    SLOT_POLL,
    PaceLimits,
    Remaining,
    window_wait,
)


class DatabasePaceBackend:
    """:class:`~abxero.xero.shared_pacing.PaceBackend` in the ledger database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._known: set[str] = set()
        self._calls: dict[str, int] = {}

    def _ensure(self, *scopes: str) -> None:
        for scope in scopes:
            if scope in self._known:
                continue
            try:
                with self._sessions() as session, session.begin():
                    if session.get(PaceHold, scope) is None:
                        session.add(PaceHold(scope=scope, until=0.0))
            except IntegrityError:
                pass  # another worker added it first
            self._known.add(scope)

    def try_start(self, tenant_id: str, slot_id: str, now: float, limits: PaceLimits) -> float:
        tenant = tenant_id.lower()
        self._ensure(APP_SCOPE, tenant)
        with self._sessions() as session, session.begin():
            app = session.execute(
                select(PaceHold).where(PaceHold.scope == APP_SCOPE).with_for_update()
            ).scalar_one()
            own = session.get_one(PaceHold, tenant)
            wait = max(app.until - now, own.until - now)
            if wait > 0:
                return wait
            wait = _window_waits(session, tenant, now, limits)
            if wait > 0:
                return wait
            session.execute(
                delete(PaceSlot).where(PaceSlot.tenant_id == tenant, PaceSlot.expires_at <= now)
            )
            in_use = session.scalar(
                select(func.count()).select_from(PaceSlot).where(PaceSlot.tenant_id == tenant)
            )
            if (in_use or 0) >= limits.concurrent:
                return SLOT_POLL
            expires_at = now + limits.slot_ttl
            session.add(PaceSlot(slot_id=slot_id, tenant_id=tenant, expires_at=expires_at))
            call = PaceCall(scope=tenant, counted_at=now)
            session.add(call)
            session.execute(
                delete(PaceCall).where(PaceCall.scope == tenant, PaceCall.counted_at < now - DAY)
            )
            session.flush()
            self._calls[slot_id] = call.id
            return 0.0

    def finish(self, tenant_id: str, slot_id: str, now: float) -> None:
        call_id = self._calls.pop(slot_id, None)
        with self._sessions() as session, session.begin():
            session.execute(delete(PaceSlot).where(PaceSlot.slot_id == slot_id))
            if call_id is not None:
                session.execute(
                    update(PaceCall).where(PaceCall.id == call_id).values(counted_at=now)
                )

    def hold(self, scope: str, until: float) -> None:
        key = scope.lower()
        self._ensure(key)
        with self._sessions() as session, session.begin():
            row = session.execute(
                select(PaceHold).where(PaceHold.scope == key).with_for_update()
            ).scalar_one()
            row.until = max(row.until, until)

    def correct(self, tenant_id: str, remaining: Remaining, now: float, limits: PaceLimits) -> None:
        tenant = tenant_id.lower()
        self._ensure(APP_SCOPE)
        with self._sessions() as session, session.begin():
            session.execute(
                select(PaceHold).where(PaceHold.scope == APP_SCOPE).with_for_update()
            ).scalar_one()
            missing = max(
                _missing(session, [tenant], now - MINUTE, limits.per_minute, remaining.minute),
                _missing(session, [tenant], now - DAY, limits.per_day, remaining.day),
            )
            app_missing = _missing(
                session, None, now - MINUTE, limits.app_per_minute, remaining.app_minute
            )
            session.add_all(PaceCall(scope=tenant, counted_at=now) for _ in range(missing))
            app_only = max(0, app_missing - missing)
            session.add_all(PaceCall(scope=APP_SCOPE, counted_at=now) for _ in range(app_only))


def _starts(session: Session, scopes: list[str] | None, since: float) -> list[float]:
    query = select(PaceCall.counted_at).where(PaceCall.counted_at > since)
    if scopes is not None:
        query = query.where(PaceCall.scope.in_(scopes))
    return sorted(session.scalars(query))


def _window_waits(session: Session, tenant: str, now: float, limits: PaceLimits) -> float:
    minute = _starts(session, [tenant], now - MINUTE)
    return max(
        window_wait(minute, limits.per_minute, MINUTE, now),
        _counted_wait(session, [tenant], now, DAY, limits.per_day),
        _counted_wait(session, None, now, MINUTE, limits.app_per_minute),
    )


def _counted_wait(
    session: Session, scopes: list[str] | None, now: float, length: float, limit: int
) -> float:
    """Like :func:`window_wait`, reading the starts only when the window is full."""
    if _used(session, scopes, now - length) < limit:
        return 0.0
    return window_wait(_starts(session, scopes, now - length), limit, length, now)


def _used(session: Session, scopes: list[str] | None, since: float) -> int:
    query = select(func.count()).select_from(PaceCall).where(PaceCall.counted_at > since)
    if scopes is not None:
        query = query.where(PaceCall.scope.in_(scopes))
    return session.scalar(query) or 0


def _missing(
    session: Session, scopes: list[str] | None, since: float, limit: int, left: int | None
) -> int:
    """How many starts Xero counted in the window beyond those we recorded."""
    if left is None:
        return 0
    return max(0, (limit - max(0, left)) - _used(session, scopes, since))
