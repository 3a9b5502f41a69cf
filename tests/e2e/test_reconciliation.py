"""The reconciliation check reads Xero back over HTTP (paged, paced) and compares it with the
stored Amazon feed: clean after a 90-day import, and every difference named after people
change Xero behind abxero's back."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from huey import Huey
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.services.reconcile import Period, run_check
from abxero.store.db import transaction
from abxero.store.models import Event, OutboxDocument, ReconciliationResult, XeroConnection
from tests.e2e.harness import Harness, running_harness

pytestmark = pytest.mark.slow


def _import_and_post(harness: Harness, region: str, leave_unmapped: tuple[str, ...] = ()) -> Period:
    end = harness.runtime.now()
    engine = harness.runtime.engine_for(harness.connections[region])
    engine.import_range(end - timedelta(days=90), end)
    harness.map_and_finish(region, leave_unmapped=leave_unmapped)
    report = harness.runtime.engine_for(harness.connections[region]).post_pending()
    assert report.error == ""
    return Period(end.date() - timedelta(days=90), end.date())


def _body(harness: Harness, region: str, period: Period) -> tuple[str, dict[str, Any]]:
    row = run_check(harness.runtime, harness.connections[region], period)
    return row.status, jsontext.loads(row.body)


def _reads(harness: Harness) -> dict[str, int]:
    stats = harness.xero_admin("GET", "/_sim/stats")
    return {
        endpoint: sum(counts.values()) if isinstance(counts, dict) else int(counts)
        for endpoint, counts in stats.get("requests", {}).items()
    }


def test_reading_back_more_than_a_page_reads_every_page(tmp_path: Path, database_url: str) -> None:
    """Three orders a day for 90 days: more than 100 bills and payments, so Xero's listing
    answers in pages of 100 and the check must ask for the second page too."""
    with running_harness(tmp_path, database_url, orders_per_day=3.0) as harness:
        period = _import_and_post(harness, "US")
        status, body = _body(harness, "US", period)
        assert status == "clean", body["differences"][:3]
        assert sum(line["transactions"] for line in body["instruments"]) > 200
        recent = harness.xero_admin("GET", "/_sim/stats")["recent_requests"]
        pages = {
            (r["path"].rstrip("/").split("/")[-1], dict(r["query"]).get("page"))
            for r in recent
            if any(name == "where" and "DateTime" in value for name, value in r["query"])
        }
        assert ("Invoices", "2") in pages
        assert ("Payments", "2") in pages


@pytest.mark.parametrize("region", ["US", "UK"])
def test_a_ninety_day_import_reconciles_clean(harness: Harness, region: str) -> None:
    period = _import_and_post(harness, region)
    status, body = _body(harness, region, period)
    assert status == "clean", [
        (d["kind"], d["reason"], d["role"], d["amazon_amount"], d["xero_amount"], d["xero_status"])
        for d in body["differences"]
    ][:6]
    assert body["differences"] == []
    lines = body["instruments"]
    assert sum(line["transactions"] for line in lines) > 20
    for line in lines:
        assert line["amazon_total"] == line["xero_total"], line
        assert line["paid_expected"] == line["paid_in_xero"], line
        assert line["clean"]
        assert line["unexplained"] == 0
    assert any(line["paid_expected"] for line in lines)


class SomeoneInXero:
    """Another user of the organisation, changing documents in Xero behind abxero's back:
    through the Accounting API where Xero offers it (removing a payment is
    ``POST /Payments/{id}`` with ``Status: DELETED``, xero_accounting.yaml deletePayment), and
    through the simulator's admin knob for what only the web app does (editing an amount,
    deleting a bill)."""

    def __init__(self, harness: Harness, region: str) -> None:
        self.harness = harness
        self.tenant = harness.tenant_id(region)
        token = harness.xero_admin("POST", "/_sim/token", {})
        self.headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "xero-tenant-id": self.tenant,
        }

    def remove_payment(self, payment_id: str) -> None:
        answer = httpx.post(
            f"{self.harness.world.xero_url}/api.xro/2.0/Payments/{payment_id}",
            json={"Status": "DELETED"},
            headers=self.headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    def add_bill(self, contact_id: str, day: date, amount: float) -> str:
        bill = {
            "Type": "ACCPAY",
            "Contact": {"ContactID": contact_id},
            "Date": day.isoformat(),
            "InvoiceNumber": "GONE-FROM-AMAZON-1",
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [
                {
                    "Description": "Amazon order",
                    "Quantity": 1,
                    "UnitAmount": amount,
                    "AccountCode": "628",
                }
            ],
        }
        answer = httpx.put(
            f"{self.harness.world.xero_url}/api.xro/2.0/Invoices",
            json={"Invoices": [bill]},
            headers=self.headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["Invoices"][0]["InvoiceID"])

    def edit(self, document_id: str, **change: object) -> None:
        self.harness.xero_admin("POST", f"/_sim/orgs/{self.tenant}/documents/{document_id}", change)


def _broken_record(harness: Harness, business_id: str) -> dict[str, Any]:
    listed = harness.amazon_admin("GET", f"/_sim/transactions?business_id={business_id}&count=1")
    record = dict(listed["transactions"][0] if isinstance(listed, dict) else listed[0])
    moment = harness.runtime.now() - timedelta(days=3)
    record.update(
        transactionId="BROKEN-TYPE-1",
        transactionType="MYSTERY",
        feedDate=moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        transactionDate=moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    harness.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": business_id, "transactions": [record]}
    )
    return record


def _documents(harness: Harness, region: str) -> dict[str, dict[str, OutboxDocument]]:
    grouped: dict[str, dict[str, OutboxDocument]] = {}
    for document in harness.documents(region):
        grouped.setdefault(document.transaction_id, {})[document.role] = document
    return grouped


def test_every_difference_is_named(harness: Harness) -> None:
    region, cid = "US", harness.connections["US"]
    broken = _broken_record(harness, "us-acme")
    end = harness.runtime.now()
    harness.runtime.engine_for(cid).import_range(end - timedelta(days=90), end)
    cards = sorted(
        {s.instrument_key for s in harness.sources(region) if s.instrument_key}
        - {"Pay by Invoice"},
        key=lambda key: sum(1 for s in harness.sources(region) if s.instrument_key == key),
    )
    unmapped = cards[0]
    harness.map_and_finish(region, leave_unmapped=(unmapped,))
    assert harness.runtime.engine_for(cid).post_pending().error == ""
    period = Period(end.date() - timedelta(days=90), end.date())
    assert _body(harness, region, period)[1]["instruments"]  # the baseline is readable

    by_transaction = _documents(harness, region)
    paid = sorted(t for t, roles in by_transaction.items() if {"bill", "payment"} <= set(roles))
    untouched = {
        bill["InvoiceID"]
        for bill in harness.organisation_state(region)["invoices"]
        if bill["AmountPaid"] == 0 and bill["AmountCredited"] == 0
    }
    unpaid = sorted(
        t
        for t, roles in by_transaction.items()
        if set(roles) == {"bill"} and roles["bill"].xero_id in untouched
    )
    deleted, voided_payment, edited = paid[0], paid[1], unpaid[0]
    someone = SomeoneInXero(harness, region)
    someone.remove_payment(by_transaction[deleted]["payment"].xero_id)
    someone.edit(by_transaction[deleted]["bill"].xero_id, Status="DELETED")
    someone.remove_payment(by_transaction[voided_payment]["payment"].xero_id)
    someone.edit(by_transaction[edited]["bill"].xero_id, add_to_first_line="5.00")
    with harness.runtime.sessions() as session:
        contact = session.get_one(XeroConnection, cid).contact_id
    extra_id = someone.add_bill(contact, end.date() - timedelta(days=2), 12.34)

    status, body = _body(harness, region, period)
    assert status == "gaps"
    named = {
        (d["kind"], d["transaction_id"] or d["xero_id"], d["role"]) for d in body["differences"]
    }
    held = {s.transaction_id for s in harness.sources(region) if s.status == "held"}
    assert held
    assert all(("held", t, "") in named for t in held)
    assert ("quarantined", broken["transactionId"], "") in named
    assert ("missing_in_xero", deleted, "bill") in named
    assert ("missing_in_xero", deleted, "payment") in named
    assert ("missing_in_xero", voided_payment, "payment") in named
    assert ("changed_in_xero", edited, "bill") in named
    assert ("extra_in_xero", extra_id, "bill") in named
    assert len(named) == len(held) + 6
    differences = {
        (d["kind"], d["transaction_id"] or d["xero_id"], d["role"]): d for d in body["differences"]
    }
    bill = differences[("missing_in_xero", deleted, "bill")]
    assert bill["xero_status"] == "DELETED"
    assert bill["xero_link"].endswith(f"/AccountsPayable/Edit.aspx?InvoiceID={bill['xero_id']}")
    changed = differences[("changed_in_xero", edited, "bill")]
    assert changed["xero_amount"] - changed["amazon_amount"] == Decimal("5.00")
    held_reason = differences[("held", sorted(held)[0], "")]["reason"]
    assert held_reason
    for line in body["instruments"]:
        assert line["unexplained"] == 0, line  # every cent of every gap is accounted for
        assert line["clean"] == (line["differences"] == 0)
    assert {line["instrument"] for line in body["instruments"] if not line["clean"]} >= {
        unmapped,
        "(unreadable record)",
        "(not in Amazon's feed)",
    }
    with harness.runtime.sessions() as session:
        events = session.scalars(
            select(Event).where(Event.xero_connection_id == cid, Event.code == "reconciliation_gap")
        ).all()
    assert len(events) == 2  # the baseline's gaps (held, quarantined), then the new ones
    assert _body(harness, region, period)[0] == "gaps"
    with harness.runtime.sessions() as session:
        again = session.scalars(
            select(Event).where(Event.xero_connection_id == cid, Event.code == "reconciliation_gap")
        ).all()
    assert len(again) == 2  # the same gaps again raise no new event
    _assert_paged_reads(harness)


def _assert_paged_reads(harness: Harness) -> None:
    """Every listing went out with ``page`` and ``pageSize=100`` (xero_accounting.yaml)."""
    recent = harness.xero_admin("GET", "/_sim/stats")["recent_requests"]
    listings = [
        dict(r["query"])
        for r in recent
        if r["path"].rstrip("/").split("/")[-1]
        in {"Invoices", "CreditNotes", "BankTransactions", "Payments"}
        and any(name == "where" for name, _ in r["query"])
    ]
    assert listings
    assert all(q.get("pageSize") == "100" and q.get("page") for q in listings)


def _daily_results(harness: Harness, cid: int) -> list[ReconciliationResult]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(ReconciliationResult).where(
                    ReconciliationResult.xero_connection_id == cid,
                    ReconciliationResult.trigger == "daily",
                )
            )
        )


def _tick_and_run_checks(jobs: Jobs, queue: Huey) -> list[str]:
    """One tick; runs the reconciliation tasks it queued (the syncs and PDF lanes it also
    queues are other tests' business) and returns the names of everything queued."""
    jobs.tick()
    names = []
    while (task := queue.dequeue()) is not None:
        names.append(task.name)
        if task.name == "reconcile_connection":
            queue.execute(task)
    return names


def test_the_tick_checks_each_organisation_once_a_day(harness: Harness) -> None:
    period = _import_and_post(harness, "UK")
    uk = harness.connections["UK"]
    queue = build_queue(f"sqlite:///{harness.data_dir / 'queue.db'}")
    jobs = Jobs(queue, lambda: harness.runtime, periodic=False)
    assert "reconcile_connection" in _tick_and_run_checks(jobs, queue)
    first = _daily_results(harness, uk)
    assert [row.status for row in first] == ["clean"]
    assert (first[0].since, first[0].until) == (period.since + timedelta(days=1), period.until)
    assert "reconcile_connection" not in _tick_and_run_checks(jobs, queue)  # once a day
    jobs.reconcile_connection(uk, "", "", "daily")  # a repeat delivery does nothing either
    assert len(_daily_results(harness, uk)) == 1
    with transaction(harness.runtime.sessions) as session:
        stored = session.get_one(ReconciliationResult, first[0].id)
        stored.finished_at = harness.runtime.now() - timedelta(hours=25)
    _tick_and_run_checks(jobs, queue)
    assert len(_daily_results(harness, uk)) == 2


def test_a_check_that_cannot_read_xero_is_stored_as_failed_with_its_cause(
    harness: Harness,
) -> None:
    period = _import_and_post(harness, "UK")
    uk = harness.connections["UK"]
    harness.xero_admin("POST", "/_sim/faults", {"disconnected_tenants": [harness.tenant_id("UK")]})
    row = run_check(harness.runtime, uk, period)
    assert row.status == "failed"
    assert "Xero" in row.error
    with harness.runtime.sessions() as session:
        events = session.scalars(
            select(Event).where(
                Event.xero_connection_id == uk, Event.code == "reconciliation_failed"
            )
        ).all()
    assert len(events) == 1
    assert events[0].remedy
