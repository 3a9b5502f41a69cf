"""Alerts raised by faults the simulators really produce, through a real sync, and resolved by
the real fix: the webhook receiver hears each once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from abxero.alerts import service
from abxero.store.db import transaction
from abxero.store.models import XeroConnection
from tests.alerts.receivers import Hook, webhook_receiver
from tests.e2e.harness import Harness
from tests.hardening.support import import_and_finish, post

pytestmark = pytest.mark.slow


@pytest.fixture
def hook(harness: Harness) -> Iterator[Hook]:
    with webhook_receiver() as receiver:
        for connection_id in harness.connections.values():
            service.save(
                harness.runtime,
                connection_id,
                recipients="books@example.com",
                webhook_url=receiver.url,
                stale_hours="6",
            )
        yield receiver


def _heard(hook: Hook, kind: str) -> list[str]:
    bodies = [json.loads(body) for _, body in hook.requests]
    return [body["state"] for body in bodies if body["kind"] == kind]


def test_revoked_amazon_consent_is_told_once_while_it_lasts(harness: Harness, hook: Hook) -> None:
    import_and_finish(harness, "US")
    assert post(harness, "US").error == ""
    harness.amazon_admin("POST", "/_sim/revoke", {"business_id": "us-acme"})
    assert harness.runtime.engine_for(harness.connections["US"]).sync().error
    service.run(harness.runtime)
    service.run(harness.runtime)
    assert _heard(hook, "amazon_consent") == ["raised"]
    assert harness.runtime.engine_for(harness.connections["US"]).sync().error
    service.run(harness.runtime)
    assert _heard(hook, "amazon_consent") == ["raised"]  # still revoked: nothing new


def test_two_failed_syncs_and_a_disconnected_organisation_alert_and_resolve(
    harness: Harness, hook: Hook
) -> None:
    import_and_finish(harness, "UK")
    harness.xero_admin("POST", "/_sim/faults", {"server_errors": 1_000, "server_error_status": 503})
    engine = harness.runtime.engine_for(harness.connections["UK"])
    assert engine.sync().error
    service.run(harness.runtime)
    assert _heard(hook, "sync_failing") == []  # one failure is not an alert
    assert harness.runtime.engine_for(harness.connections["UK"]).sync().error
    service.run(harness.runtime)
    assert _heard(hook, "sync_failing") == ["raised"]
    harness.xero_admin("POST", "/_sim/faults", {"server_errors": 0})
    assert harness.runtime.engine_for(harness.connections["UK"]).sync().error == ""
    service.run(harness.runtime)
    assert _heard(hook, "sync_failing") == ["raised", "resolved"]
    tenant = harness.tenant_id("UK")
    harness.xero_admin("POST", "/_sim/faults", {"disconnected_tenants": [tenant]})
    assert harness.runtime.engine_for(harness.connections["UK"]).sync().error
    service.run(harness.runtime)
    assert _heard(hook, "xero_consent") == ["raised"]


def test_the_day_limit_is_told_and_resolved_when_the_organisation_resumes(
    harness: Harness, hook: Hook
) -> None:
    import_and_finish(harness, "US")
    harness.xero_admin(
        "POST",
        "/_sim/faults",
        {"rate_limit_storm": 1, "storm_problem": "day", "storm_retry_after": 3600},
    )
    assert post(harness, "US").error
    service.run(harness.runtime)
    assert _heard(hook, "xero_day_limit") == ["raised"]
    body = next(json.loads(b) for _, b in hook.requests if b"xero_day_limit" in b)
    assert "Posting pauses until" in body["detail"]
    with transaction(harness.runtime.sessions) as session:  # the day is over
        session.get_one(XeroConnection, harness.connections["US"]).parked_until = (
            harness.runtime.now() - timedelta(seconds=1)
        )
    assert post(harness, "US").error == ""
    service.run(harness.runtime)
    assert _heard(hook, "xero_day_limit") == ["raised", "resolved"]
