"""Server-side web sessions: the cookie carries a random id, everything else stays here.

The id is stored only as its SHA-256, so a copy of the database does not hand out sessions.
A session ends when its row is deleted (sign-out, rotation at sign-in, disconnect), after
``IDLE`` without a request, and at the latest ``ABSOLUTE`` after it began, whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.store.db import transaction
from abxero.store.models import UserTenant, WebSession

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
TOUCH_AFTER = timedelta(minutes=1)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _expired(row: WebSession, now: datetime) -> bool:
    return now >= row.expires_at or now - row.last_seen_at >= IDLE


def load(factory: sessionmaker[Session], session_id: str, now: datetime) -> dict[str, Any] | None:
    """The session's data, or ``None`` when there is no such live session (it is then gone)."""
    if not session_id or len(session_id) > 128:
        return None
    with transaction(factory) as session:
        row = session.get(WebSession, id_hash(session_id))
        if row is None:
            return None
        if _expired(row, now):
            session.delete(row)
            return None
        if now - row.last_seen_at >= TOUCH_AFTER:
            row.last_seen_at = now
        data: Any = json.loads(row.data)
        return data if isinstance(data, dict) else {}


def save(
    factory: sessionmaker[Session], session_id: str | None, data: dict[str, Any], now: datetime
) -> str:
    """Store ``data`` under ``session_id`` (a new session when ``None``); the id to send."""
    user = data.get("user_id")
    with transaction(factory) as session:
        row = session.get(WebSession, id_hash(session_id)) if session_id else None
        if row is None:
            _delete_expired(session, now)  # tidy up whenever a session begins
            session_id = new_session_id()
            row = WebSession(id_hash=id_hash(session_id), created_at=now, expires_at=now + ABSOLUTE)
            session.add(row)
        row.data = json.dumps(data, sort_keys=True)
        row.user_id = user if isinstance(user, int) else None
        row.last_seen_at = now
    assert session_id is not None
    return session_id


def end(factory: sessionmaker[Session], session_id: str) -> None:
    with transaction(factory) as session:
        session.execute(delete(WebSession).where(WebSession.id_hash == id_hash(session_id)))


def end_for_users(factory: sessionmaker[Session], user_ids: Iterable[int]) -> None:
    """End every session of these users, in every browser."""
    users = list(user_ids)
    if users:
        with transaction(factory) as session:
            session.execute(delete(WebSession).where(WebSession.user_id.in_(users)))


def end_for_organisation(factory: sessionmaker[Session], connection_id: int) -> None:
    """End the sessions of everyone who could see this organisation (at disconnect)."""
    with factory() as session:
        users = session.scalars(
            select(UserTenant.user_id).where(UserTenant.xero_connection_id == connection_id)
        ).all()
    end_for_users(factory, users)


def purge_expired(factory: sessionmaker[Session], now: datetime) -> int:
    """Delete sessions past either limit; how many went."""
    with transaction(factory) as session:
        return _delete_expired(session, now)


def _delete_expired(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - IDLE)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
