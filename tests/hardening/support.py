"""Moves the hardening tests share: import a stretch, finish the setup, count what landed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from abxero.store.models import Event, XeroConnection
from abxero.sync.engine import SyncReport
from tests.e2e.harness import Harness, exactly_once_report

DAYS = 20


def import_and_finish(harness: Harness, region: str, days: int = DAYS) -> None:
    """Fetch ``days`` of history and finish the setup, posting nothing yet."""
    end = harness.runtime.now()
    harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=days), end
    )
    harness.map_and_finish(region)


def post(harness: Harness, region: str) -> SyncReport:
    return harness.runtime.engine_for(harness.connections[region]).post_pending()


def events(harness: Harness, region: str) -> list[Event]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.xero_connection_id == harness.connections[region])
                .order_by(Event.id)
            )
        )


def event_codes(harness: Harness, region: str) -> list[str]:
    return [event.code for event in events(harness, region)]


def connection(harness: Harness, region: str) -> XeroConnection:
    with harness.runtime.sessions() as session:
        return session.get_one(XeroConnection, harness.connections[region])


def assert_exactly_once(harness: Harness, region: str) -> dict[str, object]:
    """Everything fetched is posted or deliberately skipped, and Xero holds it once."""
    report = exactly_once_report(harness, region)
    assert report["xero_documents"] == report["ledger_documents"]
    assert report["unknown_in_xero"] == []
    assert report["mismatched_totals"] == []
    assert report["per_instrument_equal"]
    assert report["payments_in_xero"] == report["ledger_payments"]
    return report


def statuses(harness: Harness, region: str) -> set[str]:
    return {source.status for source in harness.sources(region)}
