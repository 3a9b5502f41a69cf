""" "Sync now" under load: from the click to the run starting and to its bill being in Xero.

Both demo organisations are set up and posted (UK: ``SIZES`` days of uk-harbour at the given
orders a day, every bill and credit note of which has an invoice PDF to attach; US: ten days of
us-acme). That leaves a backlog of invoice PDFs (counted and reported) that the Document API
hands out at about one report a minute, each report ready after five seconds (the Amazon
simulator's defaults). One ``abxero worker`` process runs on the default settings (two threads
for syncs, imports and posts, one for PDFs, the minute tick on) against a SQLite queue, then
against a Redis queue. Each sample adds a new card charge to one organisation's feed
(alternating), clicks "Sync now" the way the web route does (``Jobs.enqueue_sync``), and reads
the run row the click created: ``started_at - click`` is the time to start, ``finished_at -
click`` the time until its bill is in Xero (checked: the new charge's documents are posted).
Clicks are a second or two apart, so ticks, attach tasks and scheduled work interleave with
them as they would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.jobs.worker import DEFAULT_PDF_WORKERS, DEFAULT_WORKERS
from abxero.runtime import Runtime
from abxero.store.migrate import upgrade
from abxero.store.models import OutboxDocument, SyncRun
from abxero.sync.attachments import candidates
from abxero.xero import Pacer
from abxero_sim.demo import connect_demo_organisations, settings_for, simulators
from bench.latency import posted_charge_copy
from bench.results import Row, Target
from bench.scaleout import worker_env
from bench.world import Bench, CallLog, _by_region, scratch_dir

NAME = '"Sync now" with a PDF backlog'
# (UK days, UK orders a day, samples per queue)
SIZES = {"full": (90, 6.0, 20), "quick": (30, 6.0, 8), "tiny": (3, 2.0, 2)}
REDIS = os.environ.get("ABXERO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
START_TARGET = Target("<=", 5.0)
PYTHON = sys.executable


def new_charge(bench: Bench, region: str, number: int) -> dict[str, Any]:
    """A copy of a posted card charge of ``region`` with fresh ids, in the feed a minute ago."""
    return posted_charge_copy(
        bench, region, f"bench-lanes-{region}-{number:04d}", f"LANES-{region}-{number:04d}"
    )


def backlog(bench: Bench) -> int:
    """Posted documents whose invoice PDF is still to be attached."""
    total = 0
    with bench.runtime.sessions() as session:
        for region, connection_id in bench.connections.items():
            total += len(candidates(session, connection_id, region, limit=100_000))
    return total


def rate_limited(bench: Bench) -> int:
    """Xero's 429 answers so far (the simulator counts them per problem)."""
    stats = bench.xero_admin("GET", "/_sim/stats")
    return sum(int(count) for count in stats.get("rate_limited", {}).values())


def attached(bench: Bench) -> int:
    with bench.runtime.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxDocument)
                .where(OutboxDocument.attachment != "")
            )
            or 0
        )


def click(bench: Bench, jobs: Jobs, region: str, number: int) -> tuple[float, float]:
    """Seconds from "Sync now" to the run starting and to the new charge posted in Xero."""
    record = new_charge(bench, region, number)
    business = "uk-harbour" if region == "UK" else "us-acme"
    bench.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": business, "transactions": [record]}
    )
    clicked = datetime.now(UTC)
    run_id = jobs.enqueue_sync(bench.connections[region])
    if run_id is None:
        raise RuntimeError("the click did not queue a run")
    deadline = time.monotonic() + 300
    while True:
        with bench.runtime.sessions() as session:
            run = session.get_one(SyncRun, run_id)
            if run.status in ("ok", "failed", "interrupted"):
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} did not finish: {run.status}")
        time.sleep(0.05)
    if run.status != "ok" or run.finished_at is None:
        raise RuntimeError(f"run {run_id} ended {run.status}: {run.error}")
    with bench.runtime.sessions() as session:
        statuses = set(
            session.scalars(
                select(OutboxDocument.status).where(
                    OutboxDocument.transaction_id == record["transactionId"]
                )
            )
        )
    if statuses != {"posted"}:
        raise RuntimeError(f"the new charge is not in Xero: {statuses}")
    return (
        (run.started_at - clicked).total_seconds(),
        (run.finished_at - clicked).total_seconds(),
    )


@contextmanager
def world(folder: Path, queue_url: str, days: int, per_day: float) -> Iterator[Bench]:
    """Both organisations set up and posted, on a scratch database and the given queue."""
    with simulators(11, amazon_options={"orders_per_day": per_day}) as sims:
        settings = settings_for(
            sims,
            folder,
            database_url=f"sqlite:///{folder / 'abxero.db'}",
            queue_url=queue_url,
            secret_key=SECRET,
        )
        upgrade(settings.resolved_database_url)
        runtime = Runtime(settings, pacer=Pacer(per_minute=100_000))
        try:
            ids = connect_demo_organisations(runtime)
            bench = Bench(sims, runtime, _by_region(runtime, ids), CallLog(), 11)
            for region, span in (("UK", days), ("US", 10)):
                connection_id = bench.connections[region]
                end = runtime.now()
                runtime.engine_for(connection_id).import_range(end - timedelta(days=span), end)
                bench.finish_setup_of(connection_id)
                runtime.engine_for(connection_id).post_pending()
            yield bench
        finally:
            runtime.close()


SECRET = "bench-lanes-secret-key-not-for-production"


@contextmanager
def default_worker(bench: Bench, folder: Path, name: str) -> Iterator[None]:
    """``abxero worker`` with its defaults, as a separate process."""
    env = worker_env(bench.runtime, folder)
    env["ABXERO_SECRET_KEY"] = SECRET
    log = (folder / f"worker-{name}.log").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "abxero.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        time.sleep(3.0)
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited; see {log.name}")
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def one_queue(queue_kind: str, size: str) -> list[Row]:
    days, per_day, samples = SIZES[size]
    with scratch_dir() as folder:
        url = f"sqlite:///{folder / 'queue.db'}" if queue_kind == "SQLite" else REDIS
        if queue_kind == "Redis":
            redis.Redis.from_url(REDIS).flushdb()
        with world(folder, url, days, per_day) as bench:
            jobs = Jobs(build_queue(url), lambda: bench.runtime, periodic=False)
            pdfs = backlog(bench)
            with default_worker(bench, folder, queue_kind):
                limited_before = rate_limited(bench)
                starts, ends = [], []
                for number in range(samples):
                    region = ("UK", "US")[number % 2]
                    start, end = click(bench, jobs, region, number)
                    starts.append(start)
                    ends.append(end)
                    time.sleep(1.0 + (number % 3) * 0.5)
                pdf_pending = len(jobs.pdf_queue.pending()) + len(jobs.pdf_queue.scheduled())
                limited = rate_limited(bench) - limited_before
            done = attached(bench)
        if queue_kind == "Redis":
            redis.Redis.from_url(REDIS).flushdb()
    conditions = (
        f"{samples} clicks, {DEFAULT_WORKERS} sync threads + {DEFAULT_PDF_WORKERS} PDF thread, "
        f"{pdfs} PDFs in the backlog ({done} attached meanwhile, {pdf_pending} PDF tasks "
        f"pending at the end)"
    )
    return [
        Row(
            f"{queue_kind} queue: click → run started, p95",
            percentile(starts, 0.95),
            "s",
            START_TARGET,
            conditions + f"; all: {[round(s, 2) for s in starts]}",
        ),
        Row(f"{queue_kind} queue: click → run started, p50", percentile(starts, 0.5), "s"),
        Row(
            f"{queue_kind} queue: click → bill in Xero, p95",
            percentile(ends, 0.95),
            "s",
            None,
            f"Xero answered {limited} calls with 429 (minute limit) meanwhile; "
            f"all: {[round(s, 2) for s in ends]}",
        ),
        Row(f"{queue_kind} queue: click → bill in Xero, p50", percentile(ends, 0.5), "s"),
    ]


def run(size: str) -> list[Row]:
    return one_queue("SQLite", size) + one_queue("Redis", size)
