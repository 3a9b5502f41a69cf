"""Feed-to-ledger latency: from a transaction appearing in the Amazon feed to its bill in Xero.

After a 10-day import is posted and one incremental sync has run, a new card charge is added
to the Amazon simulator's feed (``POST /_sim/transactions``: a posted card charge with fresh
ids, feed date a minute ago). "Sync now" is measured: the web button enqueues the same
``sync_connection`` task a worker runs, timed here from the moment the record is in the feed
to the end of the sync whose report says Xero accepted its bill and payment (queue hand-off
excluded). The default schedule is computed from the tick logic: the tick runs every minute
and enqueues an organisation once ``last_sync_at + interval`` has passed, so a transaction
waits for the rest of the interval, up to one tick, and one sync.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from abxero.settings import load_settings
from abxero.store.models import OutboxDocument, SourceTransaction
from bench.results import Row
from bench.world import Bench, paired_world, scratch_dir

NAME = "Feed-to-ledger latency"
SIZES = {"full": (4.0, 10, 5), "quick": (4.0, 10, 3), "tiny": (2.0, 3, 1)}
TICK_SECONDS = 60.0


def new_charge(bench: Bench, number: int) -> dict[str, Any]:
    """A copy of a posted card charge with fresh ids, in the feed as of a minute ago."""
    return posted_charge_copy(bench, "US", f"bench-latency-{number:04d}", f"BENCH-{number:04d}")


def posted_charge_copy(
    bench: Bench, region: str, transaction_id: str, invoice_number: str
) -> dict[str, Any]:
    """A posted card charge of ``region`` under new ids, in the feed as of a minute ago."""
    with bench.runtime.sessions() as session:
        raw = session.scalars(
            select(SourceTransaction.raw)
            .join(OutboxDocument, OutboxDocument.transaction_id == SourceTransaction.transaction_id)
            .where(
                SourceTransaction.xero_connection_id == bench.connections[region],
                OutboxDocument.role == "payment",
            )
            .limit(1)
        ).one()
    record: dict[str, Any] = json.loads(raw)
    now = bench.runtime.now()
    record["transactionId"] = transaction_id
    record["invoiceNumber"] = invoice_number
    record["transactionDate"] = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["feedDate"] = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return record


def sync_now_seconds(bench: Bench, number: int) -> float:
    record = new_charge(bench, number)
    started = time.perf_counter()
    bench.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": "us-acme", "transactions": [record]}
    )
    report = bench.runtime.engine_for(bench.connections["US"]).sync()
    elapsed = time.perf_counter() - started
    if report.error or report.documents_posted < 1:
        raise RuntimeError(f"the new charge was not posted: {report}")
    return elapsed


def run(size: str) -> list[Row]:
    orders_per_day, days, repeats = SIZES[size]
    with scratch_dir() as folder, paired_world(folder, orders_per_day=orders_per_day) as bench:
        engine = bench.runtime.engine_for(bench.connections["US"])
        end = bench.runtime.now()
        engine.import_range(end - timedelta(days=days), end)
        bench.finish_setup("US")
        bench.runtime.engine_for(bench.connections["US"]).post_pending()
        bench.runtime.engine_for(bench.connections["US"]).sync()
        samples = sorted(sync_now_seconds(bench, n) for n in range(repeats))
    interval = load_settings().sync_interval_minutes * 60.0
    sync = samples[len(samples) // 2]
    worst = interval + TICK_SECONDS + sync
    typical = interval / 2 + TICK_SECONDS / 2 + sync
    return [
        Row(
            "sync now: feed → bill in Xero",
            sync,
            "s",
            None,
            f"median of {repeats} (all: {[round(s, 2) for s in samples]}); incremental sync of "
            f"an organisation with {days} days posted",
        ),
        Row(
            "default schedule, worst case",
            worst / 60,
            "min",
            None,
            f"computed: {interval / 60:g}-min interval + 1-min tick + one sync",
        ),
        Row(
            "default schedule, average",
            typical / 60,
            "min",
            None,
            "computed: half the interval + half a tick + one sync",
        ),
    ]
