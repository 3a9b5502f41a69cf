"""What the job, the manage page and the reconciliation check do with alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from abxero.alerts import config
from abxero.alerts.deliver import Deliverer
from abxero.alerts.evaluate import OPEN, evaluate
from abxero.domain.lifecycles import ConnectionStatus, SetupStep
from abxero.logs import get_logger
from abxero.runtime import Runtime
from abxero.settings import Settings
from abxero.store.db import transaction
from abxero.store.models import Alert, XeroConnection

log = get_logger(__name__)


def email_enabled(settings: Settings) -> bool:
    return settings.smtp_url is not None


def watched_organisations(runtime: Runtime) -> list[int]:
    """Organisations past the setup wizard and not disconnected on purpose."""
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(XeroConnection.id).where(
                    XeroConnection.setup_step == SetupStep.DONE,
                    XeroConnection.status != ConnectionStatus.DISCONNECTED,
                )
            )
        )


def evaluate_one(runtime: Runtime, connection_id: int) -> int:
    """Evaluate one organisation; returns how many occurrences it raised."""
    try:
        with transaction(runtime.sessions) as session:
            raised = evaluate(
                session,
                runtime.cipher,
                connection_id,
                now=runtime.now(),
                email=email_enabled(runtime.settings),
            )
            return len(raised)
    except IntegrityError:
        # Another worker raised the same occurrence at the same moment: it is recorded once.
        log.info("alerts evaluated elsewhere", connection_id=connection_id)
        return 0


def run(runtime: Runtime) -> dict[str, Any]:
    """Evaluate every organisation, then send what is due: the background job."""
    raised = sum(evaluate_one(runtime, item) for item in watched_organisations(runtime))
    deliverer = Deliverer(
        runtime.sessions, runtime.settings, runtime.cipher, runtime.http, runtime.now
    )
    report = deliverer.run()
    return {
        "raised": raised,
        "sent": report.sent,
        "retrying": report.retrying,
        "failed": report.failed,
    }


@dataclass(frozen=True)
class OpenAlertView:
    title: str
    detail: str
    link: str
    raised_at: Any


@dataclass(frozen=True)
class AlertsView:
    """What the manage page's alerts section shows."""

    settings: config.AlertConfig
    email_enabled: bool
    sender: str
    open: list[OpenAlertView]


def view(runtime: Runtime, connection_id: int) -> AlertsView:
    with runtime.sessions() as session:
        settings = config.load(session, runtime.cipher, connection_id)
        rows = session.scalars(
            select(Alert)
            .where(Alert.xero_connection_id == connection_id, Alert.status == OPEN)
            .order_by(Alert.raised_at.desc())
        ).all()
        current = [OpenAlertView(r.title, r.detail, r.link, r.raised_at) for r in rows]
    return AlertsView(
        settings, email_enabled(runtime.settings), runtime.settings.smtp_from, current
    )


def save(
    runtime: Runtime, connection_id: int, *, recipients: str, webhook_url: str, stale_hours: str
) -> config.AlertConfig:
    """Check and store the settings; raises :class:`config.ConfigInvalid` naming the field."""
    parsed = config.parse_recipients(recipients)
    url = config.check_webhook_url(webhook_url)
    hours = config.check_stale_hours(stale_hours)
    with transaction(runtime.sessions) as session:
        return config.save(
            session,
            runtime.cipher,
            connection_id,
            recipients=parsed,
            webhook_url=url,
            stale_hours=hours,
        )
