"""Walking ``getTransactions`` over feed-date windows and pages, one page in memory at a time.

Each yielded record carries the :class:`FeedPosition` of its page: resuming from that position
re-reads the page, so a caller that stores the position with the records it has saved never
loses one (the overlap is absorbed by keying on ``transactionId``).

Follow-up pages: the model marks ``feedStartDate``/``feedEndDate`` required on every call but
describes ``nextPageToken`` as "the only parameter" (reconciliation-2021-01-08.json,
getTransactions), and SP-API refuses a token sent with other parameters
(github.com/amzn/selling-partner-api-docs issue 1760). So a token goes out with its window
first and, on a 400, alone; the form that worked is kept for the feed's later pages. A token
refused in both forms is dead (SP-API tokens expire after minutes: "Token is not valid, token
duration is 25 minutes.", github.com/amzn/selling-partner-api-models issue 562): the window is
read again from its first page, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from abxero.amazon.api import AmazonApi
from abxero.amazon.errors import FatalError
from abxero.domain.transactions import Quarantined, Transaction, parse_transaction

TRANSACTIONS_PATH = "/reconciliation/2021-01-08/transactions"
DEFAULT_WINDOW = timedelta(days=7)


def amazon_time(moment: datetime) -> str:
    """UTC, whole seconds, trailing ``Z``: the form the API matches reliably."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class FeedPosition:
    """A page of a feed-date window: ``page_token`` None is the window's first page."""

    window_start: datetime
    window_end: datetime
    page_token: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "page_token": self.page_token,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> FeedPosition:
        return cls(
            datetime.fromisoformat(str(data["window_start"])),
            datetime.fromisoformat(str(data["window_end"])),
            data.get("page_token"),
        )


@dataclass(frozen=True)
class FetchedTransaction:
    """One raw record as Amazon sent it and what ``parse_transaction`` made of it."""

    item: Transaction | Quarantined
    raw: Any
    position: FeedPosition

    @property
    def quarantined(self) -> bool:
        return isinstance(self.item, Quarantined)


@dataclass(frozen=True)
class TransactionPage:
    position: FeedPosition
    next_page_token: str | None
    records: tuple[FetchedTransaction, ...]

    @property
    def resume_after(self) -> FeedPosition | None:
        """Where to continue after this page was stored; None when its window is finished."""
        if self.next_page_token is None:
            return None
        return FeedPosition(
            self.position.window_start, self.position.window_end, self.next_page_token
        )


def windows(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive half-open windows of at most ``size`` covering ``[start, end)``.

    The one window cutter: the sync's windows (``sync/windows.py``) are cut here too.
    """
    if size <= timedelta(0):
        raise ValueError("window size must be positive")
    cursor = start
    while cursor < end:
        upper = min(cursor + size, end)
        yield cursor, upper
        cursor = upper


TOKEN_WITH_WINDOW, TOKEN_ALONE = "with_window", "token_only"


class DeadPageToken(FatalError):
    """Amazon refused a page token in both forms (expired or no longer known)."""


class TransactionFeed:
    """The transaction iterator of one connection."""

    def __init__(self, api: AmazonApi) -> None:
        self.api = api
        self.token_forms = [TOKEN_WITH_WINDOW, TOKEN_ALONE]
        self.restarted: list[FeedPosition] = []

    def pages(
        self,
        start: datetime,
        end: datetime,
        *,
        window: timedelta = DEFAULT_WINDOW,
        resume: FeedPosition | None = None,
    ) -> Iterator[TransactionPage]:
        """Every page of every window in ``[start, end)``, or from ``resume`` on."""
        if resume is not None:
            yield from self.window(resume)
            start = resume.window_end
        for lower, upper in windows(_whole_seconds(start), _whole_seconds(end), window):
            yield from self.window(FeedPosition(lower, upper))

    def transactions(
        self,
        start: datetime,
        end: datetime,
        *,
        window: timedelta = DEFAULT_WINDOW,
        resume: FeedPosition | None = None,
    ) -> Iterator[FetchedTransaction]:
        for page in self.pages(start, end, window=window, resume=resume):
            yield from page.records

    def window(self, position: FeedPosition) -> Iterator[TransactionPage]:
        """Every page of the window of ``position``, from its page on (a dead token: from the
        window's first page, once)."""
        current: FeedPosition | None = position
        may_restart = True
        while current is not None:
            try:
                page = self._page(current)
            except DeadPageToken:
                if not may_restart:
                    raise
                may_restart = False
                self.restarted.append(current)
                current = FeedPosition(current.window_start, current.window_end)
                continue
            if page.next_page_token is not None and page.next_page_token == current.page_token:
                raise FatalError(f"getTransactions returned the same page token twice: {current}")
            yield page
            current = page.resume_after

    def _page(self, position: FeedPosition) -> TransactionPage:
        body = self._follow(position) if position.page_token else self._first(position)
        records = body.get("transactions") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise FatalError(f"getTransactions answered without a transactions list: {position}")
        token = body.get("nextPageToken")
        return TransactionPage(
            position=position,
            next_page_token=token if isinstance(token, str) and token else None,
            records=tuple(
                FetchedTransaction(parse_transaction(raw), raw, position) for raw in records
            ),
        )

    def _first(self, position: FeedPosition) -> Any:
        return self.api.get(TRANSACTIONS_PATH, _window_params(position))

    def _follow(self, position: FeedPosition) -> Any:
        """A follow-up page: each token form in turn, the one that works first from then on."""
        refusals = []
        for form in list(self.token_forms):
            params = {"nextPageToken": str(position.page_token)}
            if form == TOKEN_WITH_WINDOW:
                params = {**_window_params(position), **params}
            try:
                body = self.api.get(TRANSACTIONS_PATH, params)
            except FatalError as problem:
                if problem.status != 400:
                    raise
                refusals.append(f"{form}: {problem}")
                continue
            self.token_forms.remove(form)
            self.token_forms.insert(0, form)
            return body
        raise DeadPageToken(
            "getTransactions refused the page token: " + " | ".join(refusals), status=400
        )


def _window_params(position: FeedPosition) -> dict[str, str]:
    return {
        "feedStartDate": amazon_time(position.window_start),
        "feedEndDate": amazon_time(position.window_end),
    }
