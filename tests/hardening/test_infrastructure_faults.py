"""Our own side failing: the database lost mid-batch or locked, the queue losing a task, two
worker processes refreshing the same Xero token at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.store.db import transaction
from abxero.store.models import Batch, XeroConnection
from abxero.sync import posting as posting_module
from tests.e2e.harness import Harness, abxero_environment
from tests.hardening.support import assert_exactly_once, connection, import_and_finish, post

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


def _cut_the_database(url: str) -> None:
    """Drop every other session of the ledger database (PostgreSQL), as a failover would."""
    if not url.startswith("postgresql"):
        return
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_the_database_lost_after_xero_answered_is_replayed_once(
    any_db_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = any_db_harness
    import_and_finish(harness, "UK")
    url = harness.runtime.settings.resolved_database_url

    def lose_the_database(name: str, subject: str = "") -> None:
        if name == "batch_answered":
            _cut_the_database(url)
            raise OperationalError("record outcomes", {}, Exception("connection lost"))

    monkeypatch.setattr(posting_module, "reached", lose_the_database)
    try:
        failed = post(harness, "UK")
    except OperationalError:
        pass  # the database was still gone when the run tried to record its failure
    else:
        assert "connection lost" in failed.error  # the run is recorded as failed, not "ok"
    monkeypatch.undo()
    with harness.runtime.sessions() as session:
        sending = session.scalars(select(Batch).where(Batch.status == "sending")).all()
    assert len(sending) == 1  # Xero holds those documents; our ledger does not know yet
    assert post(harness, "UK").error == ""
    assert harness.xero_admin("GET", "/_sim/stats")["idempotent_replays"] >= 1
    assert_exactly_once(harness, "UK")


def test_a_locked_sqlite_database_is_waited_for(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_and_finish(harness, "US")
    released = threading.Event()

    def lock_for_a_moment(name: str, subject: str = "") -> None:
        if name != "batch_answered" or released.is_set():
            return
        blocker = harness.runtime.db.connect()
        blocker.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: another writer holds the lock

        def release() -> None:
            blocker.rollback()
            blocker.close()

        threading.Timer(1.0, release).start()
        released.set()

    monkeypatch.setattr(posting_module, "reached", lock_for_a_moment)
    report = post(harness, "US")
    assert released.is_set()
    assert report.error == ""
    assert report.documents_posted > 0
    assert_exactly_once(harness, "US")


def test_a_lost_queue_task_is_enqueued_again_by_the_next_tick(
    harness: Harness, tmp_path: Path
) -> None:
    import_and_finish(harness, "UK")
    queue = build_queue(f"sqlite:///{tmp_path / 'queue.db'}")
    jobs = Jobs(queue, lambda: harness.runtime, periodic=False)
    jobs.enqueue_sync(harness.connections["UK"])
    queue.flush()  # the queue loses it (a Redis restart without persistence, say)
    assert queue.pending_count() == 0
    with transaction(harness.runtime.sessions) as session:  # its interval has passed
        stored = session.get_one(XeroConnection, harness.connections["UK"])
        stored.last_sync_at = harness.runtime.now() - timedelta(hours=1)
    assert harness.connections["UK"] in jobs.tick()
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
    assert connection(harness, "UK").last_sync_at > harness.runtime.now() - timedelta(minutes=5)
    assert harness.documents("UK")
    assert all(d.status == "posted" for d in harness.documents("UK"))
    assert_exactly_once(harness, "UK")
    assert harness.connections["UK"] not in jobs.tick()  # synced: not due again yet


def _worker_environment(harness: Harness) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(abxero_environment(harness))
    return environment


def test_two_workers_refreshing_at_once_both_survive(any_db_harness: Harness) -> None:
    harness = any_db_harness
    harness.xero_admin("POST", "/_sim/faults", {"expire_access_tokens": True})
    command = [sys.executable, "-m", "tests.hardening.refresh_worker"]
    workers = [
        subprocess.Popen(
            [*command, str(harness.connections["US"])],
            env=_worker_environment(harness),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs[0][1][-2000:]
    assert all(b"Demo Company (US)" in out for out, _ in outputs)
    assert connection(harness, "US").status == "connected"
    import_and_finish(harness, "US", days=5)
    assert post(harness, "US").error == ""  # the stored grant still works afterwards
