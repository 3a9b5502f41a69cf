"""``abxero demo`` and ``abxero simulators`` come from abxero-sim, added to the product's CLI
through the ``abxero.cli`` entry-point group (or, from a bare checkout, by module name)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from abxero import cli as product_cli
from abxero_sim import cli as sim_cli
from abxero_sim.specs import SPECS_ENV

runner = CliRunner()


def names(app: typer.Typer) -> set[str]:
    return {command.callback.__name__ for command in app.registered_commands if command.callback}


def test_the_product_cli_has_the_simulators_commands() -> None:
    assert {"demo", "simulators"} <= names(product_cli.app)
    assert {"demo", "simulators"} == names(sim_cli.app)


def test_extra_commands_are_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the entry point installed (abxero-sim in the environment) the by-name lookup of a
    bare checkout does not add the commands a second time."""
    monkeypatch.setattr(product_cli, "entry_points", lambda group: [product_cli.SIMULATOR_COMMANDS])
    target = typer.Typer()
    product_cli.load_extra_commands(target)
    assert sorted(c.callback.__name__ for c in target.registered_commands if c.callback) == [
        "demo",
        "simulators",
    ]


def test_without_the_specs_the_commands_say_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SPECS_ENV, str(tmp_path))
    assert sim_cli.specs_present() is False
    said = capsys.readouterr().err
    assert str(tmp_path / "xero" / "xero_accounting.yaml") in said
    assert SPECS_ENV in said
    assert "without checking" in said


def test_with_the_specs_nothing_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    assert sim_cli.specs_present() is True
    assert capsys.readouterr().err == ""
