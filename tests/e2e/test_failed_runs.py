"""No silent stall: an exception anywhere in a run fails it visibly; a poison document is set aside.

Each test arms a named failpoint (``sync/failpoints.py``) with ``:raise``, which raises inside the
run as a bug in our code or in a library would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from abxero.cli import app
from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.services import manage
from abxero.store.models import Batch, Event, SyncRun, XeroConnection
from abxero.sync import failpoints
from abxero.sync.engine import SyncReport
from tests.e2e.harness import Harness, abxero_environment, exactly_once_report

pytestmark = pytest.mark.slow
runner = CliRunner()


def arm(monkeypatch: pytest.MonkeyPatch, specification: str) -> None:
    monkeypatch.setenv(failpoints.ENVIRONMENT, specification)
    failpoints.reset()


def disarm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(failpoints.ENVIRONMENT, raising=False)
    failpoints.reset()


def import_and_finish(harness: Harness, region: str = "UK") -> int:
    """Fetch 45 days (nothing posts before the setup is done), then map and finish."""
    connection_id = harness.connections[region]
    end = harness.runtime.now()
    harness.runtime.engine_for(connection_id).import_range(end - timedelta(days=45), end)
    harness.map_and_finish(region)
    return connection_id


def events(harness: Harness, connection_id: int, code: str) -> list[Event]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.xero_connection_id == connection_id, Event.code == code)
                .order_by(Event.id)
            )
        )


def runs(harness: Harness, connection_id: int) -> list[SyncRun]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(SyncRun)
                .where(SyncRun.xero_connection_id == connection_id)
                .order_by(SyncRun.id)
            )
        )


def last_sync_at(harness: Harness, connection_id: int) -> Any:
    with harness.runtime.sessions() as session:
        return session.get_one(XeroConnection, connection_id).last_sync_at


def cli_environment(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in abxero_environment(harness).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "250")


@pytest.mark.parametrize(
    "point", ["page_stored", "context_read", "plan_chunk_stored", "batch_answered"]
)
def test_an_exception_anywhere_fails_the_run_with_cause_and_remedy(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    connection_id = import_and_finish(harness)
    before = last_sync_at(harness, connection_id)
    arm(monkeypatch, f"{point}:1:raise")
    report = harness.runtime.engine_for(connection_id).sync()

    assert f"failpoint {point}" in report.error
    assert runs(harness, connection_id)[-1].status == "failed"
    assert "FailpointError" in runs(harness, connection_id)[-1].error
    assert last_sync_at(harness, connection_id) == before
    [failure] = events(harness, connection_id, "run_failed")
    assert failure.level == "error"
    assert f"failpoint {point}" in failure.message
    assert "nothing posts twice" in failure.remedy
    shown = manage.status(harness.runtime.sessions, connection_id, harness.runtime.now())
    assert shown.last_run is not None
    assert shown.last_run.failed
    assert f"failpoint {point}" in shown.last_run.error
    assert shown.last_run.remedy == failure.remedy
    cli_environment(harness, monkeypatch)
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    assert f"organisation {connection_id}: last run failed: FailpointError" in status.output
    assert "what to do: Nothing was lost" in status.output

    disarm(monkeypatch)
    again = harness.runtime.engine_for(connection_id).sync()
    assert again.error == ""
    assert last_sync_at(harness, connection_id) is not None
    assert not manage.status(
        harness.runtime.sessions, connection_id, harness.runtime.now()
    ).last_run.failed  # type: ignore[union-attr]
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0
    assert result["unknown_in_xero"] == []


def test_a_transaction_that_fails_two_runs_is_set_aside_and_the_rest_post(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = import_and_finish(harness)
    poison = next(s.transaction_id for s in harness.sources("UK") if s.status == "new")
    arm(monkeypatch, f"source_planning@{poison}:*:raise")
    engine = harness.runtime.engine_for

    first = engine(connection_id).post_pending()
    assert poison in first.error
    assert [s.status for s in harness.sources("UK") if s.transaction_id == poison] == ["new"]
    second = engine(connection_id).post_pending()
    assert poison in second.error
    [isolated] = [s for s in harness.sources("UK") if s.transaction_id == poison]
    assert isolated.status == "failed"
    assert "FailpointError" in isolated.reason
    assert isolated.remedy
    [notice] = events(harness, connection_id, "document_isolated")
    assert poison in notice.message

    third = engine(connection_id).post_pending()  # still poisoned, but no longer in the way
    assert third.error == ""
    assert third.documents_posted > 0
    statuses = {s.status for s in harness.sources("UK") if s.transaction_id != poison}
    assert statuses <= {"posted", "skipped", "held"}
    groups = manage.held_groups(harness.runtime.sessions, connection_id)
    assert [t.transaction_id for g in groups for t in g.transactions] == [poison]
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0

    disarm(monkeypatch)
    queue = build_queue(f"sqlite:///{harness.data_dir / 'queue.db'}", immediate=True)
    jobs = Jobs(queue, lambda: harness.runtime, periodic=False)
    assert manage.retry_transaction(harness.runtime.sessions, jobs, connection_id, poison)
    [retried] = [s for s in harness.sources("UK") if s.transaction_id == poison]
    assert retried.status in {"posted", "skipped"}


def test_a_batch_that_keeps_failing_is_reconciled_then_set_aside(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = import_and_finish(harness)
    engine = harness.runtime.engine_for
    arm(monkeypatch, "batch_answered:1:raise")
    first: SyncReport = engine(connection_id).post_pending()
    [failure] = events(harness, connection_id, "run_failed")
    batch_id = str(failure.data["subject"])
    assert failure.data["subject_kind"] == "batch"
    assert f"batch {batch_id}" in first.error or f"batch {batch_id}" in failure.message

    arm(monkeypatch, f"batch_answered@{batch_id}:*:raise,batch_reconciling@{batch_id}:*:raise")
    engine(connection_id).post_pending()  # resent with its key, fails again: reconcile next
    with harness.runtime.sessions() as session:
        batch = session.get_one(Batch, int(batch_id))
        assert batch.status == "sending"
    engine(connection_id).post_pending()  # the lookup fails too: set aside
    with harness.runtime.sessions() as session:
        assert session.get_one(Batch, int(batch_id)).status == "failed"
    set_aside = [d for d in harness.documents("UK") if d.batch_id == int(batch_id)]
    assert set_aside
    assert {d.status for d in set_aside} == {"failed"}
    assert all("look for it there" in d.error for d in set_aside)
    assert len(events(harness, connection_id, "document_isolated")) == 2

    rest = engine(connection_id).post_pending()
    assert rest.error == ""
    assert rest.documents_posted > 0
    failed = manage.failed_documents(harness.runtime.sessions, connection_id)
    assert {d.transaction_id for d in set_aside} <= set(failed)


def test_a_batch_that_fails_twice_is_recovered_by_looking_it_up_in_xero(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = import_and_finish(harness)
    engine = harness.runtime.engine_for
    arm(monkeypatch, "batch_answered:1:raise")
    engine(connection_id).post_pending()
    [failure] = events(harness, connection_id, "run_failed")
    batch_id = str(failure.data["subject"])
    arm(monkeypatch, f"batch_answered@{batch_id}:*:raise")
    engine(connection_id).post_pending()
    finished = engine(connection_id).post_pending()
    assert finished.error == ""
    with harness.runtime.sessions() as session:
        assert session.get_one(Batch, int(batch_id)).status != "sending"
    assert not [d for d in harness.documents("UK") if d.status in {"failed", "sending"}]
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0
    assert result["unknown_in_xero"] == []


@pytest.mark.parametrize(
    ("timezone", "zone"),
    [("SAWESTERNSTANDARDTIME", "America/La_Paz"), ("YUKONSTANDARDTIME", "America/Whitehorse")],
)
def test_an_organisation_in_a_zone_the_old_table_missed_syncs(
    harness: Harness, timezone: str, zone: str
) -> None:
    harness.xero_admin(
        "POST", f"/_sim/orgs/{harness.tenant_id('UK')}", {"organisation": {"Timezone": timezone}}
    )
    connection_id = import_and_finish(harness)
    report = harness.runtime.engine_for(connection_id).post_pending()
    assert report.error == ""
    assert report.documents_posted > 0
    assert events(harness, connection_id, "context_note") == []
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0


def test_an_unknown_organisation_zone_syncs_in_utc_with_one_visible_warning(
    harness: Harness,
) -> None:
    tenant = harness.tenant_id("UK")
    harness.xero_admin(
        "POST", f"/_sim/orgs/{tenant}", {"organisation": {"Timezone": "MARSSTANDARDTIME"}}
    )
    connection_id = import_and_finish(harness)
    first = harness.runtime.engine_for(connection_id).post_pending()
    second = harness.runtime.engine_for(connection_id).sync()
    assert first.error == second.error == ""
    assert first.documents_posted > 0
    [warning] = events(harness, connection_id, "context_note")
    assert warning.level == "warning"
    assert "MARSSTANDARDTIME" in warning.message
    assert "UTC" in warning.message
    assert warning.remedy
    notices = manage.recent_events(harness.runtime.sessions, connection_id)
    assert any("MARSSTANDARDTIME" in notice.message for notice in notices)
