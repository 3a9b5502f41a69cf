"""The one rule for "is this organisation due a sync, and when is the next one"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.due import SyncFacts, is_due, may_post, next_sync, retry_after, retry_delay
from abxero.domain.lifecycles import ConnectionStatus, SetupStep

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
READY = SyncFacts(setup_step="done", status="connected", fed=True, interval=HOUR)


def test_a_finished_organisation_that_never_synced_is_due_now() -> None:
    assert next_sync(READY, NOW) == NOW
    assert is_due(READY, NOW)


def test_a_recent_sync_waits_out_the_interval() -> None:
    recent = replace(READY, last_sync_at=NOW - timedelta(minutes=20))
    assert next_sync(recent, NOW) == NOW + timedelta(minutes=40)
    assert not is_due(recent, NOW)
    assert is_due(recent, NOW + timedelta(minutes=40))


def test_an_overdue_sync_is_due_now_not_in_the_past() -> None:
    overdue = replace(READY, last_sync_at=NOW - 5 * HOUR)
    assert next_sync(overdue, NOW) == NOW
    assert is_due(overdue, NOW)


def test_failed_runs_wait_longer_each_time_up_to_the_interval() -> None:
    long_ago = replace(READY, last_sync_at=NOW - 5 * HOUR)
    one = replace(long_ago, failures=1, last_failed_at=NOW - timedelta(minutes=1))
    assert retry_after(one) == NOW + timedelta(minutes=1)
    assert next_sync(one, NOW) == NOW + timedelta(minutes=1)
    assert not is_due(one, NOW)
    three = replace(one, failures=3)
    assert next_sync(three, NOW) == NOW + timedelta(minutes=7)
    many = replace(one, failures=12)
    assert next_sync(many, NOW) == NOW - timedelta(minutes=1) + HOUR  # capped at the interval
    assert is_due(replace(one, last_failed_at=NOW - timedelta(minutes=3)), NOW)


def test_a_failed_run_of_a_never_synced_organisation_also_waits() -> None:
    failed = replace(READY, failures=1, last_failed_at=NOW)
    assert next_sync(failed, NOW) == NOW + timedelta(minutes=2)


def test_the_pause_after_xeros_daily_limit_holds_the_next_sync() -> None:
    parked = replace(READY, last_sync_at=NOW - 5 * HOUR, parked_until=NOW + 3 * HOUR)
    assert next_sync(parked, NOW) == NOW + 3 * HOUR
    assert not is_due(parked, NOW)
    assert is_due(parked, NOW + 3 * HOUR)
    ended = replace(parked, parked_until=NOW - HOUR)
    assert next_sync(ended, NOW) == NOW


def test_the_later_of_the_pause_and_the_interval_wins() -> None:
    both = replace(READY, last_sync_at=NOW, parked_until=NOW + timedelta(minutes=10))
    assert next_sync(both, NOW) == NOW + HOUR


def test_nothing_is_scheduled_before_setup_is_finished() -> None:
    for step in (SetupStep.AMAZON, SetupStep.IMPORT, SetupStep.MAPPING, SetupStep.REVIEW):
        unfinished = replace(READY, setup_step=step)  # e.g. waiting on the mapping
        assert next_sync(unfinished, NOW) is None
        assert not is_due(unfinished, NOW)


def test_nothing_is_scheduled_without_a_working_connection_or_a_feed() -> None:
    for status in (ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.DISCONNECTED):
        assert next_sync(replace(READY, status=status), NOW) is None
    assert next_sync(replace(READY, fed=False), NOW) is None  # no Amazon account reaches it


def test_stored_strings_and_members_are_the_same_values() -> None:
    assert next_sync(replace(READY, setup_step=SetupStep.DONE), NOW) == NOW
    assert SetupStep.DONE == "done"
    assert ConnectionStatus.CONNECTED == "connected"


def test_posting_needs_setup_a_connection_and_no_pause() -> None:
    assert may_post("done", "connected", None, NOW)
    assert may_post("done", "connected", NOW, NOW)
    assert not may_post("done", "connected", NOW + HOUR, NOW)
    assert not may_post("review", "connected", None, NOW)
    assert not may_post("done", "needs_reconnect", None, NOW)


def test_retry_delays_double_and_stop_at_the_interval() -> None:
    delays = [retry_delay(failures, HOUR) for failures in range(1, 8)]
    assert [d.total_seconds() // 60 for d in delays] == [2, 4, 8, 16, 32, 60, 60]


@given(
    last=st.one_of(st.none(), st.integers(-600, 600)),
    parked=st.one_of(st.none(), st.integers(-600, 600)),
    failures=st.integers(0, 12),
    failed=st.integers(-600, 0),
    interval=st.integers(1, 1440),
)
def test_due_exactly_when_the_next_sync_is_not_in_the_future(
    last: int | None, parked: int | None, failures: int, failed: int, interval: int
) -> None:
    facts = SyncFacts(
        "done",
        "connected",
        True,
        timedelta(minutes=interval),
        None if last is None else NOW + timedelta(minutes=last),
        None if parked is None else NOW + timedelta(minutes=parked),
        failures,
        NOW + timedelta(minutes=failed) if failures else None,
    )
    moment = next_sync(facts, NOW)
    assert moment is not None
    assert moment >= NOW
    assert is_due(facts, NOW) == (moment == NOW)
    assert is_due(facts, moment)
