"""Rate-limit efficiency: a long import that fetches, plans and posts, against Xero's limit.

Both the Xero simulator's rate windows and abxero's pacer read one :class:`ScaledClock`, so a
rate-limit minute passes in ``60 / speed`` real seconds for both. The limit is Xero's own 60
per minute (20 with ``--quick``) and the pacer is configured with the same number, as in
production.

The organisation is set up first (a 2-day look at the feed shows its cards, the suggested
mapping is saved), then the measured run imports the whole range with posting on: fetching,
storing and planning run ahead of posting (``Engine._pipelined``). Calls are timed on the
scaled clock as they come back. Minute 0 is warm-up (the context reads, the first pages); the
efficiency is the calls in each later full minute divided by the limit, averaged.

Both simulators serve from a child process (``paired_world(simulator_process=True)``): Xero
and Amazon are other machines in production, and in one process their request handling took
turns with abxero's two threads for one interpreter lock, which slowed the poster down by
their work rather than abxero's.

The run is made twice: with the machine as it is, and with a CPU burner (a second Python
process spinning) beside it, so one of the 2 cores is taken.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from abxero.sync.engine import SyncReport
from abxero.xero import Pacer
from abxero_sim.xero import LimitSettings
from bench.results import Row, Target
from bench.world import Bench, Call, ScaledClock, paired_world, scratch_dir

NAME = "Rate-limit efficiency"
#: (per-minute limit, clock speed, orders per day, days imported) per size. The speed is
#: chosen so the limit, not abxero's own throughput on 2 shared cores, is what binds.
SIZES = {
    "full": (60, 4.0, 25.0, 90),
    "quick": (20, 4.0, 25.0, 90),
    "tiny": (60, 20.0, 3.0, 5),
}
LOOK_DAYS = 2


@dataclass
class Measured:
    """One import with posting: its calls on the scaled clock and how long it took there."""

    calls: list[Call]
    report: SyncReport
    started: float
    finished: float
    sources: int


@contextmanager
def cpu_burner(busy: bool) -> Iterator[None]:
    """A second process spinning on one core for the block (nothing when not ``busy``)."""
    if not busy:
        yield
        return
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait()


def set_up_and_import(bench: Bench, clock: ScaledClock, days: int) -> Measured:
    """Set the US organisation up from a short look at its feed, then import ``days`` with
    posting on; the import is what is measured."""
    connection_id = bench.connections["US"]
    end = bench.runtime.now()
    bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=LOOK_DAYS), end)
    bench.finish_setup("US")
    mark = len(bench.calls)
    started = clock.monotonic()
    report = bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=days), end)
    finished = clock.monotonic()
    if report.error:
        raise RuntimeError(f"the measured import failed: {report.error}")
    return Measured(bench.calls.since(mark), report, started, finished, report.fetched)


def measured_import(
    per_minute: int, speed: float, orders_per_day: float, days: int, *, busy: bool
) -> Measured:
    clock = ScaledClock(speed)
    limits = LimitSettings(
        concurrent=5, per_minute=per_minute, per_day=1_000_000, app_per_minute=1_000_000
    )
    pacer = Pacer(per_minute=per_minute, monotonic=clock.monotonic, sleep=clock.sleep)
    with (
        scratch_dir() as folder,
        paired_world(
            folder,
            orders_per_day=orders_per_day,
            limits=limits,
            clock=clock,
            pacer=pacer,
            simulator_process=True,
        ) as bench,
        cpu_burner(busy),
    ):
        return set_up_and_import(bench, clock, days)


def run(size: str) -> list[Row]:
    per_minute, speed, orders_per_day, days = SIZES[size]
    found = []
    for busy in (False, True):
        measured = measured_import(per_minute, speed, orders_per_day, days, busy=busy)
        machine = "one core taken by a CPU burner" if busy else "machine as found"
        conditions = (
            f"{machine}; limit {per_minute}/min, clock ×{speed:g} (1 min = {60 / speed:g} s), "
            f"{days} days at {orders_per_day:g} orders/day, {len(measured.calls)} calls, "
            f"{measured.report.documents_posted} documents"
        )
        found += rows(measured.calls, per_minute, conditions, busy=busy)
    return found


def per_minute_counts(calls: list[Call]) -> list[int]:
    """Calls in each full minute from the first call (the last, partial minute is dropped)."""
    if not calls:
        return []
    start = calls[0].at
    full = math.floor((calls[-1].at - start) / 60.0)
    counts = [0] * full
    for call in calls:
        minute = math.floor((call.at - start) / 60.0)
        if minute < full:
            counts[minute] += 1
    return counts


def rows(calls: list[Call], limit: int, conditions: str, *, busy: bool = False) -> list[Row]:
    counts = per_minute_counts(calls)
    steady = counts[1:] or counts
    efficiency = sum(steady) / (limit * len(steady)) if steady else 0.0
    warm = calls[0].at + 60.0 if calls else 0.0
    refused = sum(1 for call in calls if call.status == 429 and call.at >= warm)
    refused_total = sum(1 for call in calls if call.status == 429)
    suffix = ", other core busy" if busy else ""
    return [
        Row(
            f"calls per minute ÷ limit{suffix}",
            efficiency,
            "",
            Target(">=", 0.95),
            conditions,
            {"per_minute": counts},
        ),
        Row(
            f"429s after warm-up{suffix}",
            refused,
            "responses",
            Target("<=", 0),
            f"{refused_total} in all; minutes counted: {len(steady)} (per minute: {counts})",
        ),
    ]
