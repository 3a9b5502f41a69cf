"""The Xero simulator's own tests use the fixtures of the client tests (tests/xero/conftest.py):
one simulator on a manual clock, the spec validator, and clients over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.xero.conftest import (  # noqa: F401 - fixtures, found by name
    auth,
    clock,
    http,
    limits,
    make_api,
    sim_token,
    sleeps,
    spec,
    uk,
    us,
)

HERE = str(Path(__file__).parent)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The TestClient warns about per-request timeouts, which our client always sets."""
    for item in items:
        if HERE in str(item.path):
            item.add_marker(
                pytest.mark.filterwarnings("ignore:You should not use the .timeout. argument")
            )
