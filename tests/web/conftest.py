"""Fixtures: both simulators on loopback ports, a real Runtime on a SQLite file, and the app
under a TestClient whose queue runs each task inline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.store.migrate import upgrade
from abxero.web import create_app
from tests.web.web_support import (
    Sims,
    amazon_consent,
    csrf_of,
    fresh_simulators,
    path_of,
    query_of,
    settings_for,
    simulators_served,
    xero_consent,
)

APP_URL = "http://127.0.0.1:8765"


@pytest.fixture(scope="session")
def sims() -> Iterator[Sims]:
    with simulators_served() as running:
        yield running


@pytest.fixture
def outside(sims: Sims) -> Iterator[httpx.Client]:
    """A plain HTTP client for the simulators' pages and admin routes, reset for each test."""
    with fresh_simulators(sims) as client:
        yield client


@pytest.fixture
def runtime(sims: Sims, tmp_path: Path, outside: httpx.Client) -> Iterator[Runtime]:
    settings = settings_for(sims, tmp_path, APP_URL)
    upgrade(settings.resolved_database_url)
    built = Runtime(settings)
    yield built
    built.close()


@pytest.fixture
def jobs(runtime: Runtime) -> Jobs:
    return Jobs(
        build_queue(runtime.settings.resolved_queue_url, immediate=True),
        lambda: runtime,
        periodic=False,
    )


@pytest.fixture
def web(runtime: Runtime, jobs: Jobs) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, jobs), base_url=APP_URL, follow_redirects=False) as client:
        yield client


@dataclass
class Browser:
    """The app client plus the moves a person makes on the outside consent pages."""

    web: TestClient
    outside: httpx.Client
    runtime: Runtime

    def csrf(self, path: str = "/") -> str:
        return csrf_of(self.web.get(path, follow_redirects=True).text)

    def post(
        self, path: str, data: dict[str, str] | None = None, page: str = "/"
    ) -> httpx.Response:
        return self.web.post(path, data={"csrf_token": self.csrf(page), **(data or {})})

    def sign_in(self, tenants: list[str] | None = None) -> httpx.Response:
        start = self.post("/auth/xero/start")
        assert start.status_code == 303
        back = xero_consent(self.outside, start.headers["location"], tenants or ["us", "uk"], True)
        return self.web.get(path_of(back))

    def organisation_ids(self) -> dict[str, int]:
        from abxero.services.connections import organisations_for

        with self.runtime.sessions() as session:
            user = self.web_user()
            return {o.name: o.connection_id for o in organisations_for(session, user)}

    def web_user(self) -> int:
        from abxero.store.models import User

        with self.runtime.sessions() as session:
            return session.query(User).one().id

    def connect_amazon(
        self, connection_id: int, region: str, business_id: str, allow: bool = True
    ) -> httpx.Response:
        page = f"/orgs/{connection_id}/setup/amazon"
        start = self.post(page, {"region": region}, page)
        assert start.status_code == 303, start.text
        back = amazon_consent(self.outside, start.headers["location"], business_id, allow)
        assert query_of(back)["state"]
        return self.web.get(path_of(back))


@pytest.fixture
def browser(web: TestClient, outside: httpx.Client, runtime: Runtime) -> Browser:
    return Browser(web, outside, runtime)


OrgIds = Callable[[], dict[str, int]]


def set_up_organisation(
    browser: Browser,
    name: str,
    region: str,
    business_id: str,
    cards: dict[str, str],
    days: int = 10,
) -> int:
    """The whole wizard over HTTP: connect, import ``days``, map ``cards``, finish."""
    from datetime import timedelta

    from tests.web.web_support import form_fields

    organisation = browser.organisation_ids()[name]
    assert browser.connect_amazon(organisation, region, business_id).status_code == 303
    today = browser.runtime.now().date()
    page = f"/orgs/{organisation}/setup/import"
    started = browser.post(
        page, {"first": (today - timedelta(days=days)).isoformat(), "last": today.isoformat()}, page
    )
    assert started.status_code == 303
    browser.post(f"{page}/continue", {}, page)
    fields = form_fields(browser.web.get(f"/orgs/{organisation}/setup/mapping").text)
    for key, choice in cards.items():
        fields[f"payment_methods['{key}']"] = choice
    saved = browser.web.post(f"/orgs/{organisation}/setup/mapping", data=fields)
    assert saved.status_code == 303, saved.text
    finished = browser.post(
        f"/orgs/{organisation}/setup/finish", {}, f"/orgs/{organisation}/setup/review"
    )
    assert finished.headers["location"] == f"/orgs/{organisation}"
    return organisation


def xero_state(browser: Browser) -> dict[str, object]:
    state: dict[str, object] = browser.outside.get(
        f"{browser.runtime.settings.xero_api_url}/_sim/state"
    ).json()
    return state


def sim_invoices(browser: Browser, key: str) -> list[dict[str, object]]:
    """The bills (ACCPAY invoices) in the Xero simulator's organisation ``key``."""
    organisations = xero_state(browser)["organisations"]
    assert isinstance(organisations, list)
    found = next(org for org in organisations if org["key"] == key)
    return [invoice for invoice in found["invoices"] if invoice.get("Type") == "ACCPAY"]
