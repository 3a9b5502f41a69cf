"""Scale-out: organisations synced per minute with 1, 2 and 4 worker processes.

PostgreSQL (a scratch database, dropped afterwards) holds the ledger and Redis (db 14, flushed
before and after) the queue. The Xero simulator seeds its demo pair ``COPIES`` times
(``organisation_copies``) and the Amazon simulator serves as many businesses, so every
organisation is a separate tenant with its own Amazon Business account. Each organisation is
imported and posted once beforehand; both simulators then answer every API call late
(``slow_responses``/``slow_seconds`` on Xero, a queue of ``slow`` faults on Amazon), as the
real services do. A round starts W ``abxero worker --no-periodic --workers 1`` processes,
waits for them to start, enqueues one sync per organisation and times until every sync run
has finished. All processes share the same 2 cores as the simulators.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from psycopg import sql
from sqlalchemy import func, select

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services.connections import organisations_for
from abxero.store.migrate import upgrade
from abxero.store.models import SyncRun
from abxero_sim.amazon.businesses import ACME, HARBOUR, Business
from abxero_sim.demo import consent_on_amazon, settings_for, sign_in_with_xero, simulators
from bench.results import Row, Target
from bench.world import UNBOUND_LIMITS, Bench, CallLog, scratch_dir

NAME = "Scale-out"
POSTGRES = os.environ.get("ABXERO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = "redis://127.0.0.1:6379/14"
SECRET = "a passphrase only the benchmarks know"
XERO_LATENCY, AMAZON_LATENCY = 0.25, 0.25
#: (copies of the demo pair → organisations = 2 × copies, worker counts) per size.
SIZES = {"full": (10, (1, 2, 4)), "quick": (6, (1, 2, 4)), "tiny": (1, (1, 2))}
PYTHON = sys.executable


def businesses(copies: int) -> tuple[Business, ...]:
    """us-acme and uk-harbour, ``copies`` times, with their own ids, names, legal entities and
    buyer accounts (abxero tells Amazon Business accounts apart by their legal entities' names
    and their buyer and payer account ids, which Amazon never shares between accounts)."""
    made = []
    for number in range(1, copies + 1):
        for base in (ACME, HARBOUR):
            entities = tuple(
                replace(entity, name=f"{entity.name} {number}") for entity in base.legal_entities
            )
            buyers = tuple(
                replace(buyer, account_id=f"{buyer.account_id}-{number}") for buyer in base.buyers
            )
            made.append(
                replace(
                    base,
                    business_id=f"{base.business_id}-{number}",
                    name=f"{base.name} {number}",
                    legal_entities=entities,
                    buyers=buyers,
                    orders_per_day=2.0,
                )
            )
    return tuple(made)


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"abxero_bench_{os.getpid()}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = POSTGRES.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def scratch_queue() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    try:
        yield REDIS
    finally:
        client.flushdb()
        client.close()


def settings_kwargs(database_url: str) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "queue_url": REDIS,
        "secret_key": SECRET,
        "log_json": True,
    }


def worker_env(runtime: Runtime, folder: Path) -> dict[str, str]:
    """The worker processes' settings, as ABXERO_* variables."""
    settings = runtime.settings
    names = (
        "xero_client_id",
        "xero_login_url",
        "xero_identity_url",
        "xero_api_url",
        "amazon_application_id",
        "amazon_client_id",
        "amazon_consent_url_us",
        "amazon_consent_url_uk",
        "amazon_token_url",
        "amazon_api_url_na",
        "amazon_api_url_eu",
        "database_url",
        "queue_url",
    )
    env = {f"ABXERO_{name.upper()}": str(getattr(settings, name)) for name in names}
    env["ABXERO_XERO_CLIENT_SECRET"] = settings.xero_client_secret.get_secret_value()
    env["ABXERO_AMAZON_CLIENT_SECRET"] = settings.amazon_client_secret.get_secret_value()
    env["ABXERO_SECRET_KEY"] = SECRET
    env["ABXERO_DATA_DIR"] = str(folder)
    return {**os.environ, **env}


def connect_all(runtime: Runtime, copies: int) -> dict[str, int]:
    """Sign in once (every organisation), then pair each with its own business."""
    with httpx.Client(timeout=30) as browser:
        user_id = sign_in_with_xero(runtime, browser)
        with runtime.sessions() as session:
            names = {org.name: org.connection_id for org in organisations_for(session, user_id)}
        pairs = {}
        for number in range(1, copies + 1):
            suffix = f" {number}" if number > 1 else ""
            for region, base in (("US", ACME), ("UK", HARBOUR)):
                connection_id = names[f"Demo Company ({region}){suffix}"]
                consent_on_amazon(
                    runtime, browser, connection_id, region, f"{base.business_id}-{number}"
                )
                pairs[f"{region}{number}"] = connection_id
    return pairs


def prepare(bench: Bench) -> None:
    """Import a week, map and post every organisation (the steady state the rounds sync)."""
    for connection_id in sorted(set(bench.connections.values())):
        end = bench.runtime.now()
        bench.runtime.engine_for(connection_id).import_range(end - timedelta(days=7), end)
        bench.finish_setup_of(connection_id)
        bench.runtime.engine_for(connection_id).post_pending()


def add_latency(bench: Bench) -> None:
    bench.xero_admin(
        "POST", "/_sim/faults", {"slow_responses": 10**7, "slow_seconds": XERO_LATENCY}
    )
    bench.amazon_admin(
        "POST", "/_sim/faults", {"queue": ["slow"] * 20_000, "slow_seconds": AMAZON_LATENCY}
    )


def finished_syncs(runtime: Runtime, since: datetime) -> int:
    with runtime.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(
                    SyncRun.kind == "sync",
                    SyncRun.started_at >= since,
                    SyncRun.status.in_(("ok", "failed")),
                )
            )
            or 0
        )


def one_round(
    runtime: Runtime, jobs: Jobs, env: dict[str, str], folder: Path, ids: list[int], workers: int
) -> float:
    """Seconds for ``workers`` processes to sync every organisation once."""
    log = (folder / f"workers-{workers}.log").open("w")
    processes = [
        subprocess.Popen(
            [PYTHON, "-m", "abxero.cli", "worker", "--no-periodic", "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(workers)
    ]
    try:
        time.sleep(4.0)
        since = runtime.now()
        started = time.perf_counter()
        for connection_id in ids:
            jobs.enqueue_sync(connection_id)
        deadline = started + 600
        while finished_syncs(runtime, since) < len(ids):
            if time.perf_counter() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"the workers did not finish; see {log.name}")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()


def run(size: str) -> list[Row]:
    copies, worker_counts = SIZES[size]
    xero = {"limits": UNBOUND_LIMITS, "organisation_copies": copies}
    amazon = {"businesses": businesses(copies)}
    with (
        scratch_dir() as folder,
        scratch_postgres() as url,
        scratch_queue(),
        simulators(13, xero_options=xero, amazon_options=amazon) as world,
    ):
        runtime = Runtime(settings_for(world, folder, **settings_kwargs(url)))
        try:
            upgrade(runtime.settings.resolved_database_url)
            bench = Bench(world, runtime, connect_all(runtime, copies), CallLog(), 13)
            prepare(bench)
            add_latency(bench)
            jobs = Jobs(build_queue(REDIS), lambda: runtime, periodic=False)
            env = worker_env(runtime, folder)
            ids = sorted(set(bench.connections.values()))
            seconds = {w: one_round(runtime, jobs, env, folder, ids, w) for w in worker_counts}
        finally:
            runtime.close()
    return rows(seconds, len(ids))


def rows(seconds: dict[int, float], organisations: int) -> list[Row]:
    rate = {w: organisations / s * 60 for w, s in seconds.items()}
    base = rate[min(rate)]
    conditions = (
        f"{organisations} organisations, PostgreSQL + Redis, Xero {XERO_LATENCY:g} s "
        f"and Amazon {AMAZON_LATENCY:g} s per call, 2 shared cores"
    )
    made = [
        Row(
            f"{w} worker{'s' if w > 1 else ''}: organisations/min",
            r,
            "orgs/min",
            None,
            f"{seconds[w]:.1f} s for one sync of each; {conditions}",
        )
        for w, r in rate.items()
    ]
    top = max(rate)
    made.append(
        Row(
            f"{top} workers ÷ 1 worker",
            rate[top] / base,
            "×",
            Target(">=", 3.5 if top == 4 else top * 0.875),
            "target 3.5× for 4 workers (scaled to 0.875 × workers at other counts)",
        )
    )
    return made
