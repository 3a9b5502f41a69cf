"""`abxero sync` when Xero refuses to let the organisation be read: a message, no traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from abxero.cli import app
from tests.e2e.harness import Harness
from tests.e2e.test_cli_commands import _environment

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_a_xero_400_while_reading_the_organisation_is_a_clear_failure(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 400 is what Xero answers a request it will not serve (xero-api.md, errors); the sync
    must say so with the remedy and exit non-zero, never print a Python traceback."""
    _environment(harness, monkeypatch)
    harness.map_and_finish("UK")
    harness.xero_admin("POST", "/_sim/faults", {"server_errors": 50, "server_error_status": 400})
    result = runner.invoke(app, ["sync", "--organisation", str(harness.connections["UK"])])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Xero refused a request" in result.output
    assert "what to do: Check in Xero that the organisation is active" in result.output
