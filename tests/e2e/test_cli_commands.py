"""The operational commands against a paired world, and the README's headless demo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abxero.cli import app
from abxero.store.db import transaction
from abxero.store.models import XeroConnection
from tests.e2e.harness import Harness, abxero_environment, exactly_once_report

pytestmark = pytest.mark.slow
runner = CliRunner()
SRC = str(Path(__file__).parents[2] / "src")


def _environment(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in abxero_environment(harness).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")


def test_import_sync_and_status_commands(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(harness, monkeypatch)
    today = harness.runtime.now().date()
    since = today.replace(day=1).isoformat()
    first = runner.invoke(app, ["import", "--since", since, "--until", today.isoformat()])
    assert first.exit_code == 0, first.output
    assert "new" in first.output
    harness.map_and_finish("UK")
    uk = str(harness.connections["UK"])
    synced = runner.invoke(app, ["sync", "--organisation", uk])
    assert synced.exit_code == 0, synced.output
    again = runner.invoke(
        app, ["import", "--since", since, "--until", today.isoformat(), "--organisation", uk]
    )
    assert "0 new" in again.output
    assert "0 documents posted" in again.output
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    assert "Demo Company (UK)" in status.output
    assert "Demo Company (US)" in status.output
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0


def test_import_refuses_a_backwards_range(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(harness, monkeypatch)
    result = runner.invoke(app, ["import", "--since", "2026-05-10", "--until", "2026-05-01"])
    assert result.exit_code == 2
    assert "--until" in result.output


def test_headless_demo_ends_with_a_matching_summary(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "abxero.cli", "demo", "--headless"],
        env={"ABXERO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.strip().splitlines()
    hint = f"  ABXERO_DATA_DIR={tmp_path / 'demo'} abxero status"
    assert hint in lines
    inspected = subprocess.run(
        [sys.executable, "-m", "abxero.cli", "status"],
        env={
            "ABXERO_DATA_DIR": str(tmp_path / "demo"),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": SRC,
            "COLUMNS": "200",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert inspected.returncode == 0, inspected.stderr[-2000:]
    assert "Demo Company (US)" in inspected.stdout
    assert "Demo Company (UK)" in inspected.stdout
    assert "upgraded" not in inspected.stdout
    summary = json.loads(lines[-1])
    assert summary["totals_match"] is True
    for key in ("US/USD", "UK/GBP"):
        region = summary[key]
        assert region["fetched"] > 500
        assert region["documents_posted"] > region["fetched"]
        assert region["duplicates"] == 0
        assert region["amazon_total"] == region["posted_total"] == region["xero_total"]
        assert region["held"] == region["quarantined"] == region["unaccounted"] == 0


def _hold_sync_lease(harness: Harness, connection_id: int, holder: str) -> None:
    """Another live worker's lease on the organisation's sync (it expires far in the future)."""
    from datetime import UTC, datetime

    from abxero.store.db import transaction
    from abxero.store.models import Lease

    with transaction(harness.runtime.sessions) as session:
        until = datetime(2100, 1, 1, tzinfo=UTC)
        session.add(Lease(name=f"sync:{connection_id}", holder=holder, expires_at=until))


def test_a_busy_organisation_is_reported_and_the_others_still_import(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: one organisation's lease being taken made `abxero import` print a LeaseBusy
    traceback, exit 1 and skip every other organisation."""
    _environment(harness, monkeypatch)
    first, second = sorted(harness.connections.values())
    _hold_sync_lease(harness, first, "other-host:4242:feedbeef")
    today = harness.runtime.now().date()
    since = today.replace(day=1).isoformat()
    result = runner.invoke(app, ["import", "--since", since, "--until", today.isoformat()])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert f"organisation {first}: busy: another worker is syncing it" in result.output
    assert "other-host:4242:feedbeef" in result.output
    assert f"organisation {second}: " in result.output
    assert "new" in result.output.split(f"organisation {second}: ")[-1]
    status = runner.invoke(app, ["status"])
    assert "other-host:4242:feedbeef" in status.output, status.output


def test_progress_lines_when_not_on_a_terminal(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: without a terminal the CLI printed no progress at all while a run went on."""
    _environment(harness, monkeypatch)
    uk = str(harness.connections["UK"])
    today = harness.runtime.now().date()
    since = today.replace(day=1).isoformat()
    result = runner.invoke(
        app, ["import", "--since", since, "--until", today.isoformat(), "--organisation", uk]
    )
    assert result.exit_code == 0, result.output
    assert f"organisation {uk}: window 1/" in result.output


def test_a_run_ending_with_a_xero_server_error_exits_non_zero(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: a run that ended with "Xero answered 500" exited 0. The other organisation still
    runs and its line is printed."""
    _environment(harness, monkeypatch)
    today = harness.runtime.now().date()
    since = today.replace(day=1).isoformat()
    assert (
        runner.invoke(app, ["import", "--since", since, "--until", today.isoformat()]).exit_code
        == 0
    )
    harness.map_and_finish("UK")
    harness.xero_admin("POST", "/_sim/faults", {"server_errors": 10_000})
    result = runner.invoke(app, ["sync"])
    harness.xero_admin("POST", "/_sim/faults", {"server_errors": 0})
    assert result.exit_code == 1, result.output
    uk, us = harness.connections["UK"], harness.connections["US"]
    assert f"organisation {uk}: " in result.output
    assert "error: " in result.output.split(f"organisation {uk}: ")[-1]
    assert f"organisation {us}: " in result.output


def test_import_shows_the_xero_cost_first_and_asks_before_a_long_range(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(harness, monkeypatch)
    today = harness.runtime.now().date()
    until = today.isoformat()
    uk = str(harness.connections["UK"])
    short = (today - timedelta(days=14)).isoformat()
    first = runner.invoke(app, ["import", "--since", short, "--until", until, "--organisation", uk])
    assert first.exit_code == 0, first.output
    assert "no purchases stored yet" in first.output
    year = (today - timedelta(days=365)).isoformat()
    declined = runner.invoke(
        app, ["import", "--since", year, "--until", until, "--organisation", uk], input="n\n"
    )
    assert declined.exit_code == 1
    assert re.search(r"about \d+ purchases to post, \d+ Xero calls, about \d+ ", declined.output)
    assert "Start the import?" in declined.output
    assert " new" not in declined.output  # nothing was read
    harness.map_and_finish("UK")
    with transaction(harness.runtime.sessions) as session:  # Xero's day limit is used up
        organisation = session.get_one(XeroConnection, harness.connections["UK"])
        organisation.parked_until = harness.runtime.now() + timedelta(hours=2)
    accepted = runner.invoke(
        app, ["import", "--since", year, "--until", until, "--organisation", uk, "--yes"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "Xero calls" in accepted.output
    assert "new" in accepted.output
    status = runner.invoke(app, ["status"])
    progress = re.search(
        rf"organisation {uk}: posting (\d+) of (\d+) done, (\d+) left", status.output
    )
    assert progress, status.output
    assert int(progress.group(3)) > 0
    assert "after the pause for Xero's daily limit" in status.output
    too_far = (today - timedelta(days=800)).isoformat()
    refused = runner.invoke(app, ["import", "--since", too_far, "--until", until])
    assert refused.exit_code == 2
    assert "at most 730 days" in refused.output
