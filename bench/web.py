"""Web: the manage page's response time with 100k ledger rows (p50/p95 over 200 requests).

The demo US organisation is connected and set up through the simulators' real pages and a few
days are imported and posted; then 100,000 source transactions and 100,000 outbox documents
(posted, with a share held and failed, as a busy organisation accumulates) are written straight
into the ledger tables with bulk SQL inserts. A signed-in session then asks for
``GET /orgs/{id}`` through the app in-process (FastAPI's TestClient, no network), on SQLite.
The organisation context comes from the app's context cache after the first request.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import insert

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.store.migrate import upgrade
from abxero.store.models import OutboxDocument, SourceTransaction
from abxero.web import create_app
from abxero_sim.demo import connect_demo_organisations, simulators
from bench.results import Row, Target
from bench.world import UNBOUND_LIMITS, Bench, CallLog, _by_region, scratch_dir
from tests.web.web_support import Sims, csrf_of, path_of, settings_for, xero_consent

NAME = "Web manage page"
APP_URL = "http://127.0.0.1:8765"
SIZES = {"full": (100_000, 200), "quick": (100_000, 200), "tiny": (500, 10)}
CHUNK = 5_000
HELD_EVERY, FAILED_EVERY = 50, 200


def fill_ledger(runtime: Runtime, connection_id: int, count: int) -> None:
    """``count`` sources and ``count`` documents, inserted in chunks."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for first in range(0, count, CHUNK):
        numbers = range(first, min(first + CHUNK, count))
        with runtime.db.begin() as connection:
            connection.execute(
                insert(SourceTransaction), [_source(connection_id, n, start) for n in numbers]
            )
            connection.execute(
                insert(OutboxDocument), [_document(connection_id, n) for n in numbers]
            )


def _status(number: int) -> str:
    if number % HELD_EVERY == 0:
        return "held"
    return "failed" if number % FAILED_EVERY == 1 else "posted"


def _source(connection_id: int, number: int, start: datetime) -> dict[str, Any]:
    status = _status(number)
    when = start + timedelta(minutes=number)
    return {
        "xero_connection_id": connection_id,
        "transaction_id": f"bulk-{number:07d}",
        "raw": f'{{"transactionId": "bulk-{number:07d}"}}',
        "content_hash": hashlib.sha256(str(number).encode()).hexdigest(),
        "feed_date": when,
        "transaction_date": when,
        "instrument_key": f"Visa/{number % 7:04d}",
        "currency": "USD",
        "amount": Decimal("12.34"),
        "status": status,
        "reason_code": "unmapped_instrument" if status == "held" else "",
        "reason": "No payment account is chosen for this card." if status == "held" else "",
        "order_ids": f"114-{number:07d}-0000000",
        "first_seen_at": when,
        "updated_at": when,
    }


def _document(connection_id: int, number: int) -> dict[str, Any]:
    status = _status(number)
    status = "planned" if status == "held" else status
    return {
        "xero_connection_id": connection_id,
        "transaction_id": f"bulk-{number:07d}",
        "role": "bill",
        "doc_key": f"bulk-{number:07d}/bill",
        "endpoint": "Invoices",
        "payload": "{}",
        "links": [],
        "content_hash": "x",
        "depends_on": [],
        "amount": Decimal("12.34"),
        "currency": "USD",
        "status": status,
        "xero_id": f"00000000-0000-4000-8000-{number:012d}" if status == "posted" else "",
        "error": "Account code '999' is not a valid code." if status == "failed" else "",
    }


def signed_in_client(app: Any, outside: httpx.Client) -> TestClient:
    client = TestClient(app, base_url=APP_URL, follow_redirects=False)
    csrf = csrf_of(client.get("/", follow_redirects=True).text)
    start = client.post("/auth/xero/start", data={"csrf_token": csrf})
    back = xero_consent(outside, start.headers["location"], ["us", "uk"], True)
    client.get(path_of(back))
    return client


def run(size: str) -> list[Row]:
    rows_count, requests = SIZES[size]
    with scratch_dir() as folder, simulators(11, xero_options={"limits": UNBOUND_LIMITS}) as world:
        settings = settings_for(Sims(world.xero_url, world.amazon_url), folder, APP_URL)
        upgrade(settings.resolved_database_url)
        runtime = Runtime(settings)
        try:
            bench = Bench(
                world,
                runtime,
                _by_region(runtime, connect_demo_organisations(runtime)),
                CallLog(),
                11,
            )
            _prepare(bench, rows_count)
            jobs = Jobs(
                build_queue(settings.resolved_queue_url, immediate=True),
                lambda: runtime,
                periodic=False,
            )
            with httpx.Client(timeout=30) as outside:
                client = signed_in_client(create_app(runtime, jobs), outside)
                samples = _time_requests(client, f"/orgs/{bench.connections['US']}", requests)
        finally:
            runtime.close()
    return _rows(samples, rows_count)


def _prepare(bench: Bench, rows_count: int) -> None:
    connection_id = bench.connections["US"]
    end = bench.runtime.now()
    bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=3), end)
    bench.finish_setup("US")
    bench.runtime.engine_for(connection_id).post_pending()
    fill_ledger(bench.runtime, connection_id, rows_count)


def _time_requests(client: TestClient, path: str, count: int) -> list[float]:
    first = client.get(path)
    if first.status_code != 200:
        raise RuntimeError(f"manage page answered {first.status_code}")
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"manage page answered {response.status_code}")
    return samples


def _rows(samples: list[float], rows_count: int) -> list[Row]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
    conditions = (
        f"{rows_count:,} sources + {rows_count:,} documents, SQLite, in-process, "
        f"{len(samples)} requests"
    )
    return [
        Row("manage page p50", p50, "ms", None, conditions),
        Row("manage page p95", p95, "ms", Target("<=", 500), conditions),
    ]
