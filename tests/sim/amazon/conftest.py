"""The Amazon Business simulator's own tests use the fixtures of the client tests
(tests/amazon/conftest.py): one in-process simulator on a manual clock, and its tokens."""

from __future__ import annotations

from tests.amazon.conftest import (  # noqa: F401 - fixtures, found by name
    api_for,
    app,
    clock,
    http,
    sim_token,
    sleeps,
)
