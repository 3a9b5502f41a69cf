"""The engine's view of the Amazon feed (``AmazonFeed``) over our Reconciliation client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from abxero.amazon import (
    AmazonApi,
    FatalError,
    FeedPosition,
    NeedsReconnectError,
    RetriableError,
    TransactionFeed,
)
from abxero.sync.ports import FeedPage, NeedsReconnect, TryLater

T = TypeVar("T")


class AmazonFeedClient:
    """Reads one feed-date window page by page, resuming at a stored page token."""

    def __init__(self, api: AmazonApi) -> None:
        self._feed = TransactionFeed(api)

    def pages(self, start: datetime, end: datetime, page_token: str | None) -> Iterator[FeedPage]:
        """The window exactly as the engine cut it, so a stored page token is always resumed
        with the window it was issued for."""
        pages = self._feed.window(FeedPosition(start, end, page_token))
        while True:
            page = _translated(lambda: next(pages, None))
            if page is None:
                return
            records = [(record.raw, record.item) for record in page.records]
            yield FeedPage(records, page.next_page_token)


class RoutedFeed:
    """The feed of an organisation fed through legal-entity routing: it reads nothing itself,
    because the organisation paired with the account fetches the feed once for every
    organisation it routes to (``sync/routing.py``)."""

    def pages(self, start: datetime, end: datetime, page_token: str | None) -> Iterator[FeedPage]:
        return iter(())


NO_FEED = RoutedFeed()


def _translated(call: Callable[[], T]) -> T:
    try:
        return call()
    except NeedsReconnectError as problem:
        raise NeedsReconnect(
            "amazon", f"Amazon Business refused our access: {problem}"
        ) from problem
    except RetriableError as problem:
        raise TryLater("amazon", f"Amazon Business did not answer properly: {problem}") from problem
    except FatalError as problem:
        raise TryLater(
            "amazon", f"Amazon Business answered something we cannot use: {problem}"
        ) from problem
