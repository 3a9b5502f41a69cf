"""Fixtures: a simulator on a manual clock, and clients that talk to it over HTTP."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from abxero.xero import AccountingTransport, Pacer, RetryPolicy, XeroAccounting, XeroAuth
from abxero_sim.clock import ManualClock
from abxero_sim.xero import LimitSettings, create_app
from abxero_sim.xero.spec import SpecValidator, load_validator
from tests.xero.xero_support import BASE, CLIENT_ID, CLIENT_SECRET, REDIRECT, ApiFactory

warnings.filterwarnings("ignore", message=".*httpx2.*")
HERE = str(Path(__file__).parent)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 7, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def limits() -> LimitSettings:
    return LimitSettings()


@pytest.fixture
def http(clock: ManualClock, limits: LimitSettings) -> Iterator[httpx.Client]:
    app = create_app(seed=7, clock=clock, limits=limits)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def sim_token(http: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = http.post("/_sim/token", json={}).json()
    return body


@pytest.fixture
def auth(http: httpx.Client, clock: ManualClock) -> XeroAuth:
    return XeroAuth(
        http,
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT,
        login_url=BASE,
        identity_url=BASE,
        api_url=BASE,
        now=clock.now,
    )


@pytest.fixture
def sleeps(clock: ManualClock) -> list[float]:
    return []


@pytest.fixture
def make_api(
    http: httpx.Client, sim_token: dict[str, Any], clock: ManualClock, sleeps: list[float]
) -> ApiFactory:
    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    def build(key: str = "uk", token: str | None = None, **transport: Any) -> XeroAccounting:
        access = token or sim_token["access_token"]
        pacer = Pacer(monotonic=clock.monotonic, sleep=fake_sleep)
        return XeroAccounting(
            AccountingTransport(
                http,
                f"{BASE}/api.xro/2.0",
                sim_token["tenants"][key],
                lambda: access,
                pacer=pacer,
                sleep=fake_sleep,
                now=clock.now,
                retry=transport.pop("retry", RetryPolicy()),
                **transport,
            )
        )

    return build


@pytest.fixture
def uk(make_api: ApiFactory) -> XeroAccounting:
    return make_api("uk")


@pytest.fixture
def us(make_api: ApiFactory) -> XeroAccounting:
    return make_api("us")


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    """Xero's OpenAPI description; ``SpecsMissing`` (naming the path and ABXERO_SPECS_DIR) is
    an error, never a skip."""
    return load_validator()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The TestClient warns about per-request timeouts, which our client always sets."""
    for item in items:
        if HERE in str(item.path):
            item.add_marker(
                pytest.mark.filterwarnings("ignore:You should not use the .timeout. argument")
            )
