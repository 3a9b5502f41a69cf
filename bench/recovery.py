"""Xero calls (and wall time) to recover bills a killed worker left ``sending``.

A worker killed mid-post leaves up to four batches of 50 ``sending``. Once the Idempotency-Key's
lifetime is over they cannot be resent under their key, so each element must be looked up in
Xero. The world is the demo's US organisation paired with us-acme (cards only); everything is
imported and posted, then the first bill batches are put back to ``sending`` as a kill after
Xero answered would leave them. The same lookups are then made twice against the simulator, as
counted by its ``GET /_sim/stats``: one request per document (the old recovery) and one listing
per batch (``XeroBooksClient.find_many``); both must find every bill, the same ids. Last, the
engine recovers them for real and nothing may be left ``sending``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from abxero.domain.plan import Endpoint
from abxero.store.db import transaction
from abxero.store.models import Batch, OutboxDocument
from abxero.sync import batches
from abxero.sync.xero_books import XeroBooksClient
from bench.calls import cards_only
from bench.results import Row, Target
from bench.world import Bench, paired_world, scratch_dir

NAME = "Recovering bills left sending past the key lifetime"
#: (orders per day, days imported, batches put back to sending) per size.
SIZES = {"full": (12.0, 30, 4), "quick": (12.0, 30, 4), "tiny": (4.0, 5, 1)}
TARGET = Target(">=", 10)
LOOKUPS = ("GET /Invoices", "GET /CreditNotes", "GET /BankTransactions", "GET /Payments")
Lookups = list[tuple[int, list[dict[str, Any]]]]


def run(size: str) -> list[Row]:
    orders_per_day, days, batch_count = SIZES[size]
    with (
        scratch_dir() as folder,
        paired_world(folder, orders_per_day=orders_per_day, businesses=cards_only()) as bench,
    ):
        connection_id = bench.connections["US"]
        end = bench.runtime.now()
        bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=days), end)
        bench.finish_setup("US")
        if bench.runtime.engine_for(connection_id).post_pending().error:
            raise RuntimeError("posting failed")
        wanted = _left_sending(bench, connection_id, batch_count)
        books = XeroBooksClient(bench.runtime.xero_api(connection_id))
        one_by_one = _measured(bench, lambda: _per_document(books, wanted))
        in_bulk = _measured(bench, lambda: _per_batch(books, wanted))
        _check_same(one_by_one[0], in_bulk[0])
        _recover_for_real(bench, connection_id)
    documents = len(one_by_one[0])
    return _rows(documents, len(wanted), one_by_one[1:], in_bulk[1:])


def _left_sending(bench: Bench, connection_id: int, batch_count: int) -> Lookups:
    """Put the first bill batches back to ``sending``, as a kill after Xero answered leaves them."""
    with transaction(bench.runtime.sessions) as session:
        chosen = session.scalars(
            select(Batch)
            .where(Batch.xero_connection_id == connection_id, Batch.endpoint == "Invoices")
            .order_by(Batch.id)
            .limit(batch_count)
        ).all()
        for batch in chosen:
            batch.status, batch.finished_at = "sending", None
            for document in session.scalars(
                select(OutboxDocument).where(OutboxDocument.id.in_(batch.doc_ids))
            ):
                document.status, document.xero_id, document.batch_id = "sending", "", batch.id
        session.flush()
        return [
            (batch.id, [payload for _, payload in batches.lookups(session, batch.id)])
            for batch in chosen
        ]


def _per_document(books: XeroBooksClient, wanted: Lookups) -> list[str | None]:
    return [
        books.find(Endpoint.INVOICES, payload) for _, payloads in wanted for payload in payloads
    ]


def _per_batch(books: XeroBooksClient, wanted: Lookups) -> list[str | None]:
    return [
        found for _, payloads in wanted for found in books.find_many(Endpoint.INVOICES, payloads)
    ]


def _measured(
    bench: Bench, work: Callable[[], list[str | None]]
) -> tuple[list[str | None], int, float]:
    before = bench.xero_requests()
    started = time.perf_counter()
    found = work()
    seconds = time.perf_counter() - started
    after = bench.xero_requests()
    calls = sum(after.get(name, 0) - before.get(name, 0) for name in LOOKUPS)
    return found, calls, seconds


def _check_same(one_by_one: list[str | None], in_bulk: list[str | None]) -> None:
    if not one_by_one or None in one_by_one or one_by_one != in_bulk:
        raise RuntimeError("the bulk lookup did not find the same bills as the per-document one")


def _recover_for_real(bench: Bench, connection_id: int) -> None:
    engine = bench.runtime.engine_for(connection_id, key_lifetime=timedelta(0))
    if engine.post_pending().error:
        raise RuntimeError("recovery failed")
    with bench.runtime.sessions() as session:
        left = session.scalars(
            select(OutboxDocument.id).where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.status == "sending",
            )
        ).all()
    if left:
        raise RuntimeError(f"{len(left)} documents still sending after recovery")


def _rows(
    documents: int,
    batch_count: int,
    one_by_one: tuple[int, float],
    in_bulk: tuple[int, float],
) -> list[Row]:
    conditions = f"{documents} bills in {batch_count} batches left sending"
    ratio = one_by_one[0] / max(in_bulk[0], 1)
    return [
        Row("per document (before): Xero calls", one_by_one[0], "calls", None, conditions),
        Row("per batch (after): Xero calls", in_bulk[0], "calls", None, conditions),
        Row("calls before ÷ after", ratio, "×", TARGET, conditions),
        Row("per document (before): wall time", one_by_one[1], "s", None, "simulator, no limits"),
        Row("per batch (after): wall time", in_bulk[1], "s", None, "simulator, no limits"),
        Row(
            "per document (before) at Xero's 60 calls/min",
            one_by_one[0] / 60,
            "min",
            None,
            "computed: the minute limit paces the lookups",
        ),
    ]
