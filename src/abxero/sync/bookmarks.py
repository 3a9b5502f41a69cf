"""Reading the feed from the bookmark: the incremental windows, the page token a window
resumes at, and each page stored in the transaction that moves the bookmark past it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from abxero.store.db import transaction
from abxero.store.models import Bookmark
from abxero.sync import routing
from abxero.sync.engine_parts import EngineParts
from abxero.sync.failpoints import reached
from abxero.sync.report import SyncReport
from abxero.sync.windows import WINDOW, advanced_cursor, incremental_start, windows


class Bookmarks(EngineParts):
    """The organisation's bookmark in the Amazon feed, and the pages read from it."""

    def _incremental_windows(self) -> list[tuple[datetime, datetime]]:
        with self._factory() as session:
            bookmark = session.get(Bookmark, self._id)
        cursor = bookmark.feed_cursor if bookmark else None
        return list(windows(incremental_start(cursor, self._now()), self._now(), WINDOW))

    def _fetch_window(
        self, report: SyncReport, start: datetime, end: datetime, after_page: Callable[[], None]
    ) -> None:
        token = self._resume_token(start, end)
        for page in self._amazon.pages(start, end, token):
            with self._ledger_lock, transaction(self._factory) as session:
                counts = routing.store_routed(session, self._id, page.records)
                self._move_bookmark(session, start, end, page.next_token)
            reached("page_stored")
            report.fetched += len(page.records)
            report.new += counts.new
            report.unchanged += counts.unchanged
            report.updated += counts.updated
            report.flagged += counts.flagged
            self._progress(report)
            after_page()
        report.windows_done += 1
        self._progress(report)

    def _resume_token(self, start: datetime, end: datetime) -> str | None:
        with self._factory() as session:
            bookmark = session.get(Bookmark, self._id)
        if (
            bookmark
            and bookmark.page_token
            and (bookmark.window_start, bookmark.window_end)
            == (
                start,
                end,
            )
        ):
            return bookmark.page_token
        return None

    def _move_bookmark(
        self, session: Session, start: datetime, end: datetime, next_token: str | None
    ) -> None:
        bookmark = session.get(Bookmark, self._id)
        if bookmark is None:
            bookmark = Bookmark(xero_connection_id=self._id)
            session.add(bookmark)
        if next_token:
            bookmark.window_start, bookmark.window_end = start, end
            bookmark.page_token = next_token
            return
        bookmark.page_token = ""
        bookmark.window_start = bookmark.window_end = None
        bookmark.feed_cursor = advanced_cursor(bookmark.feed_cursor, start, end)
