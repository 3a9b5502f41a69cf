"""Expiring database leases: one holder of a named piece of work at a time.

A lease is a row in ``leases``. Taking it succeeds when no row exists, when the row has expired,
or when the caller already holds it (renewal). It lives in the database, not the queue, so a
queue that delivers a task twice, or two workers on two machines, still run one sync.

Leases are short (:data:`DEFAULT_TTL`) and a heartbeat thread renews them while the holder
works, so a holder killed mid-way (SIGKILL, power cut) is replaced within one lease length
instead of blocking its organisation for minutes. A holder whose heartbeat could not renew (the
database was unreachable for a whole lease, or the process stalled) has lost the lease: its
next ``renew()`` raises :class:`LeaseLost`, and the engine calls ``renew()`` before every batch
it sends, so a holder that lost its lease stops before posting more.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from abxero.logs import get_logger
from abxero.store.models import Lease

Now = Callable[[], datetime]
log = get_logger(__name__)

DEFAULT_TTL = timedelta(seconds=60)
"""How long a lease lives without renewal: the longest a killed holder blocks its work."""
BEATS_PER_TTL = 4
"""Heartbeats per lease length: one missed beat (a slow database) never loses the lease."""


class LeaseBusy(RuntimeError):
    """Someone else holds the lease."""


class LeaseLost(LeaseBusy):
    """We held the lease but could not renew it in time: another holder may have taken over."""


def new_holder_id() -> str:
    """A name for this process that no other process shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_acquire(
    factory: sessionmaker[Session], name: str, holder: str, ttl: timedelta, now: Now
) -> bool:
    """Take or renew ``name`` for ``ttl``; False when another holder's lease is still live."""
    moment = now()
    with factory() as session, session.begin():
        result = session.execute(
            update(Lease)
            .where(Lease.name == name)
            .where((Lease.expires_at < moment) | (Lease.holder == holder))
            .values(holder=holder, expires_at=moment + ttl)
        )
        changed = cast(CursorResult[Any], result).rowcount
        if changed:
            return True
    try:
        with factory() as session, session.begin():
            session.add(Lease(name=name, holder=holder, expires_at=moment + ttl))
    except IntegrityError:
        return False
    return True


def release(factory: sessionmaker[Session], name: str, holder: str) -> None:
    """Give the lease back if we still hold it."""
    with factory() as session, session.begin():
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


class Heartbeat:
    """Renews a held lease every ``ttl / BEATS_PER_TTL`` seconds of real time on its own thread,
    and remembers whether a renewal failed."""

    def __init__(
        self, factory: sessionmaker[Session], name: str, holder: str, ttl: timedelta, now: Now
    ) -> None:
        self._factory, self._name, self._holder, self._ttl, self._now = (
            factory,
            name,
            holder,
            ttl,
            now,
        )
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._beat, name=f"lease {name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = self._ttl.total_seconds() / BEATS_PER_TTL
        while not self._stop.wait(interval):
            try:
                renewed = try_acquire(self._factory, self._name, self._holder, self._ttl, self._now)
            except Exception as problem:  # a database hiccup: the next beat tries again
                log.warning("lease heartbeat failed", lease=self._name, error=repr(problem))
                continue
            if not renewed:
                self.lost = True
                return


@contextmanager
def held(
    factory: sessionmaker[Session],
    name: str,
    holder: str,
    ttl: timedelta,
    now: Now,
    *,
    heartbeat: bool = True,
) -> Iterator[Callable[[], None]]:
    """Hold ``name`` for the block, renewed by a heartbeat thread; yields ``renew``, which the
    holder calls before each step that must not run without the lease (it raises
    :class:`LeaseLost` once the lease is gone)."""
    if not try_acquire(factory, name, holder, ttl, now):
        raise LeaseBusy(name)
    beat = Heartbeat(factory, name, holder, ttl, now)
    if heartbeat:
        beat.start()

    def renew() -> None:
        if beat.lost or not try_acquire(factory, name, holder, ttl, now):
            beat.lost = True
            raise LeaseLost(name)

    try:
        yield renew
    finally:
        if heartbeat:
            beat.stop()
        release(factory, name, holder)
