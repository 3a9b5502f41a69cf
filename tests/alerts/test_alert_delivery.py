"""Every alert kind is raised once per occurrence, by email (STARTTLS, login, text + HTML with a
deep link) and by signed webhook, and followed by one "resolved" message when it clears."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from abxero.alerts import reconciliation, webhook
from abxero.alerts.service import evaluate_one
from abxero.domain.alerts import AlertKind
from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.store.db import transaction
from abxero.store.models import (
    AlertDelivery,
    AmazonConnection,
    EncryptedTokenSet,
    Event,
    SourceTransaction,
    SyncRun,
    XeroConnection,
)
from tests.alerts.conftest import PUBLIC_URL, World

Change = Callable[[World], None]


def _org(world: World, **values: object) -> None:
    with transaction(world.runtime.sessions) as session:
        session.execute(update(XeroConnection).where(XeroConnection.id == world.org).values(values))


def _failed_runs(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        for minutes in (30, 10):
            moment = world.clock() - timedelta(minutes=minutes)
            session.add(
                SyncRun(
                    xero_connection_id=world.org,
                    kind="sync",
                    status="failed",
                    error="Xero answered 500",
                    started_at=moment,
                    finished_at=moment,
                )
            )


def _good_run(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        session.add(
            SyncRun(
                xero_connection_id=world.org,
                kind="sync",
                status="ok",
                started_at=world.clock(),
                finished_at=world.clock(),
            )
        )
    _org(world, last_sync_at=world.clock())


def _hold(world: World, code: str = "payment_method_not_mapped", status: str = "held") -> None:
    with transaction(world.runtime.sessions) as session:
        session.add(
            SourceTransaction(
                xero_connection_id=world.org,
                transaction_id=f"tx-{code}-{status}",
                raw="{}",
                content_hash="h",
                instrument_key="Visa/4242",
                status=status,
                reason_code=code,
            )
        )


def _release_holds(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        session.execute(
            update(SourceTransaction)
            .where(SourceTransaction.xero_connection_id == world.org)
            .values(status="posted", reason_code="")
        )


def _gap(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        reconciliation.record_gap(
            session,
            world.org,
            key="2026-11",
            message="November: Amazon shows 12 purchases, Xero 11.",
            now=world.clock(),
        )


def _gap_closed(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        reconciliation.record_ok(session, world.org, message="All matched.", now=world.clock())


def _amazon_refused(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        session.add(
            Event(
                xero_connection_id=world.org,
                level="error",
                code="amazon_needs_reconnect",
                message="Amazon refused the refresh token (invalid_grant).",
                created_at=world.clock() + timedelta(seconds=1),
            )
        )
    world.clock.advance(seconds=2)


def _amazon_reconnected(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        session.execute(update(AmazonConnection).values(status="connected"))
    _good_run(world)


def _token_idle(days: int) -> Change:
    def change(world: World) -> None:
        with transaction(world.runtime.sessions) as session:
            session.execute(
                update(EncryptedTokenSet).values(issued_at=world.clock() - timedelta(days=days))
            )

    return change


CASES: dict[AlertKind, tuple[Change, Change, str]] = {
    AlertKind.SYNC_FAILING: (_failed_runs, _good_run, "Syncing keeps failing"),
    AlertKind.SYNC_STALE: (
        lambda w: _org(w, last_sync_at=w.clock() - timedelta(hours=6)),
        _good_run,
        "No successful sync for 6 hours",
    ),
    AlertKind.PAYMENT_METHOD_UNMAPPED: (
        lambda w: _hold(w),
        _release_holds,
        "A new payment method is waiting to be mapped",
    ),
    AlertKind.RECONCILIATION_GAP: (_gap, _gap_closed, "Amazon and Xero do not match"),
    AlertKind.XERO_CONSENT: (
        lambda w: _org(w, status="needs_reconnect"),
        lambda w: _org(w, status="connected"),
        "Xero needs reconnecting",
    ),
    AlertKind.AMAZON_CONSENT: (
        _amazon_refused,
        _amazon_reconnected,
        "Amazon Business needs reconnecting",
    ),
    AlertKind.XERO_TOKEN_EXPIRING: (
        _token_idle(51),
        _token_idle(0),
        "The Xero connection is about to lapse",
    ),
    AlertKind.DAY_LIMIT: (
        lambda w: _org(w, parked_until=w.clock() + timedelta(hours=3)),
        lambda w: _org(w, parked_until=None),
        "Xero's daily limit is used up",
    ),
}


def _hooks(world: World) -> list[dict[str, object]]:
    return [json.loads(body) for _, body in world.hook.requests]


@pytest.mark.parametrize("kind", list(CASES), ids=str)
def test_each_alert_is_sent_once_and_resolved_once(world: World, kind: AlertKind) -> None:
    start, clear, title = CASES[kind]
    assert world.run()["raised"] == 0
    start(world)
    world.run()
    world.run()  # the condition still holds: nothing more is sent
    assert [s for s in world.mailbox.subjects() if title in s] == [
        f"[abxero] Bluebird Dental: {title}"
    ]
    raised = [h for h in _hooks(world) if h["title"] == title]
    assert [(h["kind"], h["state"]) for h in raised] == [(kind.value, "raised")]
    clear(world)
    world.run()
    world.run()
    assert [s for s in world.mailbox.subjects() if title in s] == [
        f"[abxero] Bluebird Dental: {title}",
        f"[abxero] Resolved: Bluebird Dental: {title}",
    ]
    assert [h["state"] for h in _hooks(world) if h["title"] == title] == ["raised", "resolved"]


def test_the_email_has_text_and_html_with_a_deep_link_and_came_over_starttls(
    world: World,
) -> None:
    _hold(world)
    world.run()
    recipients, message = next(
        item for item in world.mailbox.received if "payment method" in str(item[1]["Subject"])
    )
    assert sorted(recipients) == ["books@example.com", "owner@example.com"]
    assert all(world.mailbox.tls_used)
    assert message["From"] == "alerts@abxero.example.com"
    assert str(message["Message-ID"]).endswith("-raised-email@abxero.example.com>")
    parts = {part.get_content_type(): part.get_payload(decode=True) for part in message.walk()}
    link = f"{PUBLIC_URL}/orgs/{world.org}#payment-methods"
    assert link in parts["text/plain"].decode()
    assert f'href="{link}"' in parts["text/html"].decode()
    assert "Visa/4242" in parts["text/plain"].decode()


def test_held_and_quarantined_transactions_make_one_digest_a_day(world: World) -> None:
    for index in range(5):
        _hold(world, code=f"period_locked_{index}")
    _hold(world, code="bad_amount", status="quarantined")
    world.run()
    world.clock.advance(hours=5)
    world.run()
    digests = [s for s in world.mailbox.subjects() if "waiting for you" in s]
    assert digests == ["[abxero] Bluebird Dental: Transactions waiting for you"]
    body = world.mailbox.received[-1][1].get_body(("plain",))
    assert body is not None
    assert "5 held" in body.get_content()
    assert "1 quarantined" in body.get_content()
    world.clock.advance(hours=20)  # the next day: one more digest, no "resolved" in between
    _good_run(world)
    world.run()
    digests = [s for s in world.mailbox.subjects() if "waiting for you" in s]
    assert digests == ["[abxero] Bluebird Dental: Transactions waiting for you"] * 2


def test_the_webhook_is_signed_over_timestamp_and_body(world: World) -> None:
    _gap(world)
    world.run()
    headers, body = world.hook.requests[0]
    secret = _secret(world)
    stamp = headers["x-abxero-timestamp"]
    assert stamp == str(int(world.clock().timestamp()))
    assert webhook.verify(secret, stamp, body, headers["x-abxero-signature"], int(stamp))
    assert not webhook.verify("another", stamp, body, headers["x-abxero-signature"], int(stamp))
    assert not webhook.verify(secret, stamp, body + b" ", headers["x-abxero-signature"], int(stamp))
    assert not webhook.verify(secret, stamp, body, headers["x-abxero-signature"], int(stamp) + 301)
    payload = json.loads(body)
    assert payload["url"] == f"{PUBLIC_URL}/orgs/{world.org}#activity"
    assert payload["detail"] == "November: Amazon shows 12 purchases, Xero 11."
    assert headers["x-abxero-delivery"] == payload["id"]


def _secret(world: World) -> str:
    from abxero.alerts import config

    with world.runtime.sessions() as session:
        return config.load(session, world.runtime.cipher, world.org).webhook_secret


def test_a_failing_webhook_is_retried_with_backoff_under_the_same_delivery_id(
    world: World,
) -> None:
    world.hook.answers = [500, 503]
    _gap(world)
    world.run()
    world.run()  # still inside the first backoff: not sent again
    assert len(world.hook.requests) == 1
    world.clock.advance(minutes=1)
    world.run()
    assert len(world.hook.requests) == 2
    world.clock.advance(minutes=1)
    world.run()
    assert len(world.hook.requests) == 2  # the second backoff is two minutes
    world.clock.advance(minutes=1)
    world.run()
    ids = {headers["x-abxero-delivery"] for headers, _ in world.hook.requests}
    stamps = [headers["x-abxero-timestamp"] for headers, _ in world.hook.requests]
    assert len(world.hook.requests) == 3
    assert len(ids) == 1
    assert len(set(stamps)) == 3  # each attempt is signed afresh
    with world.runtime.sessions() as session:
        row = session.scalars(select(AlertDelivery).where(AlertDelivery.channel == "webhook")).one()
    assert (row.status, row.attempts) == ("sent", 3)


def test_a_receiver_down_for_good_fails_the_delivery_with_an_event(world: World) -> None:
    world.hook.answers = [500] * 20
    _gap(world)
    for _ in range(12):
        _good_run(world)  # only the gap stays open
        world.run()
        world.clock.advance(hours=1)
    gap = [h for h in _hooks(world) if h["kind"] == "reconciliation_gap"]
    assert len(gap) == 8
    assert len({h["id"] for h in gap}) == 1
    with world.runtime.sessions() as session:
        events = session.scalars(select(Event).where(Event.code == "alert_delivery_failed")).all()
    assert len(events) == 1
    assert "after 8 attempts" in events[0].message


def test_an_occurrence_recorded_before_a_crash_is_sent_by_the_next_run(world: World) -> None:
    _gap(world)
    assert evaluate_one(world.runtime, world.org) == 1  # the worker dies before sending
    assert world.mailbox.received == []
    world.run()
    assert len(world.mailbox.received) == 1
    assert len(world.hook.requests) == 1


def test_a_crash_after_sending_resends_once_with_the_same_message_id(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented window: sent but not recorded. The claim lapses, the message goes again
    with the same Message-ID, and never a third time."""
    from abxero.sync import failpoints

    _gap(world)
    monkeypatch.setenv(failpoints.ENVIRONMENT, "alert_sent:1:raise")
    failpoints.reset()
    with pytest.raises(failpoints.FailpointError):
        world.run()
    monkeypatch.delenv(failpoints.ENVIRONMENT)
    crashed = list(world.mailbox.received) or list(world.hook.requests)
    assert len(world.mailbox.received) + len(world.hook.requests) == 1
    world.run()  # the other channel goes; the crashed claim is still live: not resent yet
    assert len(world.mailbox.received) == len(world.hook.requests) == 1
    world.clock.advance(minutes=11)
    world.run()
    world.run()
    if world.mailbox.received[0] == crashed[0]:
        ids = [str(message["Message-ID"]) for _, message in world.mailbox.received]
        assert len(world.hook.requests) == 1
    else:
        ids = [headers["x-abxero-delivery"] for headers, _ in world.hook.requests]
        assert len(world.mailbox.received) == 1
    assert len(ids) == 2
    assert len(set(ids)) == 1


def test_without_smtp_no_email_is_recorded_but_the_webhook_still_goes(
    world: World, tmp_path: object
) -> None:
    from abxero.alerts.service import email_enabled
    from abxero.runtime import Runtime

    settings = world.runtime.settings.model_copy(update={"smtp_url": None})
    quiet = Runtime(settings, now=world.clock)
    try:
        assert not email_enabled(settings)
        _gap(world)
        from abxero.alerts import service

        service.run(quiet)
    finally:
        quiet.close()
    assert world.mailbox.received == []
    assert len(world.hook.requests) == 1
    with world.runtime.sessions() as session:
        channels = session.scalars(select(AlertDelivery.channel)).all()
    assert channels == ["webhook"]


def test_the_minute_tick_queues_the_alerts_job_and_the_job_sends(
    world: World, tmp_path: Path
) -> None:
    queue = build_queue(f"sqlite:///{tmp_path / 'queue.db'}")
    jobs = Jobs(queue, lambda: world.runtime, periodic=False)
    _gap(world)
    jobs.tick()
    assert [task.name for task in queue.pending()].count("alerts") == 1
    while (task := queue.dequeue()) is not None:
        if task.name == "alerts":  # the tick's other work (the daily check) is not this test's
            queue.execute(task)
    assert len(world.mailbox.received) == len(world.hook.requests) == 1


def test_a_live_claim_is_never_taken_over_by_another_worker(world: World) -> None:
    """Two workers listed the same due row; the one that claims second sends nothing."""
    from abxero.alerts.deliver import Deliverer

    _gap(world)
    evaluate_one(world.runtime, world.org)
    runtime = world.runtime
    first = Deliverer(runtime.sessions, runtime.settings, runtime.cipher, runtime.http, world.clock)
    second = Deliverer(
        runtime.sessions, runtime.settings, runtime.cipher, runtime.http, world.clock
    )
    due = first._due(10)
    assert len(due) == 2
    claimed = [first._claim(delivery) for delivery in due]
    assert all(claimed)
    assert [second._claim(delivery) for delivery in due] == [None, None]
    world.clock.advance(minutes=11)  # the first worker died: its claims lapse
    assert all(second._claim(delivery) for delivery in due)


def test_a_mail_server_that_is_down_keeps_the_email_pending_with_the_cause(world: World) -> None:
    from abxero.alerts import service
    from abxero.runtime import Runtime
    from tests.alerts.receivers import free_port

    down = world.mailbox.url.replace(str(world.mailbox.port), str(free_port()))
    settings = world.runtime.settings.model_copy(update={"smtp_url": SecretStr(down)})
    refused = Runtime(settings, now=world.clock)
    try:
        _gap(world)
        service.run(refused)
    finally:
        refused.close()
    assert world.mailbox.received == []
    with world.runtime.sessions() as session:
        row = session.scalars(select(AlertDelivery).where(AlertDelivery.channel == "email")).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.error
    world.clock.advance(minutes=1)
    world.run()  # the server is back: the same message goes, once
    world.run()
    assert len(world.mailbox.received) == 1


def test_rotating_keys_rewrites_the_webhook_secret_too(world: World) -> None:
    """``abxero db rotate-keys`` drops the old key afterwards: the secret must not need it."""
    from cryptography.fernet import Fernet

    from abxero.alerts import config
    from abxero.store.crypto import DecryptionError, TokenCipher
    from abxero.store.models import AlertSettings
    from abxero.store.tokens import rotate_all

    before = _secret(world)
    new_key = Fernet.generate_key().decode()
    old_key = world.runtime.settings.key_file.read_text().strip()
    rotating = TokenCipher([new_key, old_key])
    with transaction(world.runtime.sessions) as session:
        rotate_all(session, rotating)
    with world.runtime.sessions() as session:
        assert config.load(session, TokenCipher([new_key]), world.org).webhook_secret == before
        stored = session.get_one(AlertSettings, world.org).webhook_secret
        assert stored is not None
        with pytest.raises(DecryptionError):
            world.runtime.cipher.decrypt(stored)


def test_rotating_keys_does_not_hide_a_xero_grant_about_to_lapse(world: World) -> None:
    """Xero ends a refresh token unused for 60 days (xero-api.md §1.5); re-encrypting the token
    row under a new key (``abxero db rotate-keys``) does not use it, so the warning stays."""
    from cryptography.fernet import Fernet

    from abxero.store.crypto import TokenCipher
    from abxero.store.tokens import rotate_all

    _token_idle(51)(world)
    with world.runtime.sessions() as session:
        before = session.scalars(select(EncryptedTokenSet)).one()
    key = world.runtime.settings.key_file.read_text().strip()
    spare = Fernet.generate_key().decode()  # the app's key stays primary: it reads on
    with transaction(world.runtime.sessions) as session:
        assert rotate_all(session, TokenCipher([key, spare])) >= 1
    with world.runtime.sessions() as session:
        after = session.scalars(select(EncryptedTokenSet)).one()
    assert after.ciphertext != before.ciphertext
    assert after.updated_at > before.updated_at
    assert after.issued_at == before.issued_at
    world.run()
    title = "The Xero connection is about to lapse"
    assert [h["state"] for h in _hooks(world) if h["title"] == title] == ["raised"]
