"""Lanes and no pile-ups: user work is picked before background work, invoice PDFs never take
the threads user work needs, and repeated requests do not stack up in the queue (issue 20)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from huey import Huey

from abxero.jobs.queue import SCHEDULED_PRIORITY, USER_PRIORITY, build_queue
from abxero.jobs.tasks import Jobs
from abxero.store.db import transaction
from abxero.store.models import Lease, OutboxDocument, SyncRun, XeroConnection
from abxero.sync.leases import held
from abxero.web.server import QueueWorker
from tests.conftest import REDIS_TEST_URL
from tests.e2e.harness import Harness, exactly_once_report

pytestmark = pytest.mark.slow
QUEUES = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


def _jobs(harness: Harness, queue_kind: str, *, periodic: bool = False) -> Jobs:
    """A real, unconsumed queue (no immediate mode): tasks wait until the test runs them."""
    url = f"sqlite:///{harness.data_dir / 'queue.db'}" if queue_kind == "sqlite" else REDIS_TEST_URL
    jobs = Jobs(build_queue(url), lambda: harness.runtime, periodic=periodic)
    jobs.queue.flush()
    jobs.pdf_queue.flush()
    return jobs


def _finish(harness: Harness, region: str, days: int = 30) -> None:
    end = harness.runtime.now()
    harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=days), end
    )
    harness.map_and_finish(region)


def _due(harness: Harness, *regions: str) -> None:
    with transaction(harness.runtime.sessions) as session:
        for region in regions:
            organisation = session.get_one(XeroConnection, harness.connections[region])
            organisation.last_sync_at = harness.runtime.now() - timedelta(hours=1)


SYNC_WORK = ("sync_connection", "post_pending")


def _drain(queue: Huey) -> list[str]:
    """Run the queue's tasks one at a time, in the order a worker would pick them; the syncs
    and posts among them, in that order (the tick also queues the alerts and daily checks)."""
    picked: list[str] = []
    while (task := queue.dequeue()) is not None:
        if task.name in SYNC_WORK:
            picked.append(f"{task.name}:{task.args[0]}")
        queue.execute(task)
    return picked


def _sync_work(queue: Huey) -> list[Any]:
    return [task for task in queue.pending() if task.name in SYNC_WORK]


@pytest.mark.parametrize("queue_kind", QUEUES)
def test_user_work_is_picked_before_queued_background_work(
    harness: Harness, queue_kind: str
) -> None:
    """Before: one FIFO queue, so "Sync now" waited behind every scheduled sync, tick and
    invoice-PDF task queued before it (23 minutes in the issue)."""
    _finish(harness, "US")
    _finish(harness, "UK")
    harness.runtime.engine_for(harness.connections["US"]).post_pending()
    _due(harness, "US", "UK")
    jobs = _jobs(harness, queue_kind)
    us, uk = harness.connections["US"], harness.connections["UK"]
    with harness.runtime.sessions() as session:
        before = max(run.id for run in session.query(SyncRun))
    assert sorted(jobs.tick()) == sorted([us, uk])  # background syncs queued first
    jobs.enqueue_sync(uk)  # then the click: upgrades UK's pending scheduled sync
    jobs.enqueue_post(us)
    names = [task.name for task in jobs.queue.pending()]
    assert "attach_documents" not in names  # PDFs have their own queue and threads
    assert [task.name for task in jobs.pdf_queue.pending()] == ["attach_documents"]
    picked = _drain(jobs.queue)
    assert picked[:2] == [f"sync_connection:{uk}", f"post_pending:{us}"]
    assert picked[2:] == [f"sync_connection:{us}", f"sync_connection:{uk}"]
    with harness.runtime.sessions() as session:
        runs = session.query(SyncRun).filter(SyncRun.id > before).all()
    ran = sorted((run.xero_connection_id, run.kind) for run in runs if run.status == "ok")
    assert ran == sorted([(uk, "sync"), (us, "post"), (us, "sync")])  # UK's scheduled one: no-op
    assert [run for run in runs if run.status == "queued"] == []


@pytest.mark.parametrize("queue_kind", QUEUES)
def test_repeated_requests_leave_one_pending_task_per_organisation(
    harness: Harness, queue_kind: str
) -> None:
    """Before: every minute's tick queued another sync of a busy organisation, and duplicate
    syncs piled up behind its lease."""
    _finish(harness, "UK")
    _due(harness, "UK")
    jobs = _jobs(harness, queue_kind)
    uk = harness.connections["UK"]
    for _ in range(3):
        jobs.tick()
        jobs.enqueue_sync(uk, user=False)
    assert [task.priority for task in _sync_work(jobs.queue)] == [SCHEDULED_PRIORITY]
    assert [task.name for task in jobs.queue.pending()].count("alerts") == 1  # ticks never stack
    for _ in range(3):
        jobs.enqueue_sync(uk)
    priorities = sorted(task.priority for task in _sync_work(jobs.queue))
    assert priorities == [SCHEDULED_PRIORITY, USER_PRIORITY]  # the upgrade; the old one no-ops
    with harness.runtime.sessions() as session:
        queued = session.query(SyncRun).filter(SyncRun.status == "queued").count()
    assert queued == 1
    assert jobs.pending(uk) == {"sync": "user"}
    _drain(jobs.queue)
    assert jobs.pending(uk) == {}
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0


@pytest.mark.parametrize("queue_kind", QUEUES)
def test_a_busy_organisation_leaves_one_retry_not_a_storm(
    harness: Harness, queue_kind: str
) -> None:
    _finish(harness, "UK")
    jobs = _jobs(harness, queue_kind)
    uk = harness.connections["UK"]
    runtime = harness.runtime
    with held(runtime.sessions, f"sync:{uk}", "another-worker", timedelta(minutes=1), runtime.now):
        jobs.enqueue_sync(uk, user=False)
        assert _drain(jobs.queue) == [f"sync_connection:{uk}"]
        assert jobs.queue.scheduled() == []  # background: the running sync does the work
        for _ in range(3):
            jobs.enqueue_sync(uk)
            _drain(jobs.queue)
        assert len(jobs.queue.scheduled()) == 1  # the click comes back once, in seconds
        assert jobs.pending(uk) == {"sync": "user"}
    [waiting] = jobs.queue.scheduled()
    assert waiting.eta <= datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=5)
    jobs.queue.execute(waiting, timestamp=waiting.eta)  # its time has come; the lease is free
    with runtime.sessions() as session:
        statuses = [run.status for run in session.query(SyncRun).filter_by(kind="sync")]
    assert statuses == ["ok"]


def test_ticks_never_stack(harness: Harness) -> None:
    """A tick that finds another tick queued behind it does nothing; only the last one works."""
    _finish(harness, "UK")
    _due(harness, "UK")
    jobs = _jobs(harness, "sqlite", periodic=True)
    for _ in range(3):
        jobs.queue.enqueue(jobs.tick_task.s())
    results = []
    while (task := jobs.queue.dequeue()) is not None:
        if task.name == "tick":
            results.append(jobs.queue.execute(task))
    assert results == [[], [], [harness.connections["UK"]]]


def _slow_documents(harness: Harness, seconds: float) -> None:
    """Amazon takes ``seconds`` to prepare each invoice report."""
    harness.amazon_admin("POST", "/_sim/faults", {"report_seconds": seconds})


def _sync_finished(harness: Harness) -> bool:
    with harness.runtime.sessions() as session:
        run = session.query(SyncRun).filter_by(kind="sync").one_or_none()
        return run is not None and run.status == "ok"


def _attaching(harness: Harness, connection_id: int) -> bool:
    with harness.runtime.sessions() as session:
        lease = session.get(Lease, f"attach:{connection_id}")
        return lease is not None and lease.expires_at > harness.runtime.now()


def test_invoice_pdfs_cannot_take_the_threads_user_work_needs(harness: Harness) -> None:
    """One worker thread for syncs, the PDF lane busy for minutes (Amazon takes a minute per
    report): "Sync now" still runs at once. Before, PDF tasks shared the threads and held each
    for minutes."""
    _finish(harness, "UK")
    harness.runtime.engine_for(harness.connections["UK"]).post_pending()
    _slow_documents(harness, 60)
    jobs = _jobs(harness, "sqlite")
    uk = harness.connections["UK"]
    worker = QueueWorker(jobs.queue, workers=1, periodic=False, pdf_queue=jobs.pdf_queue)
    worker.start()
    try:
        jobs.enqueue_attach(uk)
        deadline = time.monotonic() + 60
        while not _attaching(harness, uk):
            assert time.monotonic() < deadline, "the PDF lane never started"
            time.sleep(0.05)
        jobs.enqueue_sync(uk)
        while not _sync_finished(harness) and time.monotonic() < deadline:
            time.sleep(0.05)
        attaching_meanwhile = _attaching(harness, uk)
        finished = _sync_finished(harness)
    finally:
        _slow_documents(harness, 0)
        worker.stop()
    assert finished, "the user's sync waited behind the PDF lane"
    assert attaching_meanwhile, "the PDF lane was not busy all along"


def test_an_import_queued_while_the_organisation_is_busy_starts_once_it_is_free(
    harness: Harness,
) -> None:
    """Before: an import task that found a sync running did nothing, and the import page
    showed it waiting for ever."""
    _finish(harness, "UK")
    jobs = _jobs(harness, "sqlite")
    uk, runtime = harness.connections["UK"], harness.runtime
    end = runtime.now()
    with held(runtime.sessions, f"sync:{uk}", "another-worker", timedelta(minutes=1), runtime.now):
        run_id = jobs.enqueue_import(uk, end - timedelta(days=5), end)
        _drain(jobs.queue)  # the import finds the lease taken; its retry is not due yet
        [waiting] = jobs.queue.scheduled()
        assert waiting.name == "import_range"
        with runtime.sessions() as session:
            assert session.get_one(SyncRun, run_id).status == "queued"
    jobs.queue.execute(waiting, timestamp=waiting.eta)
    with runtime.sessions() as session:
        assert session.get_one(SyncRun, run_id).status == "ok"


def test_abxero_status_tells_queued_from_running_and_says_why_a_sync_is_due(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.e2e.test_crash_safety import _status_output

    _finish(harness, "UK")
    _due(harness, "UK")
    jobs = _jobs(harness, "sqlite")
    uk, runtime = harness.connections["UK"], harness.runtime
    idle = _status_output(harness, monkeypatch)
    assert f"organisation {uk}: next sync due now; the scheduler queues it" in idle
    jobs.enqueue_sync(uk)  # nobody consumes this queue: the click stays queued
    queued = _status_output(harness, monkeypatch)
    assert f"organisation {uk}: Sync queued since" in queued
    assert "waiting for a free worker, nothing done yet" in queued
    assert f"organisation {uk}: next sync due now; a run is queued" in queued
    lease = f"sync:{uk}"
    with held(runtime.sessions, lease, "another-worker", timedelta(minutes=1), runtime.now):
        with transaction(runtime.sessions) as session:
            run = session.query(SyncRun).filter_by(status="queued").one()
            run.status, run.counts = "running", {"fetched": 12, "windows_total": 3}
        running = _status_output(harness, monkeypatch)
    assert f"organisation {uk}: Sync running since" in running
    assert "reading from Amazon: 12 transactions so far, window 1 of 3" in running


def test_a_pdf_task_told_to_wait_by_amazon_gives_its_thread_back(harness: Harness) -> None:
    """Before: the Document API's 429 (about one report a minute) was slept through inside the
    worker thread, up to a minute per document. Now the task ends and is scheduled again for
    the time Amazon asked (createReport's documented rate, amazon-business-api.md §5.1)."""
    _finish(harness, "UK")
    harness.runtime.engine_for(harness.connections["UK"]).post_pending()
    harness.amazon_admin("POST", "/_sim/faults", {"report_seconds": 0, "queue": ["429"]})
    jobs = _jobs(harness, "sqlite")
    uk = harness.connections["UK"]
    jobs.enqueue_attach(uk)
    task = jobs.pdf_queue.dequeue()
    assert jobs.pdf_queue.pending() == []
    asked = timedelta(seconds=1 / 0.0167)
    began = time.monotonic()
    result = jobs.pdf_queue.execute(task)
    held_for = time.monotonic() - began
    assert (result["attached"], result["unavailable"]) == (0, 0)
    assert held_for < asked.total_seconds() / 2, "the task slept through Amazon's wait"
    [again] = jobs.pdf_queue.pending()  # queued with its ETA; a consumer parks it until then
    assert again.name == "attach_documents"
    assert again.eta is not None
    wait = again.eta - datetime.now(UTC).replace(tzinfo=None)
    assert asked - timedelta(seconds=10) <= wait <= asked + timedelta(seconds=1)
    assert jobs.pending(uk) == {"attach": "scheduled"}
    with harness.runtime.sessions() as session:
        marked = session.query(OutboxDocument).filter(OutboxDocument.attachment != "").count()
    assert marked == 0
