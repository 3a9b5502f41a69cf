"""Shared pacing: many worker processes, many organisations, Xero's limits never broken.

Xero allows 5 calls in flight, 60 a minute and 5,000 a day per organisation and 10,000 a minute
per app (https://developer.xero.com/faq/limits; ``docs/xero-api.md`` §2.1). The Xero simulator
(its real limits, or lowered by its ``limits`` knob where a round says so) refuses anything
beyond them with a 429, so its refusal count is the ground truth. It answers every call after
``slow_seconds`` (the ``slow_responses`` knob), standing in for network latency.

Every worker is a separate process (``python -m bench.sharedpacing worker``) with its own
:class:`~abxero.xero.SharedPacer` over one Redis (as the runtime builds it when the queue is
Redis). A worker takes organisations off a Redis list and "syncs" each one with ``CALLS``
settings reads (``GET /Organisation``, ``/Currencies``, ...) through the real
:class:`~abxero.xero.AccountingTransport`: the pacing path every Xero call takes, without the
Amazon side, so the rounds measure pacing and not planning or the database.

* Scaling rounds: real Xero limits, 1/2/4/8 workers, organisations a minute.
* Pressure round: 8 workers, 200 organisations, the first four with three syncs queued back to
  back (three workers on one organisation at once), limits lowered by the simulator's knob so
  each binds (2 in flight and 10 a minute per organisation, 120 a minute for the app): zero
  429s, and the busiest 60 s stays ≤ 120 for the app and ≤ 10 for any organisation (counted
  at the moment each call was let through).
* Control: the same pressure with the old per-process :class:`~abxero.xero.Pacer`.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from abxero.web.serving import served
from abxero.xero import AccountingTransport, PaceLimits, Pacer, SharedPacer
from abxero.xero.errors import RetriableError
from abxero.xero.pacing import Pacing
from abxero.xero.redis_pacing import RedisPaceBackend
from abxero_sim.xero import LimitSettings, create_app
from bench.results import Row, Target

NAME = "Shared pacing"
REDIS = os.environ.get("ABXERO_BENCH_PACING_REDIS_URL", "redis://127.0.0.1:6379/14")
PREFIX = "bench:pacing"
PATHS = ("Organisation", "Currencies", "TaxRates", "TrackingCategories", "Organisation")
LATENCY, PRESSURE_LATENCY = 0.25, 0.05
ORGANISATIONS, HOT = 200, 4
PRESSURE = LimitSettings(concurrent=2, per_minute=10, per_day=5000, app_per_minute=120)
#: organisations per worker in a scaling round, worker counts, pressure / control seconds.
SIZES: dict[str, tuple[int, tuple[int, ...], tuple[float, float]]] = {
    "full": (25, (1, 2, 4, 8), (130.0, 40.0)),
    "quick": (25, (1, 2, 4, 8), (75.0, 30.0)),
    "tiny": (2, (1, 2), (3.0, 2.0)),
}
PYTHON = sys.executable


@dataclass(frozen=True)
class Round:
    """What every worker of one round needs to know."""

    sim_url: str
    access_token: str
    limits: dict[str, int]
    shared: bool
    seconds: float


def _queue(client: redis.Redis, tenants: Sequence[str]) -> None:
    client.delete(f"{PREFIX}:queue", f"{PREFIX}:ready", f"{PREFIX}:go")
    if tenants:
        client.rpush(f"{PREFIX}:queue", *tenants)


def _pacer(setup: Round, client: redis.Redis) -> Pacing:
    limits = setup.limits
    if not setup.shared:
        return Pacer(concurrent=limits["concurrent"], per_minute=limits["per_minute"])
    backend = RedisPaceBackend(client, prefix=f"{PREFIX}:pace")
    return SharedPacer(backend, PaceLimits(**limits))


class Recording:
    """A pacer that notes when each call was let through (its real send time)."""

    def __init__(self, inner: Pacing) -> None:
        self.inner = inner
        self.sent: list[tuple[str, float]] = []

    @contextmanager
    def slot(self, tenant_id: str) -> Iterator[None]:
        with self.inner.slot(tenant_id):
            self.sent.append((tenant_id, time.time()))
            yield

    def observe(self, tenant_id: str, headers: Mapping[str, str]) -> None:
        self.inner.observe(tenant_id, headers)

    def hold(self, tenant_id: str, seconds: float, problem: str = "minute") -> None:
        self.inner.hold(tenant_id, seconds, problem)


def worker(setup: Round, log: Path) -> None:
    """Sync organisations off the queue until it is empty or ``seconds`` have passed."""
    client = redis.Redis.from_url(REDIS)
    pacer = Recording(_pacer(setup, client))
    calls: list[tuple[str, float, float, int]] = []
    with httpx.Client(timeout=60) as http:
        client.incr(f"{PREFIX}:ready")
        while not client.exists(f"{PREFIX}:go"):
            time.sleep(0.01)
        stop_at = time.time() + setup.seconds
        while time.time() < stop_at:
            raw = client.lpop(f"{PREFIX}:queue")
            if raw is None:
                break
            tenant = raw.decode() if isinstance(raw, bytes) else str(raw)
            transport = AccountingTransport(
                http,
                f"{setup.sim_url}/api.xro/2.0",
                tenant,
                lambda: setup.access_token,
                pacer=pacer,
            )
            for path in PATHS:
                started = time.time()
                try:
                    status = transport.call("GET", path).status_code
                except RetriableError:
                    status = 429
                calls.append((tenant, started, time.time(), status))
    log.write_text(json.dumps({"calls": calls, "sent": pacer.sent}))


@dataclass
class Outcome:
    """Every call of a round (tenant, start, end, status) and every send (tenant, time)."""

    calls: list[tuple[str, float, float, int]]
    sent: list[tuple[str, float]]


def run_round(
    sim_url: str, setup: Round, tenants: Sequence[str], workers: int, folder: Path
) -> Outcome:
    """Start ``workers`` processes, let them go together, collect every call they made."""
    client = redis.Redis.from_url(REDIS)
    _queue(client, tenants)
    logs = [folder / f"w{workers}-{n}-{setup.shared}.json" for n in range(workers)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.sharedpacing", json.dumps(asdict(setup)), str(log)], env=env
        )
        for log in logs
    ]
    try:
        _start_together(client, processes, workers)
        for process in processes:
            if process.wait(timeout=900) != 0:
                raise RuntimeError(f"a worker failed ({process.returncode})")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    client.close()
    outcome = Outcome([], [])
    for log in logs:
        written = json.loads(log.read_text())
        outcome.calls += [
            (str(c[0]), float(c[1]), float(c[2]), int(c[3])) for c in written["calls"]
        ]
        outcome.sent += [(str(t), float(at)) for t, at in written["sent"]]
    return outcome


def _start_together(
    client: redis.Redis, processes: list[subprocess.Popen[bytes]], workers: int
) -> None:
    """Wait until every worker has started (imports are slow on a busy machine), then go."""
    deadline = time.time() + 300
    while int(client.get(f"{PREFIX}:ready") or 0) < workers:
        if time.time() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError("the workers did not start")
        time.sleep(0.05)
    client.set(f"{PREFIX}:go", "1")


def refusals(http: httpx.Client) -> int:
    stats = http.get("/_sim/stats").json()
    return sum(int(n) for n in stats["rate_limited"].values())


def busiest_minute(starts: list[float]) -> int:
    """The most calls started in any 60 s."""
    ordered = sorted(starts)
    return max(
        (bisect.bisect_left(ordered, s + 60.0) - i for i, s in enumerate(ordered)), default=0
    )


@contextmanager
def simulator(
    limits: LimitSettings, latency: float
) -> Iterator[tuple[str, httpx.Client, str, list[str]]]:
    app = create_app(seed=13, limits=limits, organisation_copies=100)
    with served(app) as running, httpx.Client(base_url=running.url, timeout=60) as http:
        token = http.post("/_sim/token", json={}).json()
        http.post("/_sim/faults", json={"slow_responses": 10**7, "slow_seconds": latency})
        yield running.url, http, token["access_token"], list(token["tenant_ids"])


def _limits(settings: LimitSettings) -> dict[str, int]:
    return {
        "concurrent": settings.concurrent,
        "per_minute": settings.per_minute,
        "per_day": settings.per_day,
        "app_per_minute": settings.app_per_minute,
    }


def _fresh_pacing() -> None:
    RedisPaceBackend(redis.Redis.from_url(REDIS), prefix=f"{PREFIX}:pace").clear()


def scaling(size: str, folder: Path) -> list[Row]:
    per_worker, worker_counts, _ = SIZES[size]
    rates: dict[int, float] = {}
    refused = peak = 0
    _fresh_pacing()
    with simulator(LimitSettings(), LATENCY) as (url, http, token, tenants):
        for workers in worker_counts:
            count = min(per_worker * workers, ORGANISATIONS)
            setup = Round(url, token, _limits(LimitSettings()), True, 3600.0)
            before = refusals(http)
            outcome = run_round(url, setup, tenants[:count], workers, folder)
            refused += refusals(http) - before
            calls = outcome.calls
            seconds = max(c[2] for c in calls) - min(c[1] for c in calls)
            rates[workers] = count / seconds * 60
            peak = max(peak, busiest_minute([at for _, at in outcome.sent]))
            print(
                f"{workers} workers: {count} organisations, {len(calls)} calls in {seconds:.1f} s"
            )
    conditions = (
        f"{per_worker} organisations per worker, {len(PATHS)} calls each, Xero's real limits, "
        f"{LATENCY:g} s per call, Redis-shared pacing; 2 cores shared with other jobs"
    )
    made = [
        Row(f"{w} worker{'s' if w > 1 else ''}: organisations/min", r, "orgs/min", None, conditions)
        for w, r in rates.items()
    ]
    top, one = max(rates), min(rates)
    made.append(
        Row(
            f"{top} workers ÷ {one} worker", rates[top] / rates[one], "×", Target(">=", top * 0.875)
        )
    )
    made.append(Row("scaling rounds: 429s", refused, "429s", Target("<=", 0)))
    made.append(Row("scaling rounds: busiest 60 s, app", peak, "calls", Target("<=", 10_000)))
    return made


def pressure_jobs(tenants: Sequence[str]) -> list[str]:
    """Three syncs back to back for each of the first ``HOT`` organisations (several workers
    on one organisation: its minute and concurrency limits bind), then one sync of each of the
    others (many organisations at once: the app-wide limit binds)."""
    hot = [tenant for tenant in tenants[:HOT] for _ in range(3)]
    return hot + list(tenants[HOT:])


def pressure(size: str, folder: Path, shared: bool) -> list[Row]:
    _, _, (seconds_shared, seconds_control) = SIZES[size]
    seconds = seconds_shared if shared else seconds_control
    _fresh_pacing()
    with simulator(PRESSURE, PRESSURE_LATENCY) as (url, http, token, tenants):
        jobs = pressure_jobs(tenants[:ORGANISATIONS])
        setup = Round(url, token, _limits(PRESSURE), shared, seconds)
        outcome = run_round(url, setup, jobs, 8, folder)
        refused = refusals(http)
    label = "shared pacing" if shared else "per-process pacing (before)"
    peak = busiest_minute([at for _, at in outcome.sent])
    per_org = max(
        busiest_minute([at for tenant, at in outcome.sent if tenant == one]) for one in set(jobs)
    )
    conditions = (
        f"8 workers, {len(set(jobs))} organisations ({HOT} with three syncs back to back), "
        f"{seconds:g} s; "
        f"limits lowered by the simulator's knob to {PRESSURE.concurrent} in flight and "
        f"{PRESSURE.per_minute}/min per organisation, {PRESSURE.app_per_minute}/min for the "
        f"app; {PRESSURE_LATENCY:g} s per call"
    )

    def target(bound: int) -> Target | None:
        return Target("<=", bound) if shared else None

    return [
        Row(f"{label}: 429s", refused, "429s", target(0), conditions),
        Row(
            f"{label}: busiest 60 s, app",
            peak,
            "calls",
            target(PRESSURE.app_per_minute),
            f"{len(outcome.sent)} calls sent",
        ),
        Row(
            f"{label}: busiest 60 s, one organisation",
            per_org,
            "calls",
            target(PRESSURE.per_minute),
        ),
    ]


def run(size: str) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="abxero-bench-") as name:
        folder = Path(name)
        rows = scaling(size, folder)
        rows += pressure(size, folder, shared=True)
        rows += pressure(size, folder, shared=False)
    _fresh_pacing()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sharedpacing")
    parser.add_argument("setup", help="a worker's Round, as JSON")
    parser.add_argument("log", type=Path)
    arguments = parser.parse_args(argv)
    fields: dict[str, Any] = json.loads(arguments.setup)
    worker(Round(**fields), arguments.log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
