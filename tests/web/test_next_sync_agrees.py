"""`abxero status` and the manage page show the same next sync for the same organisation: both
ask sync/due.py. Before, a finished organisation that had never synced showed no next sync in
the CLI and "now" on the page; it is due now (the scheduler queues it at its next tick)."""

from __future__ import annotations

import html
import io
from datetime import datetime, timedelta

import pytest
from rich.console import Console

from abxero.commands import organisation_statuses, status_table
from abxero.services import manage
from abxero.store.db import transaction
from abxero.store.models import SyncRun, XeroConnection
from abxero.sync.due import due_connections
from abxero.web.pages import when
from tests.web.conftest import Browser, set_up_organisation

CARDS = {"Visa/0071": "account:093"}


def _cli_row(browser: Browser, organisation: int) -> str:
    console = Console(record=True, width=300, file=io.StringIO())
    console.print(status_table(organisation_statuses(browser.runtime)))
    lines = console.export_text().splitlines()
    return next(line for line in lines if line.strip("│┃ ").startswith(f"{organisation} "))


def _page_cell(browser: Browser, organisation: int) -> str:
    page = browser.web.get(f"/orgs/{organisation}").text
    return html.unescape(page.split('id="next-sync">')[1].split("</dd>")[0])


def _agree(browser: Browser, organisation: int) -> datetime | None:
    """The next sync both show; asserts they show the same one."""
    cli = {item.connection_id: item for item in organisation_statuses(browser.runtime)}
    page = manage.status(browser.runtime.sessions, organisation, browser.runtime.now())
    assert cli[organisation].next_sync_at == page.next_sync_at
    shown = page.next_sync_at
    if shown is None:
        assert "not scheduled" in _page_cell(browser, organisation)
        assert " — " in _cli_row(browser, organisation)
    else:
        assert _page_cell(browser, organisation).startswith(when(shown))
        assert f"{shown:%Y-%m-%d %H:%M} UTC" in _cli_row(browser, organisation)
    return shown


def test_cli_and_manage_page_show_the_same_next_sync(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, "Demo Company (US)", "US", "us-bluebird", CARDS)
    now = browser.runtime.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    monkeypatch.setattr(browser.runtime, "now", lambda: now)  # one clock for page and CLI

    def change(**values: object) -> None:
        with transaction(browser.runtime.sessions) as session:
            row = session.get_one(XeroConnection, organisation)
            for name, value in values.items():
                setattr(row, name, value)

    change(last_sync_at=None, parked_until=None)  # finished setup, never synced: due now
    assert _agree(browser, organisation) == now
    with browser.runtime.sessions() as session:
        assert organisation in due_connections(session, now)

    change(last_sync_at=now - timedelta(minutes=5))  # synced recently: after the interval
    with browser.runtime.sessions() as session:
        interval = session.get_one(XeroConnection, organisation).sync_interval_minutes
    assert interval > 5
    assert _agree(browser, organisation) == now + timedelta(minutes=interval - 5)

    change(last_sync_at=now - timedelta(days=1), parked_until=now + timedelta(hours=3))
    assert _agree(browser, organisation) == now + timedelta(hours=3)  # paused by Xero's limit
    assert "(parked)" in _cli_row(browser, organisation)

    change(parked_until=None)
    with transaction(browser.runtime.sessions) as session:  # a failed run: wait 2 minutes
        session.add(
            SyncRun(
                xero_connection_id=organisation,
                kind="sync",
                status="failed",
                error="Xero was down",
                started_at=now,
                finished_at=now,
            )
        )
    assert _agree(browser, organisation) == now + timedelta(minutes=2)

    change(status="needs_reconnect")  # nothing is scheduled until Xero is reconnected
    assert _agree(browser, organisation) is None
