"""One holder at a time; an expired lease can be taken over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from abxero.sync.leases import LeaseBusy, held, try_acquire
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
