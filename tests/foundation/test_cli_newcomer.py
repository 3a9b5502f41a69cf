"""A newcomer's first commands: a database never upgraded, and copying the simulators' settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from abxero.cli import app
from abxero.store.db import make_engine
from abxero_sim import amazon as amazon_sim

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src"


def fresh_environment(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.delenv("ABXERO_DATABASE_URL", raising=False)
    monkeypatch.setenv("ABXERO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize(
    "command",
    [["status"], ["sync"], ["import", "--since", "2026-01-01", "--until", "2026-01-31"]],
)
def test_a_command_on_a_never_upgraded_sqlite_file_upgrades_it_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    fresh_environment(monkeypatch, tmp_path)
    result = runner.invoke(app, command)
    assert result.exception is None, result.output
    assert result.exit_code == 0
    assert "has no abxero schema yet; upgraded it to" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'abxero.db'}")
    assert "sync_runs" in inspect(engine).get_table_names()
    engine.dispose()
    again = runner.invoke(app, command)
    assert again.exit_code == 0
    assert "upgraded" not in again.output


@pytest.mark.postgres
def test_a_command_on_a_never_upgraded_postgresql_database_names_the_command(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import empty_database

    url = empty_database(request, "postgresql", tmp_path_factory)
    monkeypatch.setenv("ABXERO_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "has no abxero schema yet" in result.output
    assert "Run `abxero db upgrade`" in result.output
    engine = make_engine(url)
    assert "sync_runs" not in inspect(engine).get_table_names()
    engine.dispose()


def test_simulator_settings_are_printed_unwrapped_on_a_narrow_pipe(tmp_path: Path) -> None:
    """rich wraps at 80 columns (here 30) when stdout is a pipe; copied values must stay whole."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(SRC),
        "COLUMNS": "30",
        "ABXERO_DATA_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "abxero.cli",
            "simulators",
            "--amazon-port",
            "0",
            "--xero-port",
            "0",
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl+C"):
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    exports = [line.strip() for line in lines if line.strip().startswith("export ")]
    assert len(exports) == 13, lines
    assert f"export ABXERO_AMAZON_APPLICATION_ID={amazon_sim.DEFAULT_APPLICATION_ID}" in exports
    assert f"export ABXERO_AMAZON_CLIENT_SECRET={amazon_sim.DEFAULT_CLIENT_SECRET}" in exports
    for line in exports:
        name, _, value = line.removeprefix("export ").partition("=")
        assert name.startswith("ABXERO_")
        assert value
