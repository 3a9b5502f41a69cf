"""An organisation in a real database, a movable clock, and real mail and webhook receivers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from abxero.alerts import service
from abxero.runtime import Runtime
from abxero.settings import load_settings
from abxero.store.db import transaction
from abxero.store.migrate import upgrade
from abxero.store.models import AmazonConnection, EncryptedTokenSet, User, XeroConnection
from tests.alerts.receivers import Hook, Mailbox, mail_server, webhook_receiver

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PUBLIC_URL = "https://abxero.example.com"


@dataclass
class Clock:
    moment: datetime = START

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    org: int
    mailbox: Mailbox
    hook: Hook

    def run(self) -> dict[str, int]:
        return {k: int(v) for k, v in service.run(self.runtime).items()}


def add_organisation(runtime: Runtime, now: datetime) -> int:
    with transaction(runtime.sessions) as session:
        user = User(xero_user_id="u-alerts", email="owner@example.com", name="Owner")
        session.add(user)
        session.flush()
        sealed = runtime.cipher.encrypt({"refresh_token": "unused here"})
        tokens = EncryptedTokenSet(
            provider="xero", ciphertext=sealed, issued_at=now, updated_at=now
        )
        session.add(tokens)
        session.flush()
        org = XeroConnection(
            tenant_id="tenant-alerts",
            tenant_name="Bluebird Dental",
            owner_user_id=user.id,
            token_set_id=tokens.id,
            setup_step="done",
            last_sync_at=now,
            created_at=now - timedelta(days=1),
        )
        session.add(org)
        session.flush()
        session.add(
            AmazonConnection(
                xero_connection_id=org.id,
                region="US",
                marketplace_id="ATVPDKIKX0DER",
                business_id="biz-alerts",
            )
        )
        return org.id


@pytest.fixture
def world(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = Clock()
    with mail_server(tmp_path) as (mailbox, certificate), webhook_receiver() as hook:
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # trust the test server only
        settings = load_settings(
            data_dir=tmp_path,
            database_url=database_url,
            public_url=PUBLIC_URL,
            smtp_url=mailbox.url,
            smtp_from="alerts@abxero.example.com",
        )
        upgrade(settings.resolved_database_url)
        runtime = Runtime(settings, now=clock)
        try:
            org = add_organisation(runtime, clock())
            service.save(
                runtime,
                org,
                recipients="books@example.com, owner@example.com",
                webhook_url=hook.url,
                stale_hours="6",
            )
            yield World(runtime, clock, org, mailbox, hook)
        finally:
            runtime.close()
