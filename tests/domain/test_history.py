"""Planning a long history against Xero's 5,000 calls a day: calls, duration, progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.history import (
    CALLS_PER_RUN,
    XERO_CALLS_PER_DAY,
    CallModel,
    describe_duration,
    estimate_import,
    posting_progress,
    posting_time,
    usable_per_day,
)

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
CARDS = CallModel(50)  # bill + payment for every transaction, no PDFs


def test_calls_follow_the_batches_the_engine_sends() -> None:
    assert CARDS.calls_for(0) == 0
    assert CARDS.calls_for(1) == 2 + CALLS_PER_RUN  # one bill batch, one payment batch
    assert CARDS.calls_for(100) == 4 + CALLS_PER_RUN
    spend_money_uk = CallModel(50, payment_share=Decimal(0), attachment_share=Decimal(1))
    assert spend_money_uk.calls_for(100) == 2 + 100 + CALLS_PER_RUN  # one PDF upload each


def test_a_range_within_a_day_takes_minutes() -> None:
    estimate = estimate_import(90, Decimal("3.5"), CARDS)
    assert estimate.transactions == 315
    assert estimate.calls == CARDS.calls_for(315)
    assert estimate.posting_days == 1
    assert not estimate.spreads_over_days
    assert estimate.duration == timedelta(minutes=estimate.calls / 60)


def test_a_year_of_a_busy_account_spreads_over_days() -> None:
    uk = CallModel(50, attachment_share=Decimal(1))
    estimate = estimate_import(365, Decimal(40), uk)
    assert estimate.calls is not None
    assert estimate.calls > XERO_CALLS_PER_DAY
    assert estimate.spreads_over_days
    assert estimate.posting_days == -(-estimate.calls // usable_per_day())
    assert estimate.duration is not None
    assert estimate.duration > timedelta(days=estimate.posting_days - 1)


def test_what_is_posted_costs_nothing_and_unknown_rates_say_so() -> None:
    assert estimate_import(30, Decimal(2), CARDS, stored_in_range=60, posted_in_range=60).calls == 0
    unknown = estimate_import(365, None, CARDS)
    assert unknown.calls is None
    assert unknown.calls_per_hundred == CARDS.calls_for(100)


def test_progress_waits_for_the_end_of_a_pause() -> None:
    parked = NOW + timedelta(hours=5)
    progress = posting_progress(10, 500, CARDS, NOW, parked_until=parked)
    assert (progress.done, progress.left, progress.total) == (10, 500, 510)
    assert progress.finish_at == parked + posting_time(CARDS.calls_for(500))
    assert posting_progress(510, 0, CARDS, NOW).finish_at is None


@given(st.integers(0, 200_000), st.integers(0, 6000))
def test_posting_waits_a_day_for_each_days_worth_of_calls(calls: int, left_today: int) -> None:
    span = posting_time(calls, left_today=left_today)
    later = max(0, calls - left_today)
    waits = -(-later // usable_per_day())
    assert span >= timedelta(days=waits)
    assert span <= timedelta(days=waits, minutes=calls / 60 + 1)


def test_durations_read_as_people_plan() -> None:
    assert describe_duration(timedelta(seconds=20)) == "1 minute"
    assert describe_duration(timedelta(minutes=90)) == "2 hours"
    assert describe_duration(timedelta(days=3, hours=2)) == "4 days"


def test_the_eta_uses_what_today_still_holds() -> None:
    calls = CARDS.calls_for(3000)
    full_day = posting_progress(0, 3000, CARDS, NOW)
    assert full_day.finish_at == NOW + posting_time(calls)
    nearly_spent = posting_progress(0, 3000, CARDS, NOW, left_today=260)
    assert nearly_spent.finish_at is not None
    assert full_day.finish_at is not None
    assert nearly_spent.finish_at > full_day.finish_at + timedelta(hours=20)
