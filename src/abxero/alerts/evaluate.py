"""Turn what the ledger says about an organisation into alert occurrences and deliveries.

One database transaction per organisation reads the facts, compares the conditions with the
open alerts and records what changed: a new occurrence with one pending delivery per
channel, or a resolved one with its follow-up deliveries. The deliveries are recorded
before anything is sent (``deliver.py`` sends them), so an occurrence is never lost; the
partial unique index on open alerts keeps two evaluators from raising it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from abxero.alerts import config
from abxero.alerts.reconciliation import open_gap
from abxero.domain.alerts import Condition, Facts, OpenAlert, changes, conditions
from abxero.domain.lifecycles import AlertStatus, ConnectionStatus, DeliveryStatus, SetupStep
from abxero.domain.plan import HoldCode
from abxero.store.crypto import TokenCipher
from abxero.store.models import (
    Alert,
    AlertDelivery,
    AmazonConnection,
    EncryptedTokenSet,
    Event,
    SourceTransaction,
    XeroConnection,
)
from abxero.sync.due import failing_since
from abxero.sync.ledger import HELD, QUARANTINED

OPEN, RESOLVED, SUPERSEDED = AlertStatus.OPEN, AlertStatus.RESOLVED, AlertStatus.SUPERSEDED
RAISED_PHASE, RESOLVED_PHASE = "raised", "resolved"
EMAIL, WEBHOOK = "email", "webhook"


def gather_facts(
    session: Session, connection: XeroConnection, stale_hours: int, now: datetime
) -> Facts:
    """The facts the alert rules read, for one organisation."""
    failures, _ = failing_since(session, connection.id)
    held = _count(session, connection.id, HELD)
    return Facts(
        now=now,
        setup_done=connection.setup_step == SetupStep.DONE,
        failures_in_a_row=failures,
        last_success=connection.last_sync_at,
        watched_since=connection.created_at,
        stale_after=timedelta(hours=stale_hours),
        unmapped_methods=_unmapped_methods(session, connection.id) if held else (),
        held=held,
        quarantined=_count(session, connection.id, QUARANTINED),
        reconciliation_gap=open_gap(session, connection.id),
        xero_status=connection.status,
        amazon_problem=_amazon_problem(session, connection),
        xero_refreshed_at=_refreshed_at(session, connection.token_set_id),
        parked_until=connection.parked_until,
    )


def _count(session: Session, connection_id: int, status: str) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.status == status,
            )
        )
        or 0
    )


def _unmapped_methods(session: Session, connection_id: int) -> tuple[str, ...]:
    keys = session.scalars(
        select(SourceTransaction.instrument_key)
        .where(
            SourceTransaction.xero_connection_id == connection_id,
            SourceTransaction.status == HELD,
            SourceTransaction.reason_code == HoldCode.PAYMENT_METHOD_NOT_MAPPED.value,
        )
        .distinct()
        .order_by(SourceTransaction.instrument_key)
    )
    return tuple(key[:200] or "an unknown payment method" for key in keys)


def _amazon_problem(session: Session, connection: XeroConnection) -> str:
    """Why Amazon Business needs reconnecting: refused since the last successful sync."""
    amazon = session.scalars(
        select(AmazonConnection).where(AmazonConnection.xero_connection_id == connection.id)
    ).one_or_none()
    if amazon is None:
        return ""
    if amazon.status != ConnectionStatus.CONNECTED:
        return "Amazon Business is no longer connected: reconnect it on the manage page."
    refused = select(Event).where(
        Event.xero_connection_id == connection.id, Event.code == "amazon_needs_reconnect"
    )
    if connection.last_sync_at is not None:
        refused = refused.where(Event.created_at > connection.last_sync_at)
    latest = session.scalars(refused.order_by(Event.created_at.desc()).limit(1)).first()
    return latest.message if latest is not None else ""


def _refreshed_at(session: Session, token_set_id: int | None) -> datetime | None:
    if token_set_id is None:
        return None
    tokens = session.get(EncryptedTokenSet, token_set_id)
    return tokens.issued_at if tokens is not None else None


def evaluate(
    session: Session, cipher: TokenCipher, connection_id: int, *, now: datetime, email: bool
) -> list[Alert]:
    """Bring one organisation's alerts up to date; returns the occurrences raised.

    ``email`` says whether SMTP is configured: without it no email delivery is recorded."""
    connection = session.get_one(XeroConnection, connection_id)
    settings = config.load(session, cipher, connection_id)
    facts = gather_facts(session, connection, settings.stale_hours, now)
    open_rows = session.scalars(
        select(Alert).where(Alert.xero_connection_id == connection_id, Alert.status == OPEN)
    ).all()
    todo = changes([OpenAlert(row.id, row.kind, row.key) for row in open_rows], conditions(facts))
    by_id = {row.id: row for row in open_rows}
    for alert_id in todo.supersede:
        by_id[alert_id].status, by_id[alert_id].resolved_at = SUPERSEDED, now
    for alert_id in todo.resolve:
        by_id[alert_id].status, by_id[alert_id].resolved_at = RESOLVED, now
        _queue(session, by_id[alert_id], RESOLVED_PHASE, settings, email=email, now=now)
    session.flush()  # closed occurrences first: a new one may reuse their (kind, key)
    raised = [_raise(session, connection_id, condition, now) for condition in todo.raise_]
    for alert in raised:
        _queue(session, alert, RAISED_PHASE, settings, email=email, now=now)
    return raised


def _raise(session: Session, connection_id: int, condition: Condition, now: datetime) -> Alert:
    alert = Alert(
        xero_connection_id=connection_id,
        kind=condition.kind.value,
        key=condition.key,
        status=OPEN,
        title=condition.title,
        detail=condition.detail,
        link=f"/orgs/{connection_id}#{condition.anchor}",
        raised_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def _queue(
    session: Session,
    alert: Alert,
    phase: str,
    settings: config.AlertConfig,
    *,
    email: bool,
    now: datetime,
) -> None:
    """One pending delivery per configured channel, recorded before anything is sent."""
    targets = []
    if email and settings.recipients:
        targets.append((EMAIL, ", ".join(settings.recipients)))
    if settings.webhook_url:
        targets.append((WEBHOOK, settings.webhook_url))
    for channel, target in targets:
        session.add(
            AlertDelivery(
                alert_id=alert.id,
                phase=phase,
                channel=channel,
                target=target,
                idempotency_key=f"abx-alert-{alert.id}-{phase}-{channel}",
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                error="",
            )
        )
