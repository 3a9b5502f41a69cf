"""Follow-up pages of getTransactions as Amazon may really take them, and page tokens that die.

The model marks ``feedStartDate``/``feedEndDate`` required on every call yet says to send
``nextPageToken`` "as the only parameter" (reconciliation-2021-01-08.json); SP-API page tokens
expire after minutes (github.com/amzn/selling-partner-api-models issue 562). The simulator plays
each variant with ``page_token_form`` and ``page_token_seconds``.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from abxero.amazon import FatalError, FeedPosition, TransactionFeed
from abxero.sync.amazon_feed import AmazonFeedClient
from abxero_sim.clock import ManualClock
from tests.amazon.amazon_support import START, ApiFor, set_faults

FROM = START - timedelta(days=21)


def generated_ids(http: httpx.Client, business_id: str) -> list[str]:
    generator = http.app.state.sim.generators[business_id]  # type: ignore[attr-defined]
    return sorted(item.record["transactionId"] for item in generator.window(FROM, START))


def requests_made(http: httpx.Client) -> int:
    counted: int = http.get("/_sim/state").json()["requests"].get("getTransactions", 0)
    return counted


def first_page_token(feed: TransactionFeed) -> str:
    page = next(iter(feed.pages(FROM, START, window=START - FROM)))
    assert page.next_page_token
    return page.next_page_token


def ids_from_port(client: AmazonFeedClient, token: str | None) -> list[str]:
    pages = client.pages(FROM, START, token)
    return sorted(str(raw["transactionId"]) for page in pages for raw, _ in page.records)


def test_an_expired_stored_token_restarts_its_window_instead_of_failing_every_run(
    http: httpx.Client, api_for: ApiFor, clock: ManualClock
) -> None:
    """Before: the engine's stored token got 400 on every later run, and the feed stopped."""
    set_faults(http, page_size=5, rate_limits=False, page_token_seconds=120)
    stored = first_page_token(TransactionFeed(api_for("us-acme")))
    clock.advance(600)
    client = AmazonFeedClient(api_for("us-acme"))
    assert ids_from_port(client, stored) == generated_ids(http, "us-acme")
    assert ids_from_port(client, stored) == generated_ids(http, "us-acme")


def test_a_token_amazon_no_longer_knows_restarts_the_window_once(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, page_size=5, rate_limits=False)
    feed = TransactionFeed(api_for("uk-harbour"))
    pages = list(feed.pages(FROM, START, window=START - FROM))
    unknown = FeedPosition(FROM, START, "bm90IGEgdG9rZW4=")
    resumed = list(feed.pages(FROM, START, window=START - FROM, resume=unknown))
    assert len(feed.restarted) == 1
    assert [p.records for p in resumed] == [p.records for p in pages]


def test_a_window_whose_fresh_tokens_die_too_fails_instead_of_looping(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, page_size=5, rate_limits=False, page_token_seconds=0.001)
    feed = TransactionFeed(api_for("us-acme"))
    sleeps = feed.api.sleep

    def slow_reader() -> None:
        for _ in feed.pages(FROM, START, window=START - FROM):
            sleeps(1)

    with pytest.raises(FatalError, match="refused the page token"):
        slow_reader()
    assert len(feed.restarted) == 1


@pytest.mark.parametrize("form", ["with_window", "token_only", "either"])
def test_every_page_is_read_whichever_token_form_amazon_insists_on(
    http: httpx.Client, api_for: ApiFor, form: str
) -> None:
    set_faults(http, page_size=5, rate_limits=False, page_token_form=form)
    feed = TransactionFeed(api_for("us-acme"))
    pages = list(feed.pages(FROM, START, window=START - FROM))
    ids = sorted(r.raw["transactionId"] for p in pages for r in p.records)
    assert ids == generated_ids(http, "us-acme")
    refused_once = 1 if form == "token_only" else 0
    assert requests_made(http) == len(pages) + refused_once
    assert not feed.restarted


def test_follow_up_pages_send_the_window_with_the_token_first(
    http: httpx.Client, api_for: ApiFor
) -> None:
    set_faults(http, page_size=5, rate_limits=False, page_token_form="with_window")
    seen: list[dict[str, str]] = []
    api = api_for("us-acme")
    original = api.http.request

    def recording(method: str, url: str, **kwargs: object) -> httpx.Response:
        seen.append(dict(kwargs.get("params") or {}))  # type: ignore[call-overload]
        return original(method, url, **kwargs)  # type: ignore[arg-type]

    api.http.request = recording  # type: ignore[method-assign]
    list(TransactionFeed(api).pages(FROM, START, window=START - FROM))
    assert seen[0] == {
        "feedStartDate": "2026-02-08T00:00:00Z",
        "feedEndDate": "2026-03-01T00:00:00Z",
    }
    assert all(
        params.keys() == {"feedStartDate", "feedEndDate", "nextPageToken"} for params in seen[1:]
    )
