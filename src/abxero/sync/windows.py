"""Feed-date windows: from the bookmark, with a trailing overlap, in bounded steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

WINDOW = timedelta(days=30)
OVERLAP = timedelta(days=2)
FIRST_LOOK_BACK = timedelta(days=90)


def incremental_start(cursor: datetime | None, now: datetime) -> datetime:
    """Where an incremental sync starts reading: the overlap before the bookmark."""
    if cursor is None:
        return now - FIRST_LOOK_BACK
    return cursor - OVERLAP


def windows(
    start: datetime, end: datetime, step: timedelta = WINDOW
) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive windows of at most ``step``."""
    cursor = start
    while cursor < end:
        upper = min(cursor + step, end)
        yield cursor, upper
        cursor = upper


def advanced_cursor(cursor: datetime | None, start: datetime, end: datetime) -> datetime | None:
    """The bookmark after reading ``[start, end)``: forward only, and never over a gap."""
    if cursor is None:
        return end
    if start <= cursor < end:
        return end
    return cursor
