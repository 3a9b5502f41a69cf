"""Xero misbehaving while we post: 429 storms, 5xx, timeouts, lost responses, a disconnected
organisation. Every case ends with each purchase in Xero exactly once."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from abxero.store.db import transaction
from abxero.store.models import Batch, XeroConnection
from abxero.sync.amazon_feed import AmazonFeedClient
from abxero.sync.engine import Engine
from abxero.sync.xero_books import XeroBooksClient
from abxero.xero import connect_accounting
from tests.e2e.harness import Harness
from tests.hardening.support import (
    assert_exactly_once,
    connection,
    event_codes,
    events,
    import_and_finish,
    post,
)

pytestmark = pytest.mark.slow


def _faults(harness: Harness, **knobs: object) -> None:
    harness.xero_admin("POST", "/_sim/faults", knobs)


def _batch_statuses(harness: Harness, region: str) -> list[str]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(Batch.status).where(Batch.xero_connection_id == harness.connections[region])
            )
        )


def test_a_minute_limit_storm_is_waited_out_and_everything_posts_once(harness: Harness) -> None:
    import_and_finish(harness, "UK")
    _faults(harness, rate_limit_storm=3, storm_problem="minute", storm_retry_after=1)
    report = post(harness, "UK")
    assert report.error == ""
    assert report.documents_posted > 0
    assert harness.xero_admin("GET", "/_sim/stats")["statuses"]  # the storm was answered
    assert_exactly_once(harness, "UK")


def test_a_day_limit_parks_the_organisation_and_a_later_run_resumes(harness: Harness) -> None:
    import_and_finish(harness, "US")
    _faults(harness, rate_limit_storm=1, storm_problem="day", storm_retry_after=3600)
    assert post(harness, "US").error
    parked = connection(harness, "US").parked_until
    assert parked is not None
    assert parked > harness.runtime.now() + timedelta(minutes=50)
    assert "xero_day_limit" in event_codes(harness, "US")
    assert "posting resumes" in events(harness, "US")[-1].message
    while_parked = post(harness, "US")
    assert not while_parked.posting
    assert while_parked.documents_posted == 0
    with transaction(harness.runtime.sessions) as session:  # the day is over
        session.get_one(XeroConnection, harness.connections["US"]).parked_until = (
            harness.runtime.now() - timedelta(seconds=1)
        )
    resumed = post(harness, "US")
    assert resumed.error == ""
    assert resumed.documents_posted > 0
    assert_exactly_once(harness, "US")


def test_server_errors_end_the_run_and_the_next_run_posts_the_rest_once(harness: Harness) -> None:
    import_and_finish(harness, "UK")
    _faults(harness, server_errors=1_000, server_error_status=503)
    failed = post(harness, "UK")
    assert failed.error
    assert failed.documents_posted == 0
    assert "xero_unavailable" in event_codes(harness, "UK")
    _faults(harness, server_errors=0)
    again = post(harness, "UK")
    assert again.error == ""
    assert again.documents_posted > 0
    assert_exactly_once(harness, "UK")


def _engine_with_timeout(harness: Harness, region: str, seconds: float) -> Engine:
    runtime, connection_id = harness.runtime, harness.connections[region]
    stored = connection(harness, region)
    assert stored.token_set_id is not None
    api = connect_accounting(
        runtime.http,
        stored.tenant_id,
        runtime.xero_tokens(stored.token_set_id),
        api_url=runtime.settings.xero_api_url,
        pacer=runtime.pacer,
        timeout=httpx.Timeout(seconds),
    )
    feed = AmazonFeedClient(runtime.amazon_api(connection_id))
    return Engine(runtime.sessions, connection_id, feed, XeroBooksClient(api), now=runtime.now)


def test_a_write_that_times_out_after_xero_stored_it_is_replayed_once(harness: Harness) -> None:
    import_and_finish(harness, "UK")
    _faults(harness, lose_responses=1, lose_mode="hang", slow_seconds=1.0)
    timed_out = _engine_with_timeout(harness, "UK", 0.5).post_pending()
    assert "timed out" in timed_out.error
    assert "sending" in _batch_statuses(harness, "UK")
    assert "xero_unavailable" in event_codes(harness, "UK")
    again = post(harness, "UK")
    assert again.error == ""
    assert "sending" not in _batch_statuses(harness, "UK")
    assert harness.xero_admin("GET", "/_sim/stats")["idempotent_replays"] >= 1
    assert_exactly_once(harness, "UK")


@pytest.mark.parametrize("reconcile", [False, True], ids=["same-key replay", "reconciled"])
def test_a_response_lost_after_xero_wrote_posts_once(harness: Harness, reconcile: bool) -> None:
    import_and_finish(harness, "US")
    _faults(harness, lose_responses=1)
    lost = post(harness, "US")
    assert lost.error  # the batch's answer never arrived
    assert "sending" in _batch_statuses(harness, "US")
    lifetime = timedelta(0) if reconcile else timedelta(minutes=5)
    again = harness.runtime.engine_for(harness.connections["US"], key_lifetime=lifetime)
    assert again.post_pending().error == ""
    assert "sending" not in _batch_statuses(harness, "US")
    stats = harness.xero_admin("GET", "/_sim/stats")
    assert (stats["idempotent_replays"] == 0) is reconcile
    assert_exactly_once(harness, "US")


def test_an_organisation_disconnected_in_xero_asks_for_a_reconnect(harness: Harness) -> None:
    import_and_finish(harness, "UK")
    _faults(harness, disconnected_tenants=[harness.tenant_id("UK")])
    report = post(harness, "UK")
    assert report.error
    assert report.documents_posted == 0
    assert connection(harness, "UK").status == "needs_reconnect"
    notice = events(harness, "UK")[-1]
    assert notice.code == "xero_needs_reconnect"
    assert "Reconnect Xero" in notice.remedy
    assert all(document.status != "posted" for document in harness.documents("UK"))
    _faults(harness, disconnected_tenants=[])
    import_and_finish(harness, "US")
    assert post(harness, "US").error == ""  # the other organisation is untouched
