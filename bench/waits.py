"""``python -m bench.waits [PER_MINUTE SPEED ORDERS_PER_DAY DAYS [busy]]``: where a long
import's minutes go.

Not one of the benchmarks (it prints no table row). It runs the import of
:mod:`bench.ratelimit` once (defaults: the 10,000-transaction import of
:mod:`bench.importtime`) with timers wrapped around the places the poster can wait, and prints,
for every rate-limit minute, the calls Xero answered and the seconds (on the scaled clock) each
thread spent in: the pacer, the ledger lock, waiting for something planned, sending a batch
(its HTTP request apart), recording outcomes, progress writes and planning. A line every 30 s
gives transactions fetched and planned and documents posted, so a poster falling behind the
planner, or a tail of small calls, shows. Timers go around the engine's methods by name; a
method that is not there (renamed) is skipped, not an error.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx

from abxero.sync import batches, pipeline, xero_books
from abxero.sync import engine as engine_module
from abxero.xero import pacing
from bench import ratelimit
from bench.world import ScaledClock

ENGINE_METHODS = {
    "_send": "send batch",
    "_plan_from": "plan",
    "_progress": "progress",
    "_context": "context",
    "_post": "post rest",
}
BATCH_FUNCTIONS = ("record_outcomes", "open_batches", "ready_documents")


class Timers:
    """Seconds spent per (minute, thread, what), on the scaled clock."""

    def __init__(self) -> None:
        self.clock: ScaledClock | None = None
        self.spent: list[tuple[float, str, str, float]] = []
        self.progress: list[tuple[float, int, int, int]] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return self.clock.monotonic() if self.clock else 0.0

    def add(self, what: str, started: float) -> None:
        thread = "planner" if "ahead" in threading.current_thread().name else "poster"
        with self._lock:
            self.spent.append((started, thread, what, self.now() - started))

    def wrap(self, owner: Any, name: str, what: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = self.now()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(what, started)

        setattr(owner, name, timed)


class _TimedLock:
    def __init__(self, timers: Timers) -> None:
        self._timers, self._lock = timers, threading.Lock()

    def __enter__(self) -> None:
        started = self._timers.now()
        self._lock.acquire()
        self._timers.add("ledger lock", started)

    def __exit__(self, *_: object) -> None:
        self._lock.release()


def instrument(timers: Timers) -> None:
    engine = next(
        value
        for value in vars(engine_module).values()
        if isinstance(value, type) and hasattr(value, "_post_round")
    )
    scaled_init = ScaledClock.__init__

    def clock_init(clock: ScaledClock, *args: Any, **kwargs: Any) -> None:
        scaled_init(clock, *args, **kwargs)
        timers.clock = clock

    ScaledClock.__init__ = clock_init  # type: ignore[method-assign]
    timers.wrap(pacing.Pacer, "_wait_for_budget", "pacer")
    timers.wrap(xero_books.XeroBooksClient, "send", "xero send")
    timers.wrap(httpx.Client, "request", "http")
    for name in BATCH_FUNCTIONS:
        timers.wrap(batches, name, name.replace("_", " "))
    for name, what in ENGINE_METHODS.items():
        timers.wrap(engine, name, what)
    planned_wait = pipeline._Planned.wait

    def waited(event: pipeline._Planned, timeout: float | None = None) -> bool:
        started = timers.now()
        try:
            return planned_wait(event, timeout)
        finally:
            timers.add("planned wait", started)

    pipeline._Planned.wait = waited  # type: ignore[method-assign]
    engine_init: Callable[..., None] = engine.__init__

    def with_timed_lock(self: Any, *args: Any, **kwargs: Any) -> None:
        engine_init(self, *args, **kwargs)
        if hasattr(self, "_ledger_lock"):
            self._ledger_lock = _TimedLock(timers)

    engine.__init__ = with_timed_lock
    progress = getattr(engine, "_progress", None)
    if progress is not None:

        def noted(self: Any, report: Any) -> Any:
            timers.progress.append(
                (timers.now(), report.fetched, report.planned, report.documents_posted)
            )
            return progress(self, report)

        engine._progress = noted


def main(argv: list[str]) -> None:
    per_minute, speed, orders, days = (60, 4.0, 10_000 / 90 / 1.5, 90)
    if len(argv) >= 4:
        per_minute, speed, orders, days = int(argv[0]), float(argv[1]), float(argv[2]), int(argv[3])
    busy = len(argv) >= 5 and argv[4] == "busy"
    timers = Timers()
    instrument(timers)
    measured = ratelimit.measured_import(per_minute, speed, orders, days, busy=busy)
    calls = measured.calls
    start = calls[0].at
    counts = ratelimit.per_minute_counts(calls)
    statuses = sorted({call.status for call in calls})
    print(f"{len(calls)} calls; statuses {statuses}; per minute {counts}")
    taken = (measured.finished - measured.started) / 60
    print(f"import {taken:.2f} min against a floor of {len(calls) / per_minute:.2f} min")
    spent: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for at, thread, what, seconds in timers.spent:
        if at >= measured.started:
            spent[int((at - start) // 60)][f"{thread}: {what}"] += seconds
    for minute in sorted(spent):
        calls_then = counts[minute] if 0 <= minute < len(counts) else "-"
        parts = ", ".join(
            f"{what} {seconds:.1f}" for what, seconds in sorted(spent[minute].items())
        )
        print(f"minute {minute} ({calls_then} calls): {parts}")
    shown = -1
    for at, fetched, planned, posted in timers.progress:
        if int((at - start) // 30) != shown:
            shown = int((at - start) // 30)
            print(f"{at - start:6.0f} s: fetched {fetched}, planned {planned}, posted {posted}")


if __name__ == "__main__":
    main(sys.argv[1:])
