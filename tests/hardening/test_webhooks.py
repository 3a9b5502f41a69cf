"""Xero webhooks over real HTTP: the simulator signs and delivers, the served app verifies,
records the changes that concern us and queues a sync; anything unsigned is refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from abxero.domain.mapping import SellerCoding
from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services.webhooks import signature_of
from abxero.store.db import transaction
from abxero.store.models import SellerContact
from abxero.sync.mappings import latest_mapping, save_mapping
from abxero.web import create_app
from abxero.web.serving import served
from abxero_sim.demo import settings_for
from tests.e2e.harness import Harness
from tests.hardening.support import connection, event_codes, events, import_and_finish, post

KEY = "sim-webhook-signing-key"
pytestmark = pytest.mark.slow


@dataclass
class Receiver:
    url: str
    jobs: Jobs


@pytest.fixture
def receiver(harness: Harness, tmp_path: Path) -> Iterator[Receiver]:
    """The web app served on a loopback port with a webhook key and a queue nobody consumes."""
    settings = settings_for(
        harness.world,
        tmp_path,
        database_url=harness.runtime.settings.resolved_database_url,
        queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
        xero_webhook_key=KEY,
    )
    runtime = Runtime(settings)
    jobs = Jobs(build_queue(settings.resolved_queue_url), lambda: runtime, periodic=False)
    with served(create_app(runtime, jobs)) as app:
        url = f"{app.url}/webhooks/xero"
        harness.xero_admin("POST", "/_sim/webhooks", {"url": url, "key": KEY})
        yield Receiver(url, jobs)
    runtime.close()


def _queued(jobs: Jobs) -> list[str]:
    return [task.name for task in jobs.queue.pending()]


def test_intent_to_receive_takes_the_good_signature_and_refuses_the_bad(
    harness: Harness, receiver: Receiver
) -> None:
    reply = harness.xero_admin("POST", "/_sim/webhooks", {"intent_to_receive": True})
    assert reply["intent_to_receive"] == {"good": 200, "bad": 401}


def test_unsigned_or_forged_deliveries_are_refused_with_an_empty_body(
    receiver: Receiver,
) -> None:
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"x"}'
    for headers in (
        {},
        {"x-xero-signature": "forged"},
        {"x-xero-signature": signature_of("no", body)},
    ):
        refused = httpx.post(receiver.url, content=body, headers=headers)
        assert (refused.status_code, refused.content) == (401, b"")
    good = httpx.post(
        receiver.url, content=body, headers={"x-xero-signature": signature_of(KEY, body)}
    )
    assert (good.status_code, good.content) == (200, b"")
    assert "set-cookie" not in good.headers


def test_a_change_to_a_posted_bill_is_recorded_and_queues_a_sync(
    harness: Harness, receiver: Receiver
) -> None:
    import_and_finish(harness, "UK")
    post(harness, "UK")
    bill = next(d for d in harness.documents("UK") if d.role == "bill" and d.status == "posted")
    created = harness.xero_admin("POST", "/_sim/webhooks", {"flush": True})
    assert created["delivered"] == [200]  # our own creations: nothing to record or queue
    assert _queued(receiver.jobs) == []
    tenant = harness.tenant_id("UK")
    token = httpx.post(f"{harness.world.xero_url}/_sim/token", json={"tenants": [tenant]}).json()
    headers = {"authorization": f"Bearer {token['access_token']}", "xero-tenant-id": tenant}
    edited = httpx.post(
        f"{harness.world.xero_url}/api.xro/2.0/Invoices/{bill.xero_id}",
        json={"Invoices": [{"InvoiceID": bill.xero_id, "Reference": "edited in Xero"}]},
        headers=headers,
    )
    assert edited.status_code == 200, edited.text
    reply = harness.xero_admin("POST", "/_sim/webhooks", {"flush": True})
    assert reply["delivered"] == [200]
    assert "xero_bill_changed" in event_codes(harness, "UK")
    assert _queued(receiver.jobs) == ["sync_connection"]


def test_a_change_to_the_amazon_business_contact_is_surfaced(
    harness: Harness, receiver: Receiver
) -> None:
    import_and_finish(harness, "US")
    post(harness, "US")
    harness.xero_admin("POST", "/_sim/webhooks", {"flush": True})
    contact_id = connection(harness, "US").contact_id
    harness.xero_admin(
        "POST", f"/_sim/orgs/{harness.tenant_id('US')}", {"contacts": {contact_id: {"Name": "AB"}}}
    )
    harness.xero_admin("POST", "/_sim/webhooks", {"flush": True})
    codes = event_codes(harness, "US")
    assert codes.count("xero_contact_changed") == 1
    assert "xero_contact_changed" not in event_codes(harness, "UK")


def test_a_change_to_a_sellers_contact_is_surfaced(harness: Harness, receiver: Receiver) -> None:
    import_and_finish(harness, "UK", days=10)
    with transaction(harness.runtime.sessions) as session:
        found = latest_mapping(session, harness.connections["UK"])
        assert found is not None
        per_seller = SellerCoding(contact_per_seller=True)
        save_mapping(
            session, harness.connections["UK"], found[1].model_copy(update={"sellers": per_seller})
        )
    post(harness, "UK")
    harness.xero_admin("POST", "/_sim/webhooks", {"flush": True})
    with harness.runtime.sessions() as session:
        seller_contact = session.scalars(
            select(SellerContact.contact_id).where(
                SellerContact.xero_connection_id == harness.connections["UK"]
            )
        ).first()
    assert seller_contact
    harness.xero_admin(
        "POST",
        f"/_sim/orgs/{harness.tenant_id('UK')}",
        {"contacts": {seller_contact: {"ContactStatus": "ARCHIVED"}}},
    )
    harness.xero_admin("POST", "/_sim/webhooks", {"flush": True})
    changed = [e for e in events(harness, "UK") if e.code == "xero_contact_changed"]
    assert len(changed) == 1
    assert "seller's supplier contact" in changed[0].message
