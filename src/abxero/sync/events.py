"""The one way anything in a sync records an event for the organisation's page.

An event says what happened and what to do about it (``remedy``); ``data`` carries the keys a
page links or filters by (a document key, a transaction id, a run id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from abxero.store.models import Event


def record_event(
    session: Session,
    connection_id: int | None,
    level: str,
    code: str,
    message: str,
    remedy: str = "",
    *,
    at: datetime | None = None,
    **data: str | int,
) -> Event:
    """Add one event to ``session`` (committed with the caller's transaction) and return it;
    ``at`` defaults to the time of the insert."""
    event = Event(
        xero_connection_id=connection_id,
        level=level,
        code=code,
        message=message,
        remedy=remedy,
        data=dict(data),
    )
    if at is not None:
        event.created_at = at
    session.add(event)
    return event
