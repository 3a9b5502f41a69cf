"""How the reconciliation check tells the alerts about a gap between Amazon and Xero.

The check records an event; the alert evaluator reads the latest of the two codes. A gap with
the same ``key`` (say the period it covers) is one occurrence however often the check finds
it again; a ``reconciliation_ok`` event (or a gap with another key) closes it, and the
"resolved" follow-up goes out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.store.models import Event

RECONCILIATION_GAP = "reconciliation_gap"
RECONCILIATION_OK = "reconciliation_ok"
REMEDY = "Compare the organisation's Amazon Business purchases with Xero for the period named."


def record_gap(
    session: Session,
    connection_id: int,
    *,
    key: str,
    message: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Record that Amazon and Xero disagree; ``key`` names the gap (e.g. the period)."""
    session.add(
        Event(
            xero_connection_id=connection_id,
            level="error",
            code=RECONCILIATION_GAP,
            message=message,
            remedy=REMEDY,
            data=(data or {}) | {"key": key},
            created_at=now,
        )
    )


def record_ok(session: Session, connection_id: int, *, message: str, now: datetime) -> None:
    """Record that the latest reconciliation found Amazon and Xero in agreement."""
    session.add(
        Event(
            xero_connection_id=connection_id,
            level="info",
            code=RECONCILIATION_OK,
            message=message,
            created_at=now,
        )
    )


def open_gap(session: Session, connection_id: int) -> tuple[str, str] | None:
    """The (key, message) of the latest reconciliation outcome when it is a gap."""
    latest = session.scalars(
        select(Event)
        .where(
            Event.xero_connection_id == connection_id,
            Event.code.in_([RECONCILIATION_GAP, RECONCILIATION_OK]),
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(1)
    ).one_or_none()
    if latest is None or latest.code != RECONCILIATION_GAP:
        return None
    return str(latest.data.get("key", ""))[:200], latest.message
