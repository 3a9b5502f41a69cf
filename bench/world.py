"""Shared set-up: both simulators on loopback, a runtime on a scratch database, organisations
paired through the simulators' real consent pages (the same path the demo and e2e tests take)."""

from __future__ import annotations

import multiprocessing
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from abxero.runtime import HTTP_TIMEOUT, Runtime
from abxero.store.db import transaction
from abxero.store.migrate import upgrade
from abxero.store.models import AmazonConnection, XeroConnection
from abxero.sync.mappings import save_mapping
from abxero.xero import Pacer
from abxero_sim.amazon import DEFAULT_BUSINESSES, Business
from abxero_sim.demo import (
    World,
    connect_demo_organisations,
    demo_mapping,
    settings_for,
    simulators,
)
from abxero_sim.xero import LimitSettings

#: Limits high enough never to bind, for benchmarks that count calls rather than pace them.
UNBOUND_LIMITS = LimitSettings(
    concurrent=5, per_minute=100_000, per_day=1_000_000, app_per_minute=1_000_000
)
XERO_API = "/api.xro/2.0/"


class ScaledClock:
    """Rate windows that run ``speed`` times faster than the wall clock.

    The Xero simulator reads ``monotonic`` for its rate windows and the pacer reads it for its
    minute budget, so a rate-limit minute passes in ``60 / speed`` real seconds for both sides
    alike. ``now`` stays the wall clock, so tokens, dates and idempotency keep real time.
    """

    def __init__(self, speed: float, start: float | None = None) -> None:
        self.speed = speed
        #: ``time.monotonic`` is one clock for every process on the machine (Linux), so a
        #: simulator process given ``start`` reads the same scaled time as the runtime.
        self.start = time.monotonic() if start is None else start

    def monotonic(self) -> float:
        return (time.monotonic() - self.start) * self.speed

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0) / self.speed)


@dataclass(frozen=True)
class Call:
    at: float
    method: str
    path: str
    status: int


@dataclass
class CallLog:
    """Every Accounting API call the runtime makes: when (on ``clock``), what and its status."""

    clock: Any = None
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, response: httpx.Response) -> None:
        path = response.request.url.path
        if not path.startswith(XERO_API):
            return
        at = self.clock.monotonic() if self.clock else time.monotonic()
        with self._lock:
            self.calls.append(Call(at, response.request.method, path, response.status_code))

    def since(self, index: int) -> list[Call]:
        with self._lock:
            return list(self.calls[index:])

    def __len__(self) -> int:
        return len(self.calls)


@dataclass
class Bench:
    """A paired world: simulators, our runtime, the organisations by region, the call log."""

    world: World
    runtime: Runtime
    connections: dict[str, int]
    calls: CallLog
    seed: int

    def xero_admin(self, method: str, path: str, body: Any = None) -> Any:
        return _admin(self.world.xero_url, method, path, body)

    def amazon_admin(self, method: str, path: str, body: Any = None) -> Any:
        return _admin(self.world.amazon_url, method, path, body)

    def xero_requests(self) -> dict[str, int]:
        """The simulator's own per-endpoint request counts (``GET /_sim/stats``)."""
        return dict(self.xero_admin("GET", "/_sim/stats")["requests"])

    def finish_setup(self, region: str) -> None:
        """Save the demo's suggested mapping and mark the set-up done, as the wizard would."""
        self.finish_setup_of(self.connections[region])

    def finish_setup_of(self, connection_id: int) -> None:
        mapping = demo_mapping(self.runtime, connection_id)
        with transaction(self.runtime.sessions) as session:
            save_mapping(session, connection_id, mapping)
            session.get_one(XeroConnection, connection_id).setup_step = "done"


def _admin(base: str, method: str, path: str, body: Any) -> Any:
    response = httpx.request(method, f"{base}{path}", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="abxero-bench-") as folder:
        yield Path(folder)


@contextmanager
def paired_world(
    data_dir: Path,
    *,
    seed: int = 11,
    orders_per_day: float = 1.0,
    limits: LimitSettings = UNBOUND_LIMITS,
    clock: ScaledClock | None = None,
    pacer: Pacer | None = None,
    database_url: str | None = None,
    businesses: tuple[Business, ...] = DEFAULT_BUSINESSES,
    simulator_process: bool = False,
) -> Iterator[Bench]:
    """The two demo organisations connected to us-acme and uk-harbour, nothing imported yet.

    With ``simulator_process`` both simulators serve from a child process, as Xero and Amazon
    are other machines in production: their work then does not take turns with abxero's
    threads for one interpreter lock (in one process the poster's every request waits for the
    simulator's threads and the fetching thread to hand the lock over)."""
    amazon_options = {"orders_per_day": orders_per_day, "businesses": businesses}
    serving: AbstractContextManager[World]
    if simulator_process:
        serving = _simulators_elsewhere(seed, limits, clock, amazon_options)
    else:
        xero_options: dict[str, Any] = {"limits": limits}
        if clock is not None:
            xero_options["clock"] = clock
        serving = simulators(seed, xero_options=xero_options, amazon_options=amazon_options)
    with serving as world:
        url = database_url or f"sqlite:///{data_dir / 'abxero.db'}"
        settings = settings_for(world, data_dir, database_url=url)
        upgrade(settings.resolved_database_url)
        log = CallLog(clock)
        http = httpx.Client(
            timeout=HTTP_TIMEOUT, follow_redirects=False, event_hooks={"response": [log.hook]}
        )
        runtime = Runtime(settings, http=http, pacer=pacer or Pacer(per_minute=100_000))
        try:
            ids = connect_demo_organisations(runtime)
            yield Bench(world, runtime, _by_region(runtime, ids), log, seed)
        finally:
            runtime.close()


@contextmanager
def _simulators_elsewhere(
    seed: int, limits: LimitSettings, clock: ScaledClock | None, amazon_options: dict[str, Any]
) -> Iterator[World]:
    """Both simulators served by a child process for the life of the block."""
    scale = None if clock is None else (clock.speed, clock.start)
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(
        target=_serve_simulators,
        args=(theirs, seed, limits, scale, amazon_options),
        name="bench-simulators",
        daemon=True,
    )
    child.start()
    try:
        if not ours.poll(120):
            raise RuntimeError("the simulator process did not start")
        xero_url, amazon_url = ours.recv()
        yield World(xero_url, amazon_url)
    finally:
        ours.send("stop")
        child.join(30)
        if child.is_alive():
            child.kill()
            child.join()


def _serve_simulators(
    pipe: Any,
    seed: int,
    limits: LimitSettings,
    scale: tuple[float, float] | None,
    amazon_options: dict[str, Any],
) -> None:
    """The child process: serve both simulators until told to stop."""
    xero_options: dict[str, Any] = {"limits": limits}
    if scale is not None:
        xero_options["clock"] = ScaledClock(*scale)
    with simulators(seed, xero_options=xero_options, amazon_options=amazon_options) as world:
        pipe.send((world.xero_url, world.amazon_url))
        pipe.recv()


def _by_region(runtime: Runtime, ids: list[int]) -> dict[str, int]:
    with runtime.sessions() as session:
        regions = {
            amazon.xero_connection_id: amazon.region
            for amazon in session.scalars(select(AmazonConnection))
        }
    return {regions[i]: i for i in ids}
