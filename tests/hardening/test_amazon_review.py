"""An Amazon amount that differs from its lines posts anyway, with one review event each.

The Reconciliation model says an unsettled ``amount`` is "the amount for which Amazon received an
authorization", so it may differ from the sum of the lines; the simulator's ``bad_total`` fault
sends exactly that (the amount one more than the lines).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from abxero.store.db import transaction
from abxero.store.models import SourceTransaction
from tests.e2e.harness import Harness
from tests.hardening.support import assert_exactly_once, events, import_and_finish, post

pytestmark = pytest.mark.slow


def test_an_amount_beyond_its_lines_posts_with_one_review_event_per_transaction(
    harness: Harness,
) -> None:
    harness.amazon_admin(
        "POST", "/_sim/faults", {"malformed_every": 3, "malformed_kinds": ["bad_total"]}
    )
    import_and_finish(harness, "UK")
    report = post(harness, "UK")
    assert report.error == ""
    sources = harness.sources("UK")
    assert not [s for s in sources if s.status == "quarantined"]
    reviews = [event for event in events(harness, "UK") if event.code == "amazon_review"]
    assert reviews
    reviewed = [event.data["transaction_id"] for event in reviews]
    assert len(reviewed) == len(set(reviewed))
    assert all("Amazon adjustment" in event.message for event in reviews)
    assert all({s.status for s in sources if s.transaction_id == t} == {"posted"} for t in reviewed)
    post(harness, "UK")
    again = [event for event in events(harness, "UK") if event.code == "amazon_review"]
    assert len(again) == len(reviews)
    assert_exactly_once(harness, "UK")


def test_records_an_older_parser_quarantined_post_when_the_range_is_imported_again(
    harness: Harness,
) -> None:
    """Upgrading heals the ledger: a re-import re-reads quarantined records the parser now takes."""
    import_and_finish(harness, "UK")
    with transaction(harness.runtime.sessions) as session:
        rows = session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.xero_connection_id == harness.connections["UK"]
            )
        ).all()
        stale = [row.transaction_id for row in rows[:3]]
        for row in rows[:3]:
            row.status, row.reason_code, row.reason = "quarantined", "bad_record", "old parser"
            row.amount, row.instrument_key = None, ""
    import_and_finish(harness, "UK")
    post(harness, "UK")
    healed = {
        s.transaction_id: s.status for s in harness.sources("UK") if s.transaction_id in stale
    }
    assert set(healed.values()) <= {"posted", "skipped"}
    assert "posted" in healed.values()
    assert_exactly_once(harness, "UK")
