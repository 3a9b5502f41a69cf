"""Where the feed is read from: the incremental windows from the bookmark, the page token a
window resumes at, and moving the bookmark in the transaction that stores a page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from abxero.store.models import Bookmark
from abxero.sync.engine_parts import EngineParts
from abxero.sync.windows import WINDOW, advanced_cursor, incremental_start, windows


class Bookmarks(EngineParts):
    """The organisation's bookmark in the Amazon feed."""

    def _incremental_windows(self) -> list[tuple[datetime, datetime]]:
        with self._factory() as session:
            bookmark = session.get(Bookmark, self._id)
        cursor = bookmark.feed_cursor if bookmark else None
        return list(windows(incremental_start(cursor, self._now()), self._now(), WINDOW))

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
