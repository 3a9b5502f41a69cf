"""A page token kept in the bookmark that Amazon no longer takes (expired: SP-API tokens last
minutes, github.com/amzn/selling-partner-api-models issue 562) restarts its window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abxero.amazon.transactions import amazon_time
from abxero.store.db import transaction
from abxero.store.models import Bookmark
from tests.e2e.harness import Harness

pytestmark = pytest.mark.slow


def test_an_expired_stored_page_token_no_longer_stops_the_feed(harness: Harness) -> None:
    """Before: every later run failed with Amazon's 400 for the stored token, for good."""
    connection_id = harness.connections["US"]
    end = harness.runtime.now()
    start = end - timedelta(days=20)
    harness.amazon_admin(
        "POST", "/_sim/faults", {"rate_limits": False, "page_size": 4, "page_token_seconds": 60}
    )
    api = harness.runtime.amazon_api(connection_id)
    window = {"feedStartDate": amazon_time(start), "feedEndDate": amazon_time(end)}
    first = api.get("/reconciliation/2021-01-08/transactions", window)
    with transaction(harness.runtime.sessions) as session:
        session.add(
            Bookmark(
                xero_connection_id=connection_id,
                window_start=start,
                window_end=end,
                page_token=first["nextPageToken"],
            )
        )
    harness.amazon_admin("POST", "/_sim/clock", {"advance_seconds": 600})
    engine = harness.runtime.engine_for(connection_id)
    report = engine.import_range(start, end)
    assert report.error == ""
    assert report.fetched > len(first["transactions"])
    with harness.runtime.sessions() as session:
        bookmark = session.get_one(Bookmark, connection_id)
        assert bookmark.page_token == ""
    again = harness.runtime.engine_for(connection_id).import_range(start, end)
    assert again.error == ""
    assert again.new == 0
    assert len(harness.sources("US")) == report.new
