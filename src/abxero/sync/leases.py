"""Expiring database leases: one holder of a named piece of work at a time.

A lease is a row in ``leases``. Taking it succeeds when no row exists, when the row has expired,
or when the caller already holds it (renewal). It lives in the database, not the queue, so a
queue that delivers a task twice, or two workers on two machines, still run one sync.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from abxero.store.models import Lease

Now = Callable[[], datetime]


class LeaseBusy(RuntimeError):
    """Someone else holds the lease."""


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


@contextmanager
def held(
    factory: sessionmaker[Session], name: str, holder: str, ttl: timedelta, now: Now
) -> Iterator[Callable[[], None]]:
    """Hold ``name`` for the block; yields a ``renew`` callable for long work."""
    if not try_acquire(factory, name, holder, ttl, now):
        raise LeaseBusy(name)

    def renew() -> None:
        if not try_acquire(factory, name, holder, ttl, now):
            raise LeaseBusy(name)

    try:
        yield renew
    finally:
        release(factory, name, holder)
