"""A history that needs more Xero calls than a day holds: it parks at the day limit, resumes the
next day, shows done / left / ETA throughout, and ends with every purchase in Xero once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abxero.services import setup
from abxero.store.db import transaction
from abxero.store.models import XeroConnection
from tests.e2e.harness import Harness
from tests.hardening.support import (
    assert_exactly_once,
    connection,
    event_codes,
    import_and_finish,
    post,
)

pytestmark = pytest.mark.slow
CALLS_A_DAY = 4
"""Low enough that 90 days need three days of posting, now that a run reuses the stored
organisation read and spends its calls on batches."""


def _next_day(harness: Harness, region: str) -> None:
    """Xero's day window rolls over; the organisation's pause ends."""
    harness.xero_admin("POST", "/_sim/clock", {"advance_seconds": 86_400 + 60})
    with transaction(harness.runtime.sessions) as session:
        session.get_one(XeroConnection, harness.connections[region]).parked_until = (
            harness.runtime.now() - timedelta(seconds=1)
        )


def test_a_history_beyond_one_days_calls_spreads_over_days_and_posts_once(
    harness: Harness,
) -> None:
    import_and_finish(harness, "UK", days=90)
    organisation = harness.connections["UK"]
    before = setup.posting_state(harness.runtime, organisation)
    assert before.done == 0
    assert before.left > 0
    assert before.finish_at is not None
    harness.xero_admin("POST", "/_sim/faults", {"limits": {"per_day": CALLS_A_DAY}})
    days = 0
    left = before.left
    while True:
        report = post(harness, "UK")
        state = setup.posting_state(harness.runtime, organisation)
        if not report.error:
            break
        days += 1
        assert days < 60, "posting never finished"
        parked = connection(harness, "UK").parked_until
        assert parked is not None
        assert event_codes(harness, "UK")[-1] == "xero_day_limit"
        assert state.left < left or days == 1  # every day moves it on
        assert state.done + state.left == before.total
        if state.left:
            assert state.finish_at is not None
            assert state.finish_at > parked  # the ETA counts the pause
        left = state.left
        _next_day(harness, "UK")
    assert days >= 2  # parked twice or more: three or more days of posting
    assert state.left == 0
    assert state.done > 0
    assert_exactly_once(harness, "UK")
