"""Xero webhooks: verify the signature, then record what changed and say which syncs to queue.

Xero signs each delivery with HMAC-SHA256 of the raw body under the app's webhook key
(``x-xero-signature``, base64). Deliveries are at least once and unordered. Each event is
remembered by its identity (tenant, category, type, resource and ``eventDateUtc``) for
``REPLAY_WINDOW``: a second delivery of it, Xero's retry or a captured delivery replayed, changes
nothing, and an event older than the window is not taken at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain import jsontext
from abxero.store.db import transaction
from abxero.store.models import (
    Event,
    OutboxDocument,
    SellerContact,
    WebhookDelivery,
    XeroConnection,
)

WATCHED_ROLES = ("bill", "credit_note")
# Xero keeps undelivered events 31 days and replays them once the endpoint is healthy again
# (shared docs, xero-api.md §6 "Retries"), so an event is taken up to 32 days after it happened.
REPLAY_WINDOW = timedelta(days=32)
CLOCK_SKEW = timedelta(days=1)  # simulators and servers whose clocks run ahead


def signature_of(key: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 Xero puts in ``x-xero-signature``."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_ok(key: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` signs ``body`` under ``key``; never true without a key."""
    if not key or not header:
        return False
    return hmac.compare_digest(signature_of(key, body), header.strip())


@dataclass(frozen=True)
class WebhookEvent:
    """One entry of a delivery's ``events`` list."""

    tenant_id: str
    category: str
    event_type: str
    resource_id: str
    happened_at: datetime | None = None


def parse_events(body: bytes) -> list[WebhookEvent]:
    """The well-formed events of a delivery; anything else in it is ignored."""
    try:
        payload: Any = jsontext.loads(body)
    except (ValueError, RecursionError):  # malformed, or nested deeper than any real delivery
        return []
    raw_events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(raw_events, list):
        return []
    return [event for raw in raw_events if (event := _event(raw)) is not None]


def _event(raw: Any) -> WebhookEvent | None:
    if not isinstance(raw, dict):
        return None
    fields = [raw.get(name) for name in ("tenantId", "eventCategory", "eventType", "resourceId")]
    if not all(isinstance(value, str) and value for value in fields):
        return None
    tenant, category, kind, resource = (str(value) for value in fields)
    when = _utc(raw.get("eventDateUtc"))
    return WebhookEvent(tenant.lower(), category.upper(), kind.upper(), resource.lower(), when)


def _utc(value: Any) -> datetime | None:
    """Xero's ``eventDateUtc`` (UTC, with or without an offset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def record_events(
    factory: sessionmaker[Session], events: list[WebhookEvent], now: datetime
) -> list[int]:
    """Record changes to our contact or our bills as events; returns organisations to sync."""
    to_sync: list[int] = []
    with transaction(factory) as session:
        session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.received_at < now - REPLAY_WINDOW)
        )
        for event in events:
            if not _first_delivery(session, event, now):
                continue
            connection = session.scalars(
                select(XeroConnection).where(XeroConnection.tenant_id == event.tenant_id)
            ).first()
            if connection is None:
                continue
            if _record_one(session, connection, event, now) and connection.id not in to_sync:
                to_sync.append(connection.id)
    return to_sync


def event_key(event: WebhookEvent) -> str:
    """The identity of one event: the same change delivered twice has the same key."""
    when = event.happened_at.isoformat() if event.happened_at else ""
    text = "|".join((event.tenant_id, event.category, event.event_type, event.resource_id, when))
    return hashlib.sha256(text.encode()).hexdigest()


def _first_delivery(session: Session, event: WebhookEvent, now: datetime) -> bool:
    """True once per event, and only for events inside the replay window."""
    if (
        event.happened_at is None
        or not now - REPLAY_WINDOW <= event.happened_at <= now + REPLAY_WINDOW
    ):
        return False
    key = event_key(event)
    if session.get(WebhookDelivery, key) is not None:
        return False
    session.add(WebhookDelivery(event_key=key, received_at=now))
    session.flush()
    return True


def _record_one(
    session: Session, connection: XeroConnection, event: WebhookEvent, now: datetime
) -> bool:
    """Add the event row for one change; True when the organisation should sync."""
    if event.event_type != "UPDATE":
        return False  # our own creations come back as CREATE events
    if event.category == "CONTACT" and event.resource_id == connection.contact_id.lower():
        _add(session, connection.id, "xero_contact_changed", event, now, _CONTACT_TEXT)
        return False
    if event.category == "CONTACT" and _is_seller_contact(session, connection.id, event):
        _add(session, connection.id, "xero_contact_changed", event, now, _SELLER_CONTACT_TEXT)
        return False
    if event.category == "INVOICE" and _is_our_document(session, connection.id, event):
        _add(session, connection.id, "xero_bill_changed", event, now, _BILL_TEXT)
        return True
    return False


def _is_seller_contact(session: Session, connection_id: int, event: WebhookEvent) -> bool:
    """A seller's own contact (when the mapping posts one contact per seller)."""
    ids = session.scalars(
        select(SellerContact.contact_id).where(SellerContact.xero_connection_id == connection_id)
    )
    return event.resource_id in {contact_id.lower() for contact_id in ids}


def _is_our_document(session: Session, connection_id: int, event: WebhookEvent) -> bool:
    """True for our bill or credit note changed by someone else (not our own later write)."""
    ids = [event.resource_id, event.resource_id.upper()]
    document = session.scalars(
        select(OutboxDocument).where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.role.in_(WATCHED_ROLES),
            OutboxDocument.xero_id.in_(ids),
        )
    ).first()
    if document is None:
        return False
    if event.happened_at is None:
        return True
    our_last_write = session.scalars(
        select(func.max(OutboxDocument.updated_at)).where(
            OutboxDocument.xero_connection_id == connection_id,
            OutboxDocument.transaction_id == document.transaction_id,
        )
    ).one()
    return our_last_write is None or event.happened_at > _aware(our_last_write)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_CONTACT_TEXT = (
    "The Amazon Business supplier contact was changed in Xero.",
    "Nothing to do unless it was archived: then restore it in Xero before the next sync.",
)
_SELLER_CONTACT_TEXT = (
    "A seller's supplier contact was changed in Xero.",
    "Nothing to do unless it was archived: then that seller's purchases wait until it is "
    "restored in Xero.",
)
_BILL_TEXT = (
    "A bill abxero posted was changed in Xero.",
    "abxero checks it on the next sync; it never posts the purchase a second time.",
)


def _add(
    session: Session,
    connection_id: int,
    code: str,
    event: WebhookEvent,
    now: datetime,
    text: tuple[str, str],
) -> None:
    session.add(
        Event(
            xero_connection_id=connection_id,
            level="info",
            code=code,
            message=text[0],
            remedy=text[1],
            data={"resource_id": event.resource_id, "event_type": event.event_type},
            created_at=now,
        )
    )
