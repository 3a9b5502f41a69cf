"""Xero calls per 1,000 Amazon card charges for a full import (counted by the simulator).

The world is the demo's US organisation paired with us-acme, whose cards are its only payment
methods here (no Pay by Invoice), so every charge is a bill and a payment. The import reads the
feed (no Xero calls before the set-up is done), the mapping step is saved, then
``post_pending`` posts everything: that run's Accounting API requests, as counted by the
simulator's ``GET /_sim/stats``, are the measurement. Refunds in the feed (about 1 in 10 orders)
are posted too and their calls are included.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from abxero.domain import jsontext
from abxero.store.models import OutboxDocument, SourceTransaction
from abxero.sync.batches import BATCH_SIZE
from abxero_sim.amazon.businesses import ACME, DEFAULT_BUSINESSES, Business
from abxero_sim.demo import simulators
from bench.naive import NaiveRun, post_one_by_one
from bench.results import Row, Target
from bench.world import UNBOUND_LIMITS, Bench, paired_world, scratch_dir

NAME = "Xero calls per 1,000 card charges"
#: (orders per day, days imported) per size.
SIZES = {"full": (12.0, 90), "quick": (12.0, 30), "tiny": (4.0, 5)}
TARGET = Target("<=", 45)
#: Issue #19: at most one call per 1,000 charges beyond the batches themselves.
OVER_FLOOR = Target("<=", 1)


def cards_only() -> tuple[Business, ...]:
    acme = replace(ACME, instruments=ACME.cards)
    return tuple(acme if b.business_id == ACME.business_id else b for b in DEFAULT_BUSINESSES)


def run(size: str) -> list[Row]:
    orders_per_day, days = SIZES[size]
    with (
        scratch_dir() as folder,
        paired_world(folder, orders_per_day=orders_per_day, businesses=cards_only()) as bench,
    ):
        measured = _import_and_post(bench, days)
        documents = _posted_documents(bench)
        charges = _card_charges(bench)
        with simulators(bench.seed, xero_options={"limits": UNBOUND_LIMITS}) as fresh:
            naive = post_one_by_one(fresh.xero_url, "us", documents)
    return _rows(measured, documents, charges, naive, orders_per_day, days)


def _import_and_post(bench: Bench, days: int) -> Counter[str]:
    connection_id = bench.connections["US"]
    end = bench.runtime.now()
    bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=days), end)
    bench.finish_setup("US")
    before = Counter(bench.xero_requests())
    report = bench.runtime.engine_for(connection_id).post_pending()
    if report.error:
        raise RuntimeError(f"posting failed: {report.error}")
    return Counter(bench.xero_requests()) - before


def _posted_documents(bench: Bench) -> list[OutboxDocument]:
    with bench.runtime.sessions() as session:
        return list(
            session.scalars(
                select(OutboxDocument)
                .where(
                    OutboxDocument.xero_connection_id == bench.connections["US"],
                    OutboxDocument.status == "posted",
                )
                .order_by(OutboxDocument.id)
            )
        )


def _card_charges(bench: Bench) -> int:
    with bench.runtime.sessions() as session:
        raws = session.scalars(
            select(SourceTransaction.raw).where(
                SourceTransaction.xero_connection_id == bench.connections["US"],
                SourceTransaction.status == "posted",
            )
        ).all()
    return sum(1 for raw in raws if jsontext.loads(raw).get("transactionType") == "CHARGE")


def batch_floor(documents: list[OutboxDocument]) -> int:
    """Fewest batch requests that can carry these documents (allocations go per credit note)."""
    per_path: Counter[str] = Counter()
    for document in documents:
        path = document.endpoint
        if path == "Allocations":
            path = f"Allocations/{document.transaction_id}"
        per_path[path] += 1
    return sum(math.ceil(count / BATCH_SIZE) for count in per_path.values())


def _rows(
    measured: Counter[str],
    documents: list[OutboxDocument],
    charges: int,
    naive: NaiveRun,
    orders_per_day: float,
    days: int,
) -> list[Row]:
    per_k = 1000 / max(charges, 1)
    total = sum(measured.values())
    reads = sum(count for endpoint, count in measured.items() if endpoint.startswith("GET"))
    floor = batch_floor(documents)
    roles = Counter(document.role for document in documents)
    conditions = (
        f"{charges} card charges ({days} days at {orders_per_day:g} orders/day), "
        f"{len(documents)} documents {dict(roles)}"
    )
    return [
        Row(
            "abxero: calls / 1,000 charges",
            total * per_k,
            "calls",
            TARGET,
            conditions,
            {"requests": dict(measured), "card_charges": charges},
        ),
        Row(
            "  of which reads (context, contact)",
            reads * per_k,
            "calls",
            None,
            f"{reads} reads in the run",
        ),
        Row(
            "floor: batches of 50",
            floor * per_k,
            "calls",
            None,
            f"{floor} batch requests for these documents",
        ),
        Row(
            "abxero over the floor",
            (total - floor) * per_k,
            "calls",
            OVER_FLOOR,
            "the run reuses the context read at set-up; only the supplier contact is read",
        ),
        Row(
            "naive: one request per document",
            naive.requests * per_k,
            "calls",
            None,
            f"{naive.requests} requests, {naive.posted} posted, {naive.failed} refused",
        ),
    ]
