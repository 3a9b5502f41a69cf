"""Many organisations, several worker processes: everything posted once, every limit kept.

PostgreSQL + a Redis queue + three ``abxero worker`` processes (one with the scheduler) on 200
organisations, and the embedded default — SQLite + the SQLite queue + one worker — on a few.
Each organisation is a separate Xero tenant paired with its own simulated Amazon Business
account; Xero's real limits are in force (5 concurrent, 60 a minute, 5,000 a day per
organisation, 10,000 a minute app-wide).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from abxero.domain import jsontext
from abxero.runtime import Runtime
from abxero.store.db import transaction
from abxero.store.migrate import upgrade
from abxero.store.models import OutboxDocument, SourceTransaction, SyncRun, XeroConnection
from abxero.sync.mappings import save_mapping
from abxero.xero import Pacer
from abxero_sim.demo import demo_mapping, settings_for, simulators
from abxero_sim.xero import LimitSettings
from bench.scaleout import SECRET, businesses, connect_all, worker_env
from tests.conftest import REDIS_TEST_URL, empty_database

pytestmark = [pytest.mark.slow]
XERO_LIMITS = LimitSettings(concurrent=5, per_minute=60, per_day=5000, app_per_minute=10_000)
MAIN_ROLES = ("bill", "credit_note", "spend", "receive")


def quiet_businesses(copies: int) -> tuple[Any, ...]:
    """The scale-out businesses at a rate that keeps 200 of them quick: a few orders a week."""
    return tuple(replace(business, orders_per_day=0.3) for business in businesses(copies))


def set_up(runtime: Runtime, copies: int) -> list[int]:
    """Pair every organisation, learn its cards from a week of feed, map it and finish."""
    ids = sorted(set(connect_all(runtime, copies).values()))
    end = runtime.now()
    for connection_id in ids:
        runtime.engine_for(connection_id).import_range(end - timedelta(days=7), end)
        mapping = demo_mapping(runtime, connection_id)
        with transaction(runtime.sessions) as session:
            save_mapping(session, connection_id, mapping)
            session.get_one(XeroConnection, connection_id).setup_step = "done"
    with transaction(runtime.sessions) as session:
        session.execute(update(XeroConnection).values(last_sync_at=None))
    return ids


def synced(runtime: Runtime, ids: list[int], since: Any) -> set[int]:
    with runtime.sessions() as session:
        return set(
            session.scalars(
                select(SyncRun.xero_connection_id).where(
                    SyncRun.kind == "sync", SyncRun.status == "ok", SyncRun.started_at >= since
                )
            )
        ) & set(ids)


def run_workers(runtime: Runtime, folder: Path, commands: list[list[str]], ids: list[int]) -> None:
    """Start the workers, let the scheduler enqueue everyone, wait until each has synced."""
    env = worker_env(runtime, folder)
    env["ABXERO_QUEUE_URL"] = runtime.settings.resolved_queue_url
    env["ABXERO_DATABASE_URL"] = runtime.settings.resolved_database_url
    log = (folder / "workers.log").open("w")
    since = runtime.now()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "abxero.cli", "worker", *command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for command in commands
    ]
    try:
        deadline = time.monotonic() + 900
        while synced(runtime, ids, since) != set(ids):
            dead = [p.returncode for p in processes if p.poll() is not None]
            assert not dead, f"a worker exited ({dead}); see {log.name}"
            assert time.monotonic() < deadline, f"not every organisation synced; {log.name}"
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        log.close()


def check_books(runtime: Runtime, world_state: dict[str, Any], ids: list[int]) -> None:
    """Per organisation: one Xero document per posted main document, equal totals."""
    by_tenant = {org["tenant_id"]: org for org in world_state["organisations"]}
    with runtime.sessions() as session:
        organisations = {c.id: c for c in session.scalars(select(XeroConnection))}
        for connection_id in ids:
            organisation = organisations[connection_id]
            state = by_tenant[organisation.tenant_id]
            ours = {
                doc.get("InvoiceID") or doc.get("CreditNoteID") or doc.get("BankTransactionID"): doc
                for kind in ("invoices", "credit_notes", "bank_transactions")
                for doc in state[kind]
                if doc.get("Contact", {}).get("ContactID") == organisation.contact_id
            }
            main = session.scalars(
                select(OutboxDocument).where(
                    OutboxDocument.xero_connection_id == connection_id,
                    OutboxDocument.role.in_(MAIN_ROLES),
                )
            ).all()
            assert {d.status for d in main} == {"posted"}, organisation.tenant_name
            assert set(ours) == {d.xero_id for d in main}, organisation.tenant_name
            for document in main:
                assert Decimal(str(ours[document.xero_id]["Total"])) == document.amount
            statuses = set(
                session.scalars(
                    select(SourceTransaction.status).where(
                        SourceTransaction.xero_connection_id == connection_id
                    )
                )
            )
            assert statuses <= {"posted", "skipped"}, (organisation.tenant_name, statuses)
            assert Decimal(str(state["trial_balance"]["total"])) == 0


def check_limits(stats: dict[str, Any], organisations: int) -> None:
    assert "day" not in "".join(stats["rate_limited"]).lower()
    assert "app" not in "".join(stats["rate_limited"]).lower()
    assert len(stats["tenant_requests"]) >= organisations
    assert max(stats["tenant_requests"].values()) < XERO_LIMITS.per_day
    assert not stats["spec_rejections"]


def scale_world(copies: int) -> Any:
    return simulators(
        17,
        xero_options={"limits": XERO_LIMITS, "organisation_copies": copies},
        amazon_options={"businesses": quiet_businesses(copies)},
    )


@pytest.fixture
def redis_queue() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()
    client.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_three_workers_on_postgres_and_redis_post_two_hundred_organisations_once(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    redis_queue: str,
) -> None:
    database_url = empty_database(request, "postgresql", tmp_path_factory)
    with scale_world(copies=100) as world:
        settings = settings_for(
            world,
            tmp_path,
            database_url=database_url,
            queue_url=redis_queue,
            secret_key=SECRET,
        )
        upgrade(settings.resolved_database_url)
        runtime = Runtime(settings, pacer=Pacer())
        try:
            ids = set_up(runtime, copies=100)
            assert len(ids) == 200
            run_workers(runtime, tmp_path, [[], ["--no-periodic"], ["--no-periodic"]], ids)
            state = jsontext.loads(_get(world.xero_url, "/_sim/state"))
            stats = jsontext.loads(_get(world.xero_url, "/_sim/stats"))
            check_books(runtime, state, ids)
            check_limits(stats, 200)
        finally:
            runtime.close()


def test_one_worker_on_the_embedded_default_posts_every_organisation_once(
    tmp_path: Path,
) -> None:
    with scale_world(copies=3) as world:
        settings = settings_for(world, tmp_path, secret_key=SECRET)
        upgrade(settings.resolved_database_url)
        runtime = Runtime(settings, pacer=Pacer())
        try:
            ids = set_up(runtime, copies=3)
            run_workers(runtime, tmp_path, [["--workers", "1"]], ids)
            state = jsontext.loads(_get(world.xero_url, "/_sim/state"))
            stats = jsontext.loads(_get(world.xero_url, "/_sim/stats"))
            check_books(runtime, state, ids)
            check_limits(stats, len(ids))
        finally:
            runtime.close()


def _get(base: str, path: str) -> bytes:
    import httpx

    response = httpx.get(f"{base}{path}", timeout=120)
    response.raise_for_status()
    return response.content
