"""End-to-end import time against Xero's floor: a 90-day import of a 10,000-transaction business.

The business is us-acme (three cards, refunds about one order in ten), at the orders per day
that give about 10,000 transactions in 90 days. The US organisation is set up first (a 2-day
look at the feed, the suggested mapping saved); the measured run is one ``import_range`` of 90
days with posting on, from its first Amazon request to its last Xero answer: fetching,
storing, planning and posting, overlapped as the engine does it.

Xero's floor for that work is the calls it took divided by the per-minute limit: no client can
post those documents faster. The simulator enforces Xero's real 60 calls a minute, but on a
compressed clock (:class:`bench.world.ScaledClock`, shared with abxero's pacer): a rate-limit
minute passes in ``60 / speed`` real seconds, so a run the limit makes last 8 minutes takes 2.
The ratio is still meaningful because only the limit is compressed: abxero's own work (the
simulators, SQLite, planning) runs at real speed, so it weighs ``speed`` times more against
the limit than it would in production. A ratio near 1 here means the limit, not abxero, binds;
in real time it can only be closer to 1. The simulators serve from their own process, as in
:mod:`bench.ratelimit`.
"""

from __future__ import annotations

from bench.ratelimit import measured_import
from bench.results import Row, Target

NAME = "Import time against Xero's floor"
#: (transactions wanted, days, per-minute limit, clock speed) per size.
SIZES = {
    "full": (10_000, 90, 60, 3.0),
    "quick": (10_000, 90, 60, 4.0),
    "tiny": (300, 5, 60, 20.0),
}
#: us-acme's generated feed holds about 1.5 transactions per order (shipments, refunds).
TRANSACTIONS_PER_ORDER = 1.5


def run(size: str) -> list[Row]:
    wanted, days, per_minute, speed = SIZES[size]
    orders_per_day = wanted / days / TRANSACTIONS_PER_ORDER
    measured = measured_import(per_minute, speed, orders_per_day, days, busy=False)
    calls = len(measured.calls)
    floor_minutes = calls / per_minute
    taken_minutes = (measured.finished - measured.started) / 60.0
    conditions = (
        f"{measured.sources:,} transactions over {days} days, "
        f"{measured.report.documents_posted:,} documents in {calls} calls; limit "
        f"{per_minute}/min enforced by the simulator on a clock ×{speed:g} "
        f"({taken_minutes * 60 / speed:.0f} s real)"
    )
    return [
        Row(
            "import wall time ÷ Xero floor",
            taken_minutes / floor_minutes if floor_minutes else 0.0,
            "×",
            Target("<=", 1.05),
            conditions,
            {"minutes": taken_minutes, "floor_minutes": floor_minutes, "calls": calls},
        ),
        Row("import wall time (limit's minutes)", taken_minutes, "min", None, conditions),
        Row("Xero floor: calls ÷ limit", floor_minutes, "min", None, f"{calls} calls"),
    ]
