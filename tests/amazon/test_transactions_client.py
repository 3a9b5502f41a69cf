"""The transaction iterator against the simulator: windows, pages, resume, faults."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from abxero.amazon import (
    AmazonApi,
    FatalError,
    FeedPosition,
    NeedsReconnectError,
    RetriableError,
    RetryPolicy,
    TransactionFeed,
    windows,
)
from abxero.domain.transactions import Quarantined, Transaction
from abxero_sim.amazon.generator import record_feed_date
from abxero_sim.clock import ManualClock
from tests.amazon.amazon_support import BASE_URL, START, ApiFor, SimToken, Sleeps, set_faults

FROM = START - timedelta(days=21)


def all_ids(feed: TransactionFeed, **kwargs: object) -> list[str]:
    ids = []
    for record in feed.transactions(FROM, START, **kwargs):  # type: ignore[arg-type]
        assert isinstance(record.item, Transaction)
        ids.append(record.item.transaction_id)
    return ids


def direct_ids(http: httpx.Client, business_id: str) -> set[str]:
    """What the generator holds for the period, read without the API."""
    app_state = http.app.state.sim  # type: ignore[attr-defined]
    generator = app_state.generators[business_id]
    return {item.record["transactionId"] for item in generator.window(FROM, START)}


def test_windows_cover_the_range_without_gaps() -> None:
    parts = list(windows(FROM, START, timedelta(days=7)))
    assert parts[0][0] == FROM
    assert parts[-1][1] == START
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    with pytest.raises(ValueError, match="positive"):
        list(windows(FROM, START, timedelta(0)))


def test_every_transaction_once_across_windows_and_pages(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, page_size=7, rate_limits=False)
    feed = TransactionFeed(api_for("us-acme"))
    ids = all_ids(feed, window=timedelta(days=3))
    assert len(ids) == len(set(ids)) == len(direct_ids(http, "us-acme"))
    assert set(ids) == direct_ids(http, "us-acme")
    pages = list(feed.pages(FROM, START, window=timedelta(days=3)))
    assert any(page.next_page_token for page in pages)
    assert all(len(page.records) <= 7 for page in pages)


def test_feed_dates_fall_in_their_window(http: httpx.Client, api_for: ApiFor) -> None:
    set_faults(http, rate_limits=False)
    for page in TransactionFeed(api_for("uk-harbour")).pages(FROM, START):
        for record in page.records:
            moment = record_feed_date(record.raw)
            assert page.position.window_start <= moment < page.position.window_end


def test_resuming_from_a_bookmarked_page_finishes_the_window(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, page_size=5, rate_limits=False)
    feed = TransactionFeed(api_for("us-acme"))
    pages = feed.pages(FROM, START, window=timedelta(days=7))
    first_pages = [next(pages), next(pages)]
    bookmark = first_pages[-1].resume_after
    assert bookmark is not None
    assert bookmark.page_token
    restored = FeedPosition.from_dict(bookmark.as_dict())
    assert restored == bookmark
    seen = [r.raw["transactionId"] for p in first_pages for r in p.records]
    rest = [r.raw["transactionId"] for r in feed.transactions(FROM, START, resume=restored)]
    assert sorted(seen + rest) == sorted(direct_ids(http, "us-acme"))


def test_late_feeds_appear_when_the_clock_moves(
    http: httpx.Client, api_for: ApiFor, clock: ManualClock
) -> None:
    set_faults(http, rate_limits=False)
    span = (START - timedelta(days=3), START + timedelta(days=3))
    before = {
        r.raw["transactionId"] for r in TransactionFeed(api_for("us-acme")).transactions(*span)
    }
    clock.advance(3 * 86400)
    after = {
        r.raw["transactionId"] for r in TransactionFeed(api_for("us-acme")).transactions(*span)
    }
    assert before < after


def test_malformed_records_come_out_quarantined_and_never_stop_the_walk(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, malformed_every=3, rate_limits=False, page_size=10)
    records = list(TransactionFeed(api_for("uk-harbour")).transactions(FROM, START))
    bad = [r for r in records if isinstance(r.item, Quarantined)]
    assert records
    assert bad
    assert len(bad) < len(records)
    reasons = " | ".join(r.item.reason for r in bad if isinstance(r.item, Quarantined))
    for expected in (
        "must be a decimal string",
        "transactionType is missing",
        "not a known ISO 4217 currency",
    ):
        assert expected in reasons
    assert all(r.raw is r.item.raw for r in bad if isinstance(r.item, Quarantined))


def test_added_records_are_served_and_bad_ones_quarantined(
    http: httpx.Client, api_for: ApiFor, clock: ManualClock
) -> None:
    set_faults(http, rate_limits=False)
    added = [
        {"transactionId": "X-1", "feedDate": "2026-02-25T00:00:00Z", "transactionType": "CHARGE"},
        "not even an object",
    ]
    clock.set(START - timedelta(hours=1))
    http.post("/_sim/transactions", json={"business_id": "us-bluebird", "transactions": added})
    clock.set(START)
    records = list(TransactionFeed(api_for("us-bluebird")).transactions(FROM, START))
    assert [r.raw for r in records[-2:]] == added
    assert all(isinstance(r.item, Quarantined) for r in records[-2:])


def test_a_429_storm_is_waited_out_at_the_advertised_pace(
    http: httpx.Client, api_for: ApiFor, sleeps: Sleeps
) -> None:
    set_faults(http, queue=["429", "429", "429"])
    pages = list(TransactionFeed(api_for("us-acme")).pages(START - timedelta(days=1), START))
    assert pages
    assert len(sleeps.calls) == 3
    assert all(call >= 0.5 for call in sleeps.calls)


def test_the_real_rate_limit_is_paced_not_failed(
    http: httpx.Client, api_for: ApiFor, sleeps: Sleeps
) -> None:
    set_faults(http, page_size=2)
    pages = list(TransactionFeed(api_for("us-acme")).pages(FROM, START))
    assert len(pages) > 12
    assert sleeps.calls
    assert http.get("/_sim/state").json()["requests"]["getTransactions"] > len(pages)


@pytest.mark.parametrize("status", ["500", "503", "504", "drop"])
def test_server_errors_and_drops_are_retried(
    http: httpx.Client, api_for: ApiFor, sleeps: Sleeps, status: str
) -> None:
    set_faults(http, queue=[status, status])
    pages = list(TransactionFeed(api_for("uk-thistle")).pages(START - timedelta(days=5), START))
    assert pages
    assert len(sleeps.calls) == 2


def test_endless_errors_end_as_retriable(http: httpx.Client, api_for: ApiFor) -> None:
    set_faults(http, queue=["500"] * 10)
    with pytest.raises(RetriableError) as failed:
        list(TransactionFeed(api_for("uk-thistle")).pages(START - timedelta(days=5), START))
    assert failed.value.status == 500
    assert "InternalFailure" in str(failed.value)


def test_an_expired_static_token_needs_reconnect(http: httpx.Client, api_for: ApiFor) -> None:
    set_faults(http, queue=["expired"])
    assert list(TransactionFeed(api_for("uk-thistle")).pages(START - timedelta(days=5), START))
    set_faults(http, queue=["expired", "expired"])
    with pytest.raises(NeedsReconnectError, match="expired"):
        list(TransactionFeed(api_for("uk-thistle")).pages(START - timedelta(days=5), START))


def test_a_token_for_another_region_is_refused(
    clock: ManualClock, sim_token: SimToken, sleeps: Sleeps
) -> None:
    from abxero.amazon import StaticToken
    from abxero_sim.amazon import SimulatorState, create_app
    from tests.amazon.amazon_support import TestClient

    state = SimulatorState(4, clock=clock)
    na = TestClient(create_app(state=state, region="US", admin=True), base_url=BASE_URL)
    eu = TestClient(create_app(state=state, region="UK"), base_url=BASE_URL)
    token = na.post("/_sim/token", json={"business_id": "us-acme"}).json()["access_token"]
    assert list(TransactionFeed(AmazonApi(na, BASE_URL, StaticToken(token))).pages(FROM, START))
    with pytest.raises(NeedsReconnectError, match=r"amazon\.com"):
        list(TransactionFeed(AmazonApi(eu, BASE_URL, StaticToken(token))).pages(FROM, START))


def test_a_repeated_page_token_is_fatal() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"transactions": [], "nextPageToken": "same"})

    http = httpx.Client(transport=httpx.MockTransport(handler), base_url=BASE_URL)
    from abxero.amazon import StaticToken

    feed = TransactionFeed(AmazonApi(http, BASE_URL, StaticToken("t"), retry=RetryPolicy()))
    with pytest.raises(FatalError, match="same page token"):
        list(feed.pages(FROM, START))


def test_counts_by_type_match_the_generator(http: httpx.Client, api_for: ApiFor) -> None:
    set_faults(http, rate_limits=False)
    records = list(TransactionFeed(api_for("uk-harbour")).transactions(FROM, START))
    kinds = Counter(r.raw["transactionType"] for r in records)
    assert kinds["CHARGE"] > 0
    assert sum(kinds.values()) == len(direct_ids(http, "uk-harbour"))
