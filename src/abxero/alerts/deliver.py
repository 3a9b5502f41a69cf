"""Send recorded alert deliveries: each message once per occurrence, as far as the database
can tell.

No protocol lets "sent" and "recorded as sent" happen atomically: a worker can die after the
mail server or webhook receiver took the message and before the ``sent`` row commits. So
there is a choice. At-most-once (never retry an uncertain send) can lose an alert; at-least-
once (retry it) can repeat one. abxero takes the side that never loses one, and narrows the
repeat to that crash window only:

1. The delivery row is committed ``pending`` (``evaluate.py``) before anything is sent.
2. A sender claims it with a compare-and-set to ``sending`` (attempts + 1) and commits, so two
   workers never send the same row at once.
3. It sends, then commits ``sent``. A failure commits ``pending`` with a backoff, or
   ``failed`` (with an event) after :data:`MAX_ATTEMPTS`.
4. A row left ``sending`` longer than :data:`CLAIM_TTL` belonged to a worker that died; it is
   claimed again and resent *with the same idempotency key*: the same Message-ID and the same
   ``X-Abxero-Delivery`` id, so the receiving side can drop the repeat.

Nothing else ever sends a delivery twice: a ``sent`` row is never claimed again.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from abxero.alerts import config, mail, webhook
from abxero.alerts.evaluate import EMAIL, RESOLVED_PHASE
from abxero.domain.lifecycles import DeliveryStatus
from abxero.logs import get_logger
from abxero.settings import Settings
from abxero.store.crypto import TokenCipher
from abxero.store.db import transaction
from abxero.store.models import Alert, AlertDelivery, Event, XeroConnection
from abxero.sync import failpoints

log = get_logger(__name__)
PENDING, SENDING = DeliveryStatus.PENDING, DeliveryStatus.SENDING
SENT, FAILED = DeliveryStatus.SENT, DeliveryStatus.FAILED
MAX_ATTEMPTS = 8
CLAIM_TTL = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the n-th failed attempt, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=1))


@dataclass(frozen=True)
class Message:
    """What one delivery says, read from its alert and organisation."""

    delivery_id: int
    key: str
    channel: str
    target: str
    phase: str
    kind: str
    organisation_id: int
    organisation: str
    title: str
    detail: str
    link: str
    raised_at: datetime
    resolved_at: datetime | None

    @property
    def subject(self) -> str:
        prefix = "Resolved: " if self.phase == RESOLVED_PHASE else ""
        return f"[abxero] {prefix}{self.organisation}: {self.title}"


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class Deliverer:
    """Sends due deliveries through SMTP and HTTP; ``now`` is the one clock."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        cipher: TokenCipher,
        http: httpx.Client,
        now: Callable[[], datetime],
    ) -> None:
        self._factory, self._settings, self._cipher = factory, settings, cipher
        self._http, self._now = http, now

    def run(self, limit: int = 50) -> DeliveryReport:
        report = DeliveryReport()
        for delivery_id in self._due(limit):
            message = self._claim(delivery_id)
            if message is None:
                continue  # another worker took it
            problem = self._send(message)
            failpoints.reached("alert_sent", message.key)  # the crash window described above
            outcome = self._record(message, problem)
            report.sent += outcome == SENT
            report.retrying += outcome == PENDING
            report.failed += outcome == FAILED
        return report

    def _due(self, limit: int) -> list[int]:
        now = self._now()
        with self._factory() as session:
            return list(
                session.scalars(
                    select(AlertDelivery.id)
                    .where(
                        or_(
                            (AlertDelivery.status == PENDING)
                            & (AlertDelivery.next_attempt_at <= now),
                            (AlertDelivery.status == SENDING)
                            & (AlertDelivery.claimed_at < now - CLAIM_TTL),
                        )
                    )
                    .order_by(AlertDelivery.id)
                    .limit(limit)
                )
            )

    def _claim(self, delivery_id: int) -> Message | None:
        """Compare-and-set the row to ``sending``; ``None`` when someone else claimed it."""
        now = self._now()
        with transaction(self._factory) as session:
            row = session.get_one(AlertDelivery, delivery_id)
            lapsed = row.claimed_at is not None and row.claimed_at < now - CLAIM_TTL
            if row.status != PENDING and not (row.status == SENDING and lapsed):
                return None  # sent, failed, or a live claim of another worker
            result = session.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.id == delivery_id,
                    AlertDelivery.status == row.status,
                    AlertDelivery.attempts == row.attempts,
                )
                .values(status=SENDING, claimed_at=now, attempts=row.attempts + 1)
            )
            if not cast(CursorResult[Any], result).rowcount:
                return None
            return _message(session, row)

    def _send(self, message: Message) -> str:
        """Send it; returns "" or what went wrong."""
        try:
            if message.channel == EMAIL:
                self._email(message)
            else:
                self._webhook(message)
        except (mail.SmtpError, webhook.WebhookError) as problem:
            return str(problem)
        return ""

    def _email(self, message: Message) -> None:
        url = self._settings.smtp_url
        if url is None:
            raise mail.SmtpError("ABXERO_SMTP_URL is no longer set")
        recipients = [item.strip() for item in message.target.split(",") if item.strip()]
        domain = self._settings.smtp_from_address.rpartition("@")[2] or "abxero"
        built = mail.build_message(
            sender=self._settings.smtp_from,
            recipients=recipients,
            subject=message.subject,
            text=text_body(message, self._settings.public_url),
            html=html_body(message, self._settings.public_url),
            message_id=f"<{message.key}@{domain}>",
            sent_at=self._now(),
        )
        mail.send(mail.parse_smtp_url(url.get_secret_value()), built, recipients)

    def _webhook(self, message: Message) -> None:
        with self._factory() as session:
            secret = config.load(session, self._cipher, message.organisation_id).webhook_secret
        body = json.dumps(payload(message, self._settings.public_url), sort_keys=True).encode()
        stamp = int(self._now().timestamp())
        webhook.post(self._http, message.target, secret, body, message.key, stamp)

    def _record(self, message: Message, problem: str) -> str:
        now = self._now()
        with transaction(self._factory) as session:
            row = session.get_one(AlertDelivery, message.delivery_id)
            if not problem:
                row.status, row.sent_at, row.error = SENT, now, ""
            elif row.attempts >= MAX_ATTEMPTS:
                row.status, row.error = FAILED, problem
                session.add(_failure_event(message, problem, row.attempts, now))
            else:
                row.status, row.error = PENDING, problem
                row.next_attempt_at = now + backoff(row.attempts)
            log.info("alert delivery", key=message.key, status=row.status, error=problem)
            return row.status


def _message(session: Session, row: AlertDelivery) -> Message:
    alert = session.get_one(Alert, row.alert_id)
    organisation = session.get_one(XeroConnection, alert.xero_connection_id)
    return Message(
        delivery_id=row.id,
        key=row.idempotency_key,
        channel=row.channel,
        target=row.target,
        phase=row.phase,
        kind=alert.kind,
        organisation_id=organisation.id,
        organisation=organisation.tenant_name or organisation.tenant_id,
        title=alert.title,
        detail=alert.detail,
        link=alert.link,
        raised_at=alert.raised_at,
        resolved_at=alert.resolved_at,
    )


def _failure_event(message: Message, problem: str, attempts: int, now: datetime) -> Event:
    where = "email" if message.channel == EMAIL else "webhook"
    return Event(
        xero_connection_id=message.organisation_id,
        level="error",
        code="alert_delivery_failed",
        message=f"The {where} alert '{message.title}' could not be sent after {attempts} "
        f"attempts: {problem}",
        remedy="Check the alert recipients or webhook URL on this page, and the mail server "
        "settings (ABXERO_SMTP_URL).",
        data={"delivery": message.key},
        created_at=now,
    )


def payload(message: Message, base_url: str) -> dict[str, Any]:
    """The webhook's JSON body."""
    return {
        "id": message.key,
        "kind": message.kind,
        "state": message.phase,
        "organisation": {"id": message.organisation_id, "name": message.organisation},
        "title": message.title,
        "detail": message.detail,
        "url": base_url + message.link,
        "raised_at": message.raised_at.isoformat(),
        "resolved_at": message.resolved_at.isoformat() if message.resolved_at else None,
    }


def text_body(message: Message, base_url: str) -> str:
    state = "Resolved" if message.phase == RESOLVED_PHASE else "Alert"
    when = message.resolved_at if message.phase == RESOLVED_PHASE else message.raised_at
    lines = [
        f"{state} for {message.organisation}: {message.title}",
        "",
        "This has cleared; nothing more to do." if message.phase == RESOLVED_PHASE else "",
        message.detail,
        "",
        f"Open it in abxero: {base_url}{message.link}",
        f"({state.lower()} {when:%Y-%m-%d %H:%M} UTC)" if when else "",
    ]
    return "\n".join(line for line in lines if line is not None) + "\n"


def html_body(message: Message, base_url: str) -> str:
    resolved = message.phase == RESOLVED_PHASE
    link = html.escape(base_url + message.link, quote=True)
    heading = ("Resolved: " if resolved else "") + message.title
    cleared = "<p>This has cleared; nothing more to do.</p>" if resolved else ""
    return (
        "<!doctype html><html><body>"
        f"<h1>{html.escape(heading)}</h1>"
        f"<p><strong>{html.escape(message.organisation)}</strong></p>{cleared}"
        f"<p>{html.escape(message.detail)}</p>"
        f'<p><a href="{link}">Open it in abxero</a></p>'
        "</body></html>"
    )
