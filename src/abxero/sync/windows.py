"""Feed-date windows: from the bookmark, with a trailing overlap, in bounded steps."""

from __future__ import annotations

from datetime import datetime, timedelta

from abxero.amazon.transactions import windows as windows  # the one cutter, shared

WINDOW = timedelta(days=30)
OVERLAP = timedelta(days=2)
FIRST_LOOK_BACK = timedelta(days=90)


def incremental_start(cursor: datetime | None, now: datetime) -> datetime:
    """Where an incremental sync starts reading: the overlap before the bookmark."""
    if cursor is None:
        return now - FIRST_LOOK_BACK
    return cursor - OVERLAP


def advanced_cursor(cursor: datetime | None, start: datetime, end: datetime) -> datetime | None:
    """The bookmark after reading ``[start, end)``: forward only, and never over a gap."""
    if cursor is None:
        return end
    if start <= cursor < end:
        return end
    return cursor
