"""One holder at a time; an expired lease can be taken over."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from abxero.store.models import Lease
from abxero.sync.leases import DEFAULT_TTL, LeaseBusy, LeaseLost, held, try_acquire
from tests.sync.conftest import Ledger

TTL = timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 6, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


def test_a_live_lease_keeps_others_out_until_it_expires(ledger: Ledger) -> None:
    clock = Clock()
    assert try_acquire(ledger.factory, "sync:1", "worker-a", TTL, clock)
    assert not try_acquire(ledger.factory, "sync:1", "worker-b", TTL, clock)
    assert try_acquire(ledger.factory, "sync:1", "worker-a", TTL, clock)
    clock.moment += TTL + timedelta(seconds=1)
    assert try_acquire(ledger.factory, "sync:1", "worker-b", TTL, clock)
    assert not try_acquire(ledger.factory, "sync:1", "worker-a", TTL, clock)


def test_held_releases_on_exit_and_raises_when_busy(ledger: Ledger) -> None:
    clock = Clock()
    with (
        held(ledger.factory, "sync:2", "worker-a", TTL, clock),
        pytest.raises(LeaseBusy),
        held(ledger.factory, "sync:2", "worker-b", TTL, clock),
    ):
        pass
    with held(ledger.factory, "sync:2", "worker-b", TTL, clock) as renew:
        renew()


def test_racing_threads_get_exactly_one_lease(ledger: Ledger) -> None:
    clock = Clock()
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contend(name: str) -> None:
        barrier.wait()
        if try_acquire(ledger.factory, "sync:race", name, TTL, clock):
            winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def test_the_heartbeat_keeps_a_short_lease_alive_while_the_holder_works(ledger: Ledger) -> None:
    """Bug: leases lived ten minutes, so a killed worker blocked its organisation that long.
    Now they are short and renewed by a heartbeat: a holder working for several lease lengths
    keeps others out all along (real time, as in production)."""
    short = timedelta(seconds=0.4)
    with held(ledger.factory, "sync:beat", "worker-a", short, _wall_clock) as renew:
        deadline = time.monotonic() + 4 * short.total_seconds()
        while time.monotonic() < deadline:
            assert not try_acquire(ledger.factory, "sync:beat", "worker-b", short, _wall_clock)
            time.sleep(0.05)
        renew()
    assert try_acquire(ledger.factory, "sync:beat", "worker-b", short, _wall_clock)
    assert timedelta(seconds=30) <= DEFAULT_TTL <= timedelta(seconds=90)


def test_a_holder_that_lost_its_lease_is_stopped_at_its_next_step(ledger: Ledger) -> None:
    """Exactly once: once another holder has taken the lease over (ours lapsed while this
    process stalled), ``renew`` raises before the holder posts anything more."""
    clock = Clock()
    with held(ledger.factory, "sync:lost", "worker-a", TTL, clock, heartbeat=False) as renew:
        clock.moment += TTL + timedelta(seconds=1)
        assert try_acquire(ledger.factory, "sync:lost", "worker-b", TTL, clock)
        with pytest.raises(LeaseLost):
            renew()
    with ledger.factory() as session:
        assert session.get_one(Lease, "sync:lost").holder == "worker-b"


def test_a_failed_heartbeat_marks_the_lease_lost(ledger: Ledger) -> None:
    short = timedelta(seconds=0.2)
    with held(ledger.factory, "sync:stolen", "worker-a", short, _wall_clock) as renew:
        with ledger.factory() as session, session.begin():
            session.execute(
                update(Lease)
                .where(Lease.name == "sync:stolen")
                .values(holder="worker-b", expires_at=_wall_clock() + timedelta(minutes=5))
            )
        time.sleep(3 * short.total_seconds())
        with pytest.raises(LeaseLost):
            renew()
