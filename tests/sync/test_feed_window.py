"""The engine's feed reads exactly the window the engine cut (``sync/windows.py``): one
``FeedPosition`` per window, its page token sent with that window's own bounds
(reconciliation-2021-01-08.json, getTransactions: ``feedStartDate``/``feedEndDate`` with
``nextPageToken``). No HTTP: the API is a stand-in that records what it is asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from abxero.amazon import AmazonApi
from abxero.sync.amazon_feed import AmazonFeedClient
from abxero.sync.windows import WINDOW, windows

START = datetime(2026, 7, 1, 12, 0, 0, 500000, tzinfo=UTC)


class RecordingApi:
    def __init__(self, *bodies: dict[str, Any]) -> None:
        self.bodies = list(bodies)
        self.asked: list[dict[str, str]] = []

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        self.asked.append(params)
        return self.bodies.pop(0) if self.bodies else {"transactions": []}


def test_a_window_with_parts_of_a_second_is_read_in_one_request() -> None:
    api = RecordingApi()
    end = START + timedelta(seconds=9, microseconds=700000)
    pages = list(AmazonFeedClient(cast(AmazonApi, api)).pages(START, end, None))
    assert len(pages) == 1
    assert api.asked == [
        {"feedStartDate": "2026-07-01T12:00:00Z", "feedEndDate": "2026-07-01T12:00:10Z"}
    ]


def test_a_stored_page_token_is_sent_with_its_own_window() -> None:
    api = RecordingApi({"transactions": [], "nextPageToken": "next"})
    end = START + timedelta(days=3)
    list(AmazonFeedClient(cast(AmazonApi, api)).pages(START, end, "stored"))
    assert api.asked[0] == {
        "feedStartDate": "2026-07-01T12:00:00Z",
        "feedEndDate": "2026-07-04T12:00:00Z",
        "nextPageToken": "stored",
    }
    assert api.asked[1]["nextPageToken"] == "next"
    assert len(api.asked) == 2


def test_the_engine_windows_keep_their_exact_bounds() -> None:
    end = START + WINDOW + timedelta(days=1)
    parts = list(windows(START, end, WINDOW))
    assert parts == [(START, START + WINDOW), (START + WINDOW, end)]
