"""Rate-limit efficiency: an import of many days against the simulator's per-minute limit.

Both the Xero simulator's rate windows and abxero's pacer read one :class:`ScaledClock`, so a
rate-limit minute passes in ``60 / speed`` real seconds for both. The limit is Xero's own 60
per minute (20 with ``--quick``) and the pacer is configured with the same number, as in
production. Calls are timed on that clock as they come back. Minute 0 of posting is warm-up
(the context reads and the first batches); the efficiency is the calls in each later full
minute divided by the limit, averaged.
"""

from __future__ import annotations

import math
from datetime import timedelta

from abxero.simulators.xero import LimitSettings
from abxero.xero import Pacer
from bench.results import Row, Target
from bench.world import Call, ScaledClock, paired_world, scratch_dir

NAME = "Rate-limit efficiency"
#: (per-minute limit, clock speed, orders per day, days imported) per size. The speed is
#: chosen so the limit, not abxero's own throughput on 2 shared cores, is what binds.
SIZES = {
    "full": (60, 4.0, 25.0, 90),
    "quick": (20, 4.0, 25.0, 30),
    "tiny": (60, 20.0, 3.0, 5),
}


def run(size: str) -> list[Row]:
    per_minute, speed, orders_per_day, days = SIZES[size]
    clock = ScaledClock(speed)
    limits = LimitSettings(
        concurrent=5, per_minute=per_minute, per_day=1_000_000, app_per_minute=1_000_000
    )
    pacer = Pacer(per_minute=per_minute, monotonic=clock.monotonic, sleep=clock.sleep)
    with (
        scratch_dir() as folder,
        paired_world(
            folder, orders_per_day=orders_per_day, limits=limits, clock=clock, pacer=pacer
        ) as bench,
    ):
        connection_id = bench.connections["US"]
        end = bench.runtime.now()
        bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=days), end)
        bench.finish_setup("US")
        mark = len(bench.calls)
        report = bench.runtime.engine_for(connection_id).post_pending()
        calls = bench.calls.since(mark)
    conditions = (
        f"limit {per_minute}/min, clock ×{speed:g} (1 min = {60 / speed:g} s), "
        f"{days} days at {orders_per_day:g} orders/day, {len(calls)} calls, "
        f"{report.documents_posted} documents"
    )
    return rows(calls, per_minute, conditions)


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


def rows(calls: list[Call], limit: int, conditions: str) -> list[Row]:
    counts = per_minute_counts(calls)
    steady = counts[1:] or counts
    efficiency = sum(steady) / (limit * len(steady)) if steady else 0.0
    warm = calls[0].at + 60.0 if calls else 0.0
    refused = sum(1 for call in calls if call.status == 429 and call.at >= warm)
    refused_total = sum(1 for call in calls if call.status == 429)
    return [
        Row(
            "calls per minute ÷ limit",
            efficiency,
            "",
            Target(">=", 0.95),
            conditions,
            {"per_minute": counts},
        ),
        Row(
            "429s after warm-up",
            refused,
            "responses",
            Target("<=", 0),
            f"{refused_total} in all; minutes counted: {len(steady)} (per minute: {counts})",
        ),
    ]
