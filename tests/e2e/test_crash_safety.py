"""A worker killed with SIGKILL anywhere, then restarted, still posts everything exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from abxero.store.models import Bookmark, OutboxDocument
from tests.conftest import empty_database
from tests.e2e.crash_worker import LEASE_SECONDS
from tests.e2e.harness import Harness, abxero_environment, exactly_once_report, running_harness

pytestmark = pytest.mark.slow

# (failpoint, arrival, key lifetime on restart): 0 s forces the reconcile path, 300 s the replay.
CRASH_POINTS = [
    ("page_stored", 1, 300),
    ("page_stored", 3, 300),
    ("plan_chunk_stored", 1, 300),
    ("batch_opened", 1, 300),
    ("batch_opened", 1, 0),
    ("batch_opened", 3, 0),
    ("batch_answered", 1, 300),
    ("batch_answered", 1, 0),
    ("batch_answered", 2, 300),
    ("batch_answered", 2, 0),
    ("batch_answered", 3, 300),
    ("batch_answered", 4, 0),
    ("batch_answered", 5, 300),
    ("batch_recorded", 1, 300),
    ("batch_recorded", 2, 0),
    ("batch_recorded", 3, 300),
    ("batch_recorded", 4, 0),
    ("batch_answered", 3, 0),
    ("batch_recorded", 1, 0),
    ("page_stored", 2, 0),
]


def _worker(harness: Harness, region: str, lifetime: float, failpoint: str | None) -> int:
    returncode = _worker_process(harness, region, lifetime, failpoint)
    if returncode == -signal.SIGKILL:
        time.sleep(LEASE_SECONDS + 0.2)  # the dead worker's lease must lapse first
    return returncode


def _worker_process(harness: Harness, region: str, lifetime: float, failpoint: str | None) -> int:
    """Run one crash worker to its end (or its kill); its return code."""
    environment = dict(os.environ)
    environment.pop("ABXERO_FAILPOINT", None)
    environment.update(abxero_environment(harness))
    if failpoint:
        environment["ABXERO_FAILPOINT"] = failpoint
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.e2e.crash_worker",
            str(harness.connections[region]),
            str(lifetime),
        ],
        env=environment,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        timeout=300,
        check=False,
    )
    if result.returncode not in (0, -signal.SIGKILL):
        print(result.stdout.decode(), result.stderr.decode()[-3000:])
    return result.returncode


POSTGRES_POINTS = [("page_stored", 1, 300), ("batch_answered", 1, 0), ("batch_recorded", 2, 0)]
CASES = [("sqlite", *point) for point in CRASH_POINTS] + [
    pytest.param("postgresql", *point, marks=pytest.mark.postgres) for point in POSTGRES_POINTS
]


@pytest.mark.parametrize(("backend", "point", "arrival", "lifetime"), CASES)
def test_killed_worker_restarts_without_duplicates_or_losses(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    backend: str,
    point: str,
    arrival: int,
    lifetime: int,
) -> None:
    database_url = empty_database(request, backend, tmp_path_factory)
    with running_harness(tmp_path, database_url, orders_per_day=1.2) as harness:
        now = harness.runtime.now()
        harness.runtime.engine_for(harness.connections["US"]).import_range(
            now - timedelta(days=90), now - timedelta(days=60)
        )
        harness.map_and_finish("US")
        killed = _worker(harness, "US", lifetime, f"{point}:{arrival}")
        assert killed == -signal.SIGKILL, "the failpoint was not reached"
        assert _worker(harness, "US", lifetime, None) == 0
        assert _worker(harness, "US", lifetime, None) == 0
        result = exactly_once_report(harness, "US")
    assert result["xero_documents"] == result["ledger_documents"] > 50
    assert result["unknown_in_xero"] == []
    assert result["mismatched_totals"] == []
    assert result["per_instrument_equal"]
    assert result["payments_in_xero"] == result["ledger_payments"] == result["all_payments"]
    assert result["trial_balance_total"] == Decimal(0)
    unposted = {s.status for s in harness.sources("US")} - {"posted", "skipped", "held"}
    assert unposted == set()


def test_a_worker_killed_while_posting_ahead_of_fetching_loses_and_duplicates_nothing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The import posts full batches while later windows are still being read (Amazon answers
    1 s late here); a SIGKILL right after the first batch is recorded lands in that overlap,
    and two restarts still post everything exactly once."""
    database_url = empty_database(request, "sqlite", tmp_path_factory)
    with running_harness(tmp_path, database_url, orders_per_day=3.0) as harness:
        connection_id = harness.connections["US"]
        now = harness.runtime.now()
        harness.runtime.engine_for(connection_id).import_range(
            now - timedelta(days=90), now - timedelta(days=60)
        )
        harness.map_and_finish("US")
        harness.amazon_admin("POST", "/_sim/faults", {"queue": ["slow"] * 8, "slow_seconds": 1})
        assert _worker(harness, "US", 0, "batch_recorded:1") == -signal.SIGKILL
        with harness.runtime.sessions() as session:
            cursor = session.get_one(Bookmark, connection_id).feed_cursor
            posted = session.scalar(
                select(func.count())
                .select_from(OutboxDocument)
                .where(OutboxDocument.status == "posted")
            )
        assert posted == 50  # the first full batch reached Xero and was recorded ...
        assert cursor is not None
        assert cursor < now - timedelta(days=59)
        assert _worker(harness, "US", 0, None) == 0
        assert _worker(harness, "US", 0, None) == 0
        result = exactly_once_report(harness, "US")
        sources = harness.sources("US")
    assert result["xero_documents"] == result["ledger_documents"] > 100
    assert result["unknown_in_xero"] == []
    assert result["mismatched_totals"] == []
    assert result["payments_in_xero"] == result["ledger_payments"] == result["all_payments"]
    assert result["trial_balance_total"] == Decimal(0)
    assert max(s.feed_date for s in sources if s.feed_date) > now - timedelta(days=30)
    assert {source.status for source in sources} - {"posted", "skipped", "held"} == set()


def _killed_after_the_first_batch(harness: Harness) -> int:
    """Import 30 days for the US organisation, finish set-up, and SIGKILL the worker that posts
    them right after Xero answered its first batch; the organisation's id."""
    connection_id = harness.connections["US"]
    now = harness.runtime.now()
    harness.runtime.engine_for(connection_id).import_range(
        now - timedelta(days=90), now - timedelta(days=60)
    )
    harness.map_and_finish("US")
    assert _worker(harness, "US", 0, "batch_answered:1") == -signal.SIGKILL
    return connection_id


def _status_output(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `abxero status` prints for the harness's database."""
    from typer.testing import CliRunner

    from abxero.cli import app

    monkeypatch.setenv("ABXERO_DATABASE_URL", harness.runtime.settings.resolved_database_url)
    monkeypatch.setenv("ABXERO_DATA_DIR", str(harness.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_killed_run_is_closed_as_interrupted_when_the_next_run_takes_over(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    """Bug: a run whose worker was SIGKILLed stayed ``running`` in sync_runs for ever, so the
    manage page could show a sync running indefinitely, and `abxero status` did not show the
    batches it left ``sending``."""
    from sqlalchemy import select

    from abxero.services import manage
    from abxero.store.models import SyncRun

    database_url = empty_database(request, backend, tmp_path_factory)
    with running_harness(tmp_path, database_url, orders_per_day=1.2) as harness:
        connection_id = _killed_after_the_first_batch(harness)
        with harness.runtime.sessions() as session:
            [dead] = session.scalars(
                select(SyncRun).where(
                    SyncRun.xero_connection_id == connection_id, SyncRun.status == "running"
                )
            ).all()
        assert (
            manage.status(harness.runtime.sessions, connection_id, harness.runtime.now()).running
            is False
        )
        killed_status = _status_output(harness, monkeypatch)
        assert _worker(harness, "US", 0, None) == 0
        with harness.runtime.sessions() as session:
            closed = session.get_one(SyncRun, dead.id)
            still_running = session.scalars(
                select(SyncRun).where(SyncRun.status == "running")
            ).all()
        recovered_status = _status_output(harness, monkeypatch)
        result = exactly_once_report(harness, "US")
    assert f"organisation {connection_id}: " in killed_status
    assert "left sending by an interrupted run" in killed_status
    assert closed.status == "interrupted"
    assert "stopped before it finished" in closed.error
    assert closed.finished_at is not None
    assert still_running == []
    assert "left sending" not in recovered_status
    assert result["xero_documents"] == result["ledger_documents"] > 0
    assert result["unknown_in_xero"] == []


LOOKUP_ENDPOINTS = ("GET /Invoices", "GET /CreditNotes", "GET /BankTransactions", "GET /Payments")


def _lookups_so_far(harness: Harness) -> int:
    """GET listings of documents and payments the Xero simulator has answered so far."""
    requests: dict[str, int] = harness.xero_admin("GET", "/_sim/stats")["requests"]
    return sum(requests.get(endpoint, 0) for endpoint in LOOKUP_ENDPOINTS)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_batches_killed_past_their_key_lifetime_are_looked_up_in_bulk(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    backend: str,
) -> None:
    """Bug: a kill left up to four batches (200 documents) ``sending``; past the key's lifetime
    each document was looked up with its own GET (60 calls a minute), so one recovery took
    minutes. Now each batch is listed with one request per contact, matched here element by
    element, and everything is still posted exactly once."""
    from sqlalchemy import func, select

    from abxero.store.models import OutboxDocument

    database_url = empty_database(request, backend, tmp_path_factory)
    with running_harness(tmp_path, database_url, orders_per_day=1.2) as harness:
        connection_id = _killed_after_the_first_batch(harness)
        with harness.runtime.sessions() as session:
            waiting = session.scalar(
                select(func.count()).where(
                    OutboxDocument.xero_connection_id == connection_id,
                    OutboxDocument.status == "sending",
                )
            )
        before = _lookups_so_far(harness)
        assert _worker(harness, "US", 0, "batch_opened:1") == -signal.SIGKILL
        lookups = _lookups_so_far(harness) - before
        assert _worker(harness, "US", 0, None) == 0
        result = exactly_once_report(harness, "US")
    assert waiting >= 50
    assert 1 <= lookups <= waiting // 10, (lookups, waiting)
    assert result["xero_documents"] == result["ledger_documents"] > 50
    assert result["unknown_in_xero"] == []
    assert result["mismatched_totals"] == []
    assert result["payments_in_xero"] == result["ledger_payments"] == result["all_payments"]
