"""The job queues, built from ``ABXERO_QUEUE_URL``: a SQLite file (default) or Redis.

The queue only says *when* to work. Correctness lives in the ledger: every task is idempotent
and takes the organisation's lease, so a task delivered twice, or lost and re-enqueued by the
next tick, changes nothing.

Two lanes share the one storage:

* the **main** queue carries syncs, imports and posts, ordered by priority: what a user asked
  for (:data:`USER_PRIORITY`) before the minute tick (:data:`TICK_PRIORITY`) before scheduled
  syncs (:data:`SCHEDULED_PRIORITY`);
* the **PDF** queue (:data:`PDF_QUEUE_NAME`) carries invoice-PDF attaching, which Amazon's
  Document API paces to about one report a minute. It has its own consumer threads, so it can
  never occupy the threads user work needs.

On Redis the main queue is a sorted set (huey's priority storage, Redis 5 or later) under its
own name, so a list left by an older abxero under ``abxero`` is simply no longer read; the
next tick enqueues what it held again.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy.engine import make_url

QUEUE_NAME = "abxero"
REDIS_QUEUE_NAME = "abxero-lanes"
PDF_QUEUE_NAME = "abxero-pdf"
USER_PRIORITY = 100
TICK_PRIORITY = 50
SCHEDULED_PRIORITY = 0


class QueueUrlError(ValueError):
    """The queue URL names a backend abxero cannot use."""


def build_queue(url: str, *, immediate: bool = False) -> Huey:
    """The main queue for ``url`` (``sqlite:///path`` or ``redis://host:port/db``)."""
    if url.startswith(("redis://", "rediss://")):
        return PriorityRedisHuey(REDIS_QUEUE_NAME, url=url, immediate=immediate, utc=True)
    if url.startswith("sqlite://"):
        database = make_url(url).database or ""
        if not database or database == ":memory:":
            raise QueueUrlError("ABXERO_QUEUE_URL: a SQLite queue needs a file path")
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=database, immediate=immediate, utc=True)
    raise QueueUrlError(f"ABXERO_QUEUE_URL: unsupported queue URL {url!r}")


def lane_queue(queue: Huey, name: str = PDF_QUEUE_NAME) -> Huey:
    """A second queue, ``name``, on the same storage as ``queue`` (same file, same Redis)."""
    if queue.immediate:
        return MemoryHuey(name, immediate=True, utc=True)
    storage = queue.storage
    if isinstance(storage, SqliteStorage):
        return SqliteHuey(name, filename=storage.filename, utc=True)
    if isinstance(storage, RedisStorage):
        return PriorityRedisHuey(name, connection_pool=storage.pool, utc=True)
    raise QueueUrlError(f"no lane queue for a {type(storage).__name__}")
