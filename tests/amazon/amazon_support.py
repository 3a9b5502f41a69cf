"""Constants and helpers the Amazon tests share (imported by the conftest and the tests)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from abxero.amazon import AmazonApi
from abxero_sim.clock import ManualClock

with warnings.catch_warnings():
    # Starlette asks for httpx2 in a later release; its TestClient is an httpx.Client today.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

__all__ = ["BASE_URL", "SEED", "START", "ApiFor", "SimToken", "Sleeps", "TestClient", "set_faults"]

BASE_URL = "http://amazon.test"
START = datetime(2026, 3, 1, tzinfo=UTC)
SEED = 11

SimToken = Callable[[str], dict[str, str]]
ApiFor = Callable[[str], AmazonApi]


class Sleeps:
    """An injectable sleep that moves the simulator's clock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)


def set_faults(http: httpx.Client, **knobs: object) -> None:
    response = http.post("/_sim/faults", json=knobs)
    assert response.status_code == 200, response.text
