"""Holds that clear once mapped, late feeds caught by the overlap, one sync at a time, jobs."""

from __future__ import annotations

import copy
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.due import retry_delay
from abxero.domain.mapping import AccountPayment
from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs, due_connections
from abxero.store.db import transaction
from abxero.store.models import Event, SyncRun, XeroConnection
from abxero.sync.engine import SyncReport
from abxero.sync.leases import LeaseBusy
from abxero.sync.mappings import latest_mapping, save_mapping
from tests.conftest import REDIS_TEST_URL
from tests.e2e.harness import Harness, exactly_once_report

pytestmark = pytest.mark.slow


def _import_and_finish(harness: Harness, region: str, **options: Any) -> None:
    end = harness.runtime.now()
    harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=45), end
    )
    harness.map_and_finish(region, **options)


def test_an_unmapped_card_waits_visibly_and_posts_once_mapped(harness: Harness) -> None:
    _import_and_finish(harness, "US", leave_unmapped=("Visa/4242",))
    harness.runtime.engine_for(harness.connections["US"]).post_pending()
    waiting = [s for s in harness.sources("US") if s.status == "held"]
    assert waiting
    assert {s.instrument_key for s in waiting} == {"Visa/4242"}
    assert {s.reason_code for s in waiting} == {"payment_method_not_mapped"}
    assert all(s.remedy for s in waiting)
    connection_id = harness.connections["US"]
    with transaction(harness.runtime.sessions) as session:
        found = latest_mapping(session, connection_id)
        assert found is not None
        mapping = found[1]
        methods = {**mapping.payment_methods, "Visa/4242": AccountPayment(account="093")}
        save_mapping(
            session, connection_id, mapping.model_copy(update={"payment_methods": methods})
        )
    report = harness.runtime.engine_for(connection_id).sync()
    assert report.error == ""
    assert {s.status for s in harness.sources("US")} <= {"posted", "skipped"}
    result = exactly_once_report(harness, "US")
    assert result["xero_documents"] == result["ledger_documents"]
    assert result["per_instrument_equal"]


def _late_record(harness: Harness, business_id: str) -> dict[str, Any]:
    sample = harness.amazon_admin("GET", f"/_sim/transactions?business_id={business_id}&count=1")
    record: dict[str, Any] = copy.deepcopy(
        sample["transactions"][0] if isinstance(sample, dict) else sample[0]
    )
    now = harness.runtime.now()
    record["transactionId"] = "late-arrival-0001"
    record["invoiceNumber"] = "LATE-0001"
    record["transactionDate"] = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["feedDate"] = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return record


def test_a_late_arriving_transaction_is_picked_up_by_the_overlap(harness: Harness) -> None:
    _import_and_finish(harness, "UK")
    engine = harness.runtime.engine_for(harness.connections["UK"])
    engine.post_pending()
    assert engine.sync().error == ""
    record = _late_record(harness, "uk-harbour")
    harness.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": "uk-harbour", "transactions": [record]}
    )
    report = harness.runtime.engine_for(harness.connections["UK"]).sync()
    late = [s for s in harness.sources("UK") if s.transaction_id == "late-arrival-0001"]
    assert report.new == 1
    assert [s.status for s in late] == ["posted"]
    again = harness.runtime.engine_for(harness.connections["UK"]).sync()
    assert again.new == 0
    assert again.documents_posted == 0


def test_two_workers_on_one_organisation_run_one_sync(harness: Harness) -> None:
    """The second worker arrives while the first is mid-run, holding the lease."""
    _import_and_finish(harness, "UK")
    results: list[str] = []
    first_is_running, second_has_tried = threading.Event(), threading.Event()

    def hold_until_the_second_has_tried(report: SyncReport) -> None:
        if not first_is_running.is_set():
            first_is_running.set()
            second_has_tried.wait(timeout=60)

    def run(progress: Any = None) -> None:
        engine = harness.runtime.engine_for(harness.connections["UK"], progress=progress)
        try:
            engine.post_pending()
            results.append("ran")
        except LeaseBusy:
            results.append("busy")

    first = threading.Thread(target=run, args=(hold_until_the_second_has_tried,))
    first.start()
    assert first_is_running.wait(timeout=60)
    run()
    second_has_tried.set()
    first.join()
    assert results == ["busy", "ran"]
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0


@pytest.mark.parametrize("queue_kind", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_queued_tasks_sync_due_organisations_and_tolerate_repeats(
    harness: Harness, queue_kind: str
) -> None:
    _import_and_finish(harness, "UK")
    url = f"sqlite:///{harness.data_dir / 'queue.db'}" if queue_kind == "sqlite" else REDIS_TEST_URL
    queue = build_queue(url, immediate=True)
    jobs = Jobs(queue, lambda: harness.runtime, periodic=False)
    uk = harness.connections["UK"]
    with transaction(harness.runtime.sessions) as session:
        organisation = session.get_one(XeroConnection, uk)
        organisation.last_sync_at = harness.runtime.now() - timedelta(hours=1)
    assert uk in due_connections(harness.runtime)
    assert uk in jobs.tick()
    jobs.enqueue_sync(uk)  # delivered twice: the ledger makes the repeat a no-op
    with harness.runtime.sessions() as session:
        assert session.get_one(XeroConnection, uk).last_sync_at is not None
    assert uk not in due_connections(harness.runtime)
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0
    assert result["all_payments"] == result["ledger_payments"]


def test_a_posted_transaction_that_changes_is_flagged_not_posted_again(harness: Harness) -> None:
    _import_and_finish(harness, "UK")
    engine = harness.runtime.engine_for(harness.connections["UK"])
    engine.post_pending()
    before = exactly_once_report(harness, "UK")
    posted = next(s for s in harness.sources("UK") if s.status == "posted")
    changed = jsontext.loads(posted.raw)
    changed["feedDate"] = (harness.runtime.now() - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    changed["chargeIdentifier"] = "CHANGED-BY-AMAZON"
    harness.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": "uk-harbour", "transactions": [changed]}
    )
    harness.runtime.engine_for(harness.connections["UK"]).sync()
    flagged = [s for s in harness.sources("UK") if s.transaction_id == posted.transaction_id]
    assert [s.needs_review for s in flagged] == [True]
    assert [s.status for s in flagged] == ["posted"]
    with harness.runtime.sessions() as session:
        codes = session.scalars(select(Event.code)).all()
    assert "changed_after_posting" in codes
    after = exactly_once_report(harness, "UK")
    assert after["xero_documents"] == before["xero_documents"]


def _finished_run(harness: Harness, session: Session, status: str, ago: timedelta) -> None:
    finished = harness.runtime.now() - ago
    session.add(
        SyncRun(
            xero_connection_id=harness.connections["UK"],
            kind="sync",
            status=status,
            started_at=finished - timedelta(seconds=5),
            finished_at=finished,
        )
    )


def test_a_failing_organisation_is_retried_after_a_growing_delay_not_every_minute(
    harness: Harness,
) -> None:
    """A failed run leaves ``last_sync_at`` where it was, so the organisation stays "due";
    the scheduler waits 2, 4, 8 … minutes (at most the interval) after each failure."""
    _import_and_finish(harness, "UK")
    uk = harness.connections["UK"]
    with transaction(harness.runtime.sessions) as session:
        organisation = session.get_one(XeroConnection, uk)
        organisation.last_sync_at = harness.runtime.now() - timedelta(hours=1)
        for run in session.scalars(select(SyncRun).where(SyncRun.xero_connection_id == uk)):
            run.finished_at = harness.runtime.now() - timedelta(hours=1)  # the set-up's runs
        _finished_run(harness, session, "failed", timedelta(minutes=1))
    assert uk not in due_connections(harness.runtime)  # one failure: wait 2 minutes
    with transaction(harness.runtime.sessions) as session:
        failed = select(SyncRun).where(SyncRun.xero_connection_id == uk, SyncRun.status == "failed")
        for run in session.scalars(failed):
            run.finished_at = harness.runtime.now() - timedelta(minutes=3)
    assert uk in due_connections(harness.runtime)  # one failure, 3 minutes ago: due again
    with transaction(harness.runtime.sessions) as session:
        _finished_run(harness, session, "failed", timedelta(minutes=3, seconds=-1))
        _finished_run(harness, session, "failed", timedelta(minutes=3, seconds=-2))
    assert uk not in due_connections(harness.runtime)  # three failures: wait 8 minutes
    with transaction(harness.runtime.sessions) as session:
        _finished_run(harness, session, "ok", timedelta(seconds=30))
    assert uk in due_connections(harness.runtime)  # a success ends the back-off


def test_an_interrupted_run_counts_as_a_failure_for_the_back_off(harness: Harness) -> None:
    """A run whose worker died (closed ``interrupted`` when the next run took over) makes the
    scheduler wait like a failed run does, instead of retrying every minute."""
    _import_and_finish(harness, "UK")
    uk = harness.connections["UK"]
    with transaction(harness.runtime.sessions) as session:
        organisation = session.get_one(XeroConnection, uk)
        organisation.last_sync_at = harness.runtime.now() - timedelta(hours=1)
        for run in session.scalars(select(SyncRun).where(SyncRun.xero_connection_id == uk)):
            run.finished_at = harness.runtime.now() - timedelta(hours=1)
        _finished_run(harness, session, "failed", timedelta(minutes=3, seconds=-1))
        _finished_run(harness, session, "interrupted", timedelta(minutes=3))
    assert uk not in due_connections(harness.runtime)  # two failures in a row: wait 4 minutes


def test_retry_delays_double_and_stop_at_the_interval() -> None:
    interval = timedelta(minutes=15)
    delays = [retry_delay(failures, interval) for failures in range(1, 6)]
    assert delays == [timedelta(minutes=m) for m in (2, 4, 8, 15, 15)]
