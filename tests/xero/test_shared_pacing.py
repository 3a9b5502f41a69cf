"""Xero's per-organisation and app-wide limits hold across workers that share one backend.

Xero counts 5 calls in flight, 60 a minute and 5,000 a day per organisation and 10,000 a minute
per app (https://developer.xero.com/faq/limits; ``docs/xero-api.md`` §2.1). Each "worker" here
is its own :class:`SharedPacer` (as in its own process) over one Redis or database backend; the
simulator (served over HTTP, its limits lowered by the ``limits`` knob) refuses with a 429 any
call beyond its limits, so zero 429s means the workers together stayed inside them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import redis

from abxero.store.db import make_engine, session_factory
from abxero.store.migrate import upgrade
from abxero.store.pacing import DatabasePaceBackend
from abxero.web.serving import served
from abxero.xero import AccountingTransport, PaceLimits, Pacer, SharedPacer
from abxero.xero.pacing import Pacing
from abxero.xero.redis_pacing import RedisPaceBackend
from abxero.xero.shared_pacing import SLOT_POLL, PaceBackend
from abxero_sim.clock import ManualClock
from abxero_sim.xero import LimitSettings, create_app
from tests.conftest import REDIS_TEST_URL, empty_database

BACKENDS = ["redis", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PaceBackend]:
    if request.param == "redis":
        shared = RedisPaceBackend(redis.Redis.from_url(REDIS_TEST_URL), prefix="test:pace")
        shared.clear()
        yield shared
        shared.clear()
        return
    url = empty_database(request, str(request.param), tmp_path_factory)
    upgrade(url)
    engine = make_engine(url)
    yield DatabasePaceBackend(session_factory(engine))
    engine.dispose()


class Sim:
    """The Xero simulator on a manual clock, over real HTTP, with one organisation's token."""

    def __init__(self, url: str, clock: ManualClock) -> None:
        self.url, self.clock = url, clock
        self.http = httpx.Client(base_url=url, timeout=30)
        token = self.http.post("/_sim/token", json={}).json()
        self.access, self.tenants = token["access_token"], token["tenants"]

    def transport(self, pacer: Pacing, key: str = "uk") -> AccountingTransport:
        return AccountingTransport(
            self.http,
            f"{self.url}/api.xro/2.0",
            self.tenants[key],
            lambda: self.access,
            pacer=pacer,
            sleep=self.clock.advance,
            now=self.clock.now,
        )

    def stats(self) -> dict[str, object]:
        body: dict[str, object] = self.http.get("/_sim/stats").json()
        return body


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 7, 15, 12, 0, tzinfo=UTC))


def simulator(clock: ManualClock, limits: LimitSettings) -> Iterator[Sim]:
    with served(create_app(seed=7, clock=clock, limits=limits)) as running:
        sim = Sim(running.url, clock)
        yield sim
        sim.http.close()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[Sim]:
    yield from simulator(clock, LimitSettings(concurrent=2, per_minute=5))


def shared(backend: PaceBackend, clock: ManualClock) -> SharedPacer:
    """One worker's pacer: its own instance, the shared backend, the test's clock."""
    limits = PaceLimits(concurrent=2, per_minute=5, slot_ttl=3600.0)
    return SharedPacer(backend, limits, clock=clock.monotonic, sleep=clock.advance)


def run_workers(sim: Sim, pacers: list[Pacing], calls_each: int) -> list[int]:
    """Each pacer drives one thread making ``calls_each`` GET /Organisation calls."""
    statuses: list[int] = []
    lock = threading.Lock()

    def work(pacer: Pacing) -> None:
        tenant_id = sim.tenants["uk"]
        for _ in range(calls_each):
            with pacer.slot(tenant_id):
                response = sim.http.get(
                    f"{sim.url}/api.xro/2.0/Organisation",
                    headers={
                        "Authorization": f"Bearer {sim.access}",
                        "xero-tenant-id": tenant_id,
                    },
                )
            pacer.observe(tenant_id, response.headers)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=work, args=(pacer,)) for pacer in pacers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_two_workers_stay_inside_one_organisations_minute_and_concurrency(
    backend: PaceBackend, sim: Sim, clock: ManualClock
) -> None:
    """Three workers, 6 calls each, a limit of 5 a minute and 2 in flight: no 429 at all."""
    sim.http.post("/_sim/faults", json={"slow_responses": 18, "slow_seconds": 0.05})
    statuses = run_workers(sim, [shared(backend, clock) for _ in range(3)], calls_each=6)
    assert statuses == [200] * 18, sim.stats()["rate_limited"]
    assert sim.stats()["rate_limited"] == {}
    assert clock.monotonic() >= 180.0  # 18 calls at 5 a minute need three full windows


def test_per_process_pacers_break_the_limit_the_shared_one_keeps(
    sim: Sim, clock: ManualClock
) -> None:
    """The failure this guards against: workers that each pace only themselves get 429s."""
    alone: list[Pacing] = [
        Pacer(concurrent=2, per_minute=5, monotonic=clock.monotonic, sleep=clock.advance)
        for _ in range(3)
    ]
    statuses = run_workers(sim, alone, calls_each=6)
    assert 429 in statuses
    assert sim.stats()["rate_limited"]


class Stopped(Exception):
    """Raised by a transport's sleep: the call ends right after its 429 was handled."""


def stop(_seconds: float) -> None:
    raise Stopped


def test_a_429_parks_every_worker_sharing_the_limit(
    backend: PaceBackend, sim: Sim, clock: ManualClock
) -> None:
    """Worker A's 429 (minute, Retry-After 30) makes worker B wait 30 s before its next call
    to that organisation; an ``appminute`` 429 parks B's calls to another organisation too."""
    first, second = shared(backend, clock), shared(backend, clock)
    for problem, retry_after, other in (("minute", 30, "uk"), ("appminute", 20, "us")):
        sim.http.post(
            "/_sim/faults",
            json={
                "rate_limit_storm": 1,
                "storm_problem": problem,
                "storm_retry_after": retry_after,
            },
        )
        transport = sim.transport(first)
        transport._sleep = stop
        before = clock.monotonic()
        with pytest.raises(Stopped):
            transport.call("GET", "Organisation")
        with second.slot(sim.tenants[other]):
            assert clock.monotonic() >= before + retry_after


def test_a_crashed_holders_slot_frees_after_its_expiry(backend: PaceBackend) -> None:
    """A worker that dies inside a call never gives its slot back; it lapses at ``slot_ttl``."""
    limits = PaceLimits(concurrent=1, per_minute=100, slot_ttl=30.0)
    assert backend.try_start("t1", "dead-worker", 1000.0, limits) == 0
    assert backend.try_start("t1", "live-worker", 1010.0, limits) == SLOT_POLL
    assert backend.try_start("t1", "live-worker", 1031.0, limits) == 0


def test_xeros_remaining_header_raises_the_shared_count(backend: PaceBackend) -> None:
    """``X-MinLimit-Remaining: 0`` after one call of ours: Xero counted 59 more; wait."""
    limits = PaceLimits(concurrent=5, per_minute=60)
    pacer = SharedPacer(backend, limits, clock=lambda: 500.0, sleep=lambda _s: None)
    assert backend.try_start("t2", "a", 500.0, limits) == 0
    backend.finish("t2", "a", 500.0)
    pacer.observe("t2", {"x-minlimit-remaining": "0", "x-daylimit-remaining": "4900"})
    assert backend.try_start("t2", "b", 501.0, limits) == pytest.approx(59.0)
    assert backend.try_start("t2", "b", 560.5, limits) == 0


def test_the_app_minute_limit_spans_organisations(backend: PaceBackend) -> None:
    limits = PaceLimits(concurrent=5, per_minute=60, app_per_minute=3)
    for number, tenant in enumerate(["a", "b", "c"]):
        assert backend.try_start(tenant, f"s{number}", 100.0 + number, limits) == 0
    assert backend.try_start("d", "s4", 110.0, limits) == pytest.approx(50.0)
