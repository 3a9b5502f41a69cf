"""Browser fixtures: Debian's Chromium through Playwright, the app with a worker thread, and
both simulators on loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from abxero.web.server import RunningApp, run_with_worker
from abxero.web.serving import free_port
from tests.web.web_support import Sims, fresh_simulators, settings_for, simulators_served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = (
    Path(
        os.environ.get("ABXERO_TEST_ARTIFACTS")
        or Path(__file__).resolve().parents[2] / "test-artifacts"
    )
    / "screenshots"
)
"""Where each journey's screenshots are kept (``test-artifacts/`` is ignored by git); set
``ABXERO_TEST_ARTIFACTS`` to keep them elsewhere, e.g. a CI artifacts folder."""


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def sims() -> Iterator[Sims]:
    with simulators_served() as running:
        yield running


@pytest.fixture
def outside(sims: Sims) -> Iterator[httpx.Client]:
    with fresh_simulators(sims) as client:
        yield client


@pytest.fixture
def live(sims: Sims, outside: httpx.Client, tmp_path: Path) -> Iterator[RunningApp]:
    port = free_port()
    settings = settings_for(sims, tmp_path, f"http://127.0.0.1:{port}")
    with run_with_worker(settings, port=port, periodic=False) as running:
        yield running


@dataclass
class Shots:
    """Saves a full-page screenshot per step, named after the test."""

    page: Page
    prefix: str

    def take(self, step: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{step}.png"), full_page=True)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shots(page: Page, request: pytest.FixtureRequest) -> Shots:
    return Shots(page, request.node.name.removeprefix("test_"))
