"""The job queue, built from ``ABXERO_QUEUE_URL``: a SQLite file (default) or Redis.

The queue only says *when* to work. Correctness lives in the ledger: every task is idempotent
and takes the organisation's lease, so a task delivered twice, or lost and re-enqueued by the
next tick, changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

QUEUE_NAME = "abxero"


class QueueUrlError(ValueError):
    """The queue URL names a backend abxero cannot use."""


def build_queue(url: str, *, immediate: bool = False) -> Huey:
    """A huey instance for ``url`` (``sqlite:///path`` or ``redis://host:port/db``)."""
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey(QUEUE_NAME, url=url, immediate=immediate, utc=True)
    if url.startswith("sqlite://"):
        database = make_url(url).database or ""
        if not database or database == ":memory:":
            raise QueueUrlError("ABXERO_QUEUE_URL: a SQLite queue needs a file path")
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=database, immediate=immediate, utc=True)
    raise QueueUrlError(f"ABXERO_QUEUE_URL: unsupported queue URL {url!r}")
