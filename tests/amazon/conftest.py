"""Fixtures for the Amazon Business client and simulator tests: one in-process simulator on a
manual clock, and helpers to get tokens and API sessions for its businesses."""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from abxero.amazon import AmazonApi, RetryPolicy, StaticToken
from abxero_sim.amazon import create_app
from abxero_sim.clock import ManualClock
from tests.amazon.amazon_support import BASE_URL, SEED, START, ApiFor, SimToken, Sleeps, TestClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(clock: ManualClock) -> Starlette:
    return create_app(SEED, admin=True, clock=clock)


@pytest.fixture
def http(app: Starlette) -> Iterator[httpx.Client]:
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def sim_token(http: httpx.Client) -> SimToken:
    def issue(business_id: str) -> dict[str, str]:
        response = http.post("/_sim/token", json={"business_id": business_id})
        assert response.status_code == 200
        body: dict[str, str] = response.json()
        return body

    return issue


@pytest.fixture
def sleeps(clock: ManualClock) -> Sleeps:
    return Sleeps(clock)


@pytest.fixture
def api_for(http: httpx.Client, sim_token: SimToken, sleeps: Sleeps) -> ApiFor:
    def build(business_id: str) -> AmazonApi:
        token = sim_token(business_id)["access_token"]
        return AmazonApi(
            http,
            BASE_URL,
            StaticToken(token),
            retry=RetryPolicy(attempts=5, base_delay=0.5, max_delay=120),
            sleep=sleeps,
            rng=random.Random(1),
        )

    return build
