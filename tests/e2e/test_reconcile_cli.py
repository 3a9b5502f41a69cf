"""``abxero reconcile`` and ``abxero export`` against a paired world."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abxero.check_commands import CSV_COLUMNS
from abxero.cli import app
from abxero.services.export import COLUMNS
from tests.e2e.harness import Harness
from tests.e2e.test_cli_commands import _environment

pytestmark = pytest.mark.slow
runner = CliRunner()


def _posted_uk(harness: Harness) -> tuple[str, str, str]:
    end = harness.runtime.now()
    uk = harness.connections["UK"]
    harness.runtime.engine_for(uk).import_range(end - timedelta(days=30), end)
    harness.map_and_finish("UK")
    assert harness.runtime.engine_for(uk).post_pending().error == ""
    return str(uk), (end - timedelta(days=30)).date().isoformat(), end.date().isoformat()


def test_reconcile_prints_table_csv_and_json_and_exits_by_result(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(harness, monkeypatch)
    uk, since, until = _posted_uk(harness)
    period = ["--since", since, "--until", until, "--organisation", uk]
    as_json = runner.invoke(app, ["reconcile", *period, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    [entry] = json.loads(as_json.stdout)
    assert entry["status"] == "clean"
    assert entry["instruments"]
    as_csv = runner.invoke(app, ["reconcile", *period, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert tuple(rows[0])[1:] == CSV_COLUMNS
    assert {row["record"] for row in rows} == {"instrument"}

    bill = next(d for d in harness.documents("UK") if d.role in {"bill", "spend"})
    tenant = harness.tenant_id("UK")
    harness.xero_admin(
        "POST", f"/_sim/orgs/{tenant}/documents/{bill.xero_id}", {"Status": "DELETED"}
    )
    table = runner.invoke(app, ["reconcile", *period])
    assert table.exit_code == 1, table.output
    assert "missing_in_xero" in table.output
    assert bill.transaction_id in table.output
    assert "GAP" in table.output


def test_reconcile_refuses_a_wrong_format_or_a_backwards_period(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(harness, monkeypatch)
    wrong = runner.invoke(
        app, ["reconcile", "--since", "2026-01-01", "--until", "2026-01-02", "--format", "xml"]
    )
    assert wrong.exit_code == 2
    backwards = runner.invoke(app, ["export", "--since", "2026-05-10", "--until", "2026-05-01"])
    assert backwards.exit_code == 2
    assert "--until" in backwards.output


def test_export_writes_csv_and_json(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _environment(harness, monkeypatch)
    uk, since, until = _posted_uk(harness)
    period = ["--since", since, "--until", until, "--organisation", uk]
    printed = runner.invoke(app, ["export", *period])
    assert printed.exit_code == 0, printed.output
    target = tmp_path / "out.csv"
    written = runner.invoke(app, ["export", *period, "--output", str(target)])
    assert written.exit_code == 0, written.output
    with target.open(encoding="utf-8", newline="") as stored:
        text = stored.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    assert {row["transaction_id"] for row in rows} == {
        s.transaction_id for s in harness.sources("UK")
    }
    as_json = runner.invoke(app, ["export", *period, "--format", "json"])
    body = json.loads(as_json.stdout)
    assert [list(row.values()) for row in body["rows"]] == [list(row.values()) for row in rows]
