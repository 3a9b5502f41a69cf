"""Rolling back a period takes abxero's documents out of Xero exactly once, keeps what is
reconciled, survives SIGKILL anywhere, and a later import posts each transaction once again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from abxero.domain.mapping import AccountPayment, PaymentPolicy
from abxero.services import rollback
from abxero.store.db import transaction
from abxero.store.models import XeroConnection
from abxero.sync.mappings import save_mapping
from abxero_sim.demo import demo_mapping
from tests.conftest import empty_database
from tests.e2e.harness import Harness, abxero_environment, running_harness
from tests.e2e.rollback_worker import LEASE_SECONDS

pytestmark = pytest.mark.slow
GONE = {"DELETED", "VOIDED"}
KINDS = ("invoices", "credit_notes", "bank_transactions")


def _import(harness: Harness, region: str) -> None:
    end = harness.runtime.now()
    report = harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=90), end
    )
    assert report.error == ""


def _import_and_post(harness: Harness, region: str) -> None:
    """Fetch 90 days, map (US cards as bill + payment, UK cards as Spend Money), post."""
    _import(harness, region)
    connection_id = harness.connections[region]
    mapping = demo_mapping(harness.runtime, connection_id)
    policy = PaymentPolicy.SPEND_MONEY if region == "UK" else PaymentPolicy.BILL_AND_PAYMENT
    methods = {
        key: method.model_copy(update={"policy": policy})
        if isinstance(method, AccountPayment)
        else method
        for key, method in mapping.payment_methods.items()
    }
    with transaction(harness.runtime.sessions) as session:
        chosen = mapping.model_copy(update={"payment_methods": methods})
        save_mapping(session, connection_id, chosen)
        session.get_one(XeroConnection, connection_id).setup_step = "done"
    assert harness.runtime.engine_for(connection_id).post_pending().error == ""


def _contact(harness: Harness, region: str) -> str:
    with harness.runtime.sessions() as session:
        return session.get_one(XeroConnection, harness.connections[region]).contact_id


def xero_books(harness: Harness, region: str) -> dict[str, Any]:
    """What Xero holds now: our live documents (kind, reference, total), live payments and
    allocations, and the trial balance."""
    state = harness.organisation_state(region)
    contact = _contact(harness, region)
    documents: Counter[tuple[str, str, str]] = Counter()
    for kind in KINDS:
        for doc in state[kind]:
            if doc.get("Contact", {}).get("ContactID") == contact and doc["Status"] not in GONE:
                number = str(doc.get("InvoiceNumber") or doc.get("Reference") or "")
                documents[(kind, number, str(Decimal(str(doc["Total"]))))] += 1
    return {
        "documents": documents,
        "payments": sum(1 for p in state["payments"] if p["Status"] != "DELETED"),
        "allocations": len(state["allocations"]),
        "trial_balance": state["trial_balance"]["accounts"],
    }


def _one_set_per_transaction(harness: Harness, region: str, first: dict[str, Any]) -> None:
    """Xero holds again what the first posting left (same documents, payments, allocations,
    trial balance), and each live document is one posted ledger document."""
    books = xero_books(harness, region)
    assert books == first
    posted = [d for d in harness.documents(region) if d.status == "posted"]
    main = [d for d in posted if d.role in {"bill", "credit_note", "spend", "receive"}]
    assert len(main) == sum(books["documents"].values()) > 10
    assert books["payments"] == sum(1 for d in posted if d.role in {"payment", "refund"})


@pytest.mark.parametrize("region", ["US", "UK"])
def test_rollback_of_an_import_empties_xero_and_a_reimport_posts_once(
    harness: Harness, region: str
) -> None:
    before = xero_books(harness, region)
    _import_and_post(harness, region)
    posted = xero_books(harness, region)
    assert sum(posted["documents"].values()) > 10
    connection_id = harness.connections[region]
    end = harness.runtime.now() + timedelta(days=1)
    preview = rollback.preview(harness.runtime, connection_id, end - timedelta(days=120), end)
    assert preview.status == "previewed"
    assert preview.kept == []
    assert xero_books(harness, region) == posted  # a preview changes nothing
    main_count = sum(preview.counts.get(action, 0) for action in ("void", "delete"))
    assert main_count == sum(posted["documents"].values())
    assert preview.counts.get("delete_payment", 0) == posted["payments"]
    done = rollback.carry_out(harness.runtime, connection_id, preview.rollback_id)
    assert done.status == "done"
    assert xero_books(harness, region) == before
    statuses = {s.status for s in harness.sources(region)}
    assert "posted" not in statuses
    # a sync leaves rolled-back transactions alone; an import of their period posts them once
    harness.runtime.engine_for(connection_id).sync()
    assert xero_books(harness, region) == before
    _import(harness, region)
    _one_set_per_transaction(harness, region, posted)
    stats = harness.xero_admin("GET", "/_sim/stats")
    assert stats["spec_loaded"]
    assert not stats["spec_rejections"]
    assert not stats["spec_validation_failures"]
    removals = {e for e in stats["requests"] if e.startswith(("POST", "DELETE"))}
    expected = {
        "US": {
            "POST /Invoices/{id}",
            "POST /CreditNotes/{id}",
            "POST /Payments/{id}",
            "DELETE /CreditNotes/{id}/Allocations/{FileName}",
        },
        "UK": {"POST /Invoices/{id}", "POST /BankTransactions/{id}"},
    }
    assert removals >= expected[region]


def test_reconciled_items_are_kept_and_listed_with_the_reason(harness: Harness) -> None:
    _import_and_post(harness, "US")
    connection_id = harness.connections["US"]
    documents = harness.documents("US")
    payment = next(d for d in documents if d.role == "payment" and d.status == "posted")
    bank = next((d for d in documents if d.role in {"spend", "receive"}), None)
    marked = {"payments": [payment.xero_id]}
    if bank is not None:
        marked["bank_transactions"] = [bank.xero_id]
    harness.xero_admin("POST", f"/_sim/orgs/{harness.tenant_id('US')}/reconcile", marked)
    end = harness.runtime.now() + timedelta(days=1)
    preview = rollback.preview(harness.runtime, connection_id, end - timedelta(days=120), end)
    kept = {line.xero_id: line.reason for line in preview.kept}
    assert "reconciled" in kept[payment.xero_id]
    bill = next(d for d in documents if d.doc_key in payment.depends_on)
    assert "reconciled" in kept[bill.xero_id]
    done = rollback.carry_out(harness.runtime, connection_id, preview.rollback_id)
    assert {line.xero_id for line in done.kept} == set(kept)
    state = harness.organisation_state("US")
    payments = {p["PaymentID"]: p for p in state["payments"]}
    bills = {b["InvoiceID"]: b for b in state["invoices"]}
    assert payments[payment.xero_id]["Status"] == "AUTHORISED"
    assert bills[bill.xero_id]["Status"] == "PAID"
    sources = {s.transaction_id: s.status for s in harness.sources("US")}
    assert sources[payment.transaction_id] == "posted"
    assert sum(1 for status in sources.values() if status == "rolled_back") > 5
    live = xero_books(harness, "US")["documents"]
    main_roles = {"bill", "credit_note", "spend", "receive"}
    kept_transactions = {line.transaction_id for line in done.kept if line.role in main_roles}
    assert sum(live.values()) == len(kept_transactions) >= 1


def _worker(harness: Harness, module: str, args: list[str], failpoint: str | None) -> int:
    environment = dict(os.environ)
    environment.pop("ABXERO_FAILPOINT", None)
    environment.update(abxero_environment(harness))
    if failpoint:
        environment["ABXERO_FAILPOINT"] = failpoint
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=environment,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        timeout=300,
        check=False,
    )
    if result.returncode not in (0, -signal.SIGKILL):
        print(result.stdout.decode(), result.stderr.decode()[-3000:])
    if result.returncode == -signal.SIGKILL:
        time.sleep(LEASE_SECONDS + 0.2)  # the dead worker's lease must lapse first
    return result.returncode


ROLLBACK_CRASH_POINTS = [
    "rollback_intent:1",
    "rollback_answered:1",
    "rollback_recorded:1",
    "rollback_intent:7",
    "rollback_answered:9",
    "rollback_answered:25",
    "rollback_settled:1",
]


@pytest.mark.parametrize("failpoint", ROLLBACK_CRASH_POINTS)
def test_killed_rollback_resumes_to_the_books_before_the_sync(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    failpoint: str,
) -> None:
    database_url = empty_database(request, "sqlite", tmp_path_factory)
    with running_harness(tmp_path, database_url, orders_per_day=1.2) as harness:
        before = xero_books(harness, "US")
        _import_and_post(harness, "US")
        posted = xero_books(harness, "US")
        connection = str(harness.connections["US"])
        worker = "tests.e2e.rollback_worker"
        assert _worker(harness, worker, [connection], failpoint) == -signal.SIGKILL
        assert _worker(harness, worker, [connection], None) == 0
        assert xero_books(harness, "US") == before
        assert _worker(harness, worker, [connection], None) == 0  # nothing left to do
        assert xero_books(harness, "US") == before
        _import(harness, "US")
        _one_set_per_transaction(harness, "US", posted)


def test_rollback_command_previews_with_dry_run_then_removes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command runs at Xero's real pace (60 calls a minute), so it rolls back one week."""
    from typer.testing import CliRunner

    from abxero.cli import app

    for name, value in abxero_environment(harness).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")
    _import_and_post(harness, "US")
    posted = xero_books(harness, "US")
    today = harness.runtime.now().date()
    period = ["--since", (today - timedelta(days=6)).isoformat(), "--until", today.isoformat()]
    us = ["--organisation", str(harness.connections["US"])]
    dry = CliRunner().invoke(app, ["rollback", *period, *us, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output
    assert "bills and credit notes voided" in dry.output
    assert xero_books(harness, "US") == posted
    done = CliRunner().invoke(app, ["rollback", *period, *us])
    assert done.exit_code == 0, done.output
    assert "removed" in done.output
    rolled_back = [s for s in harness.sources("US") if s.status == "rolled_back"]
    assert rolled_back
    assert all(
        s.transaction_date and s.transaction_date.date() >= today - timedelta(days=6)
        for s in rolled_back
    )
    live = sum(xero_books(harness, "US")["documents"].values())
    main = [d for d in harness.documents("US") if d.role in {"bill", "credit_note"}]
    assert live == len(main) < sum(posted["documents"].values())
    backwards = CliRunner().invoke(
        app, ["rollback", "--since", "2026-05-10", "--until", "2026-05-01"]
    )
    assert backwards.exit_code == 2
    assert CliRunner().invoke(app, ["rollback"]).exit_code == 2


def test_rollback_of_one_import_run_takes_what_it_read(harness: Harness) -> None:
    from abxero.store.models import SyncRun

    _import_and_post(harness, "US")
    connection_id = harness.connections["US"]
    now = harness.runtime.now()
    with transaction(harness.runtime.sessions) as session:
        run = SyncRun(
            xero_connection_id=connection_id,
            kind="import",
            status="ok",
            range_start=now - timedelta(days=5),
            range_end=now,
        )
        session.add(run)
        session.flush()
        run_id = run.id
    preview = rollback.preview_run(harness.runtime, connection_id, run_id)
    done = rollback.carry_out(harness.runtime, connection_id, preview.rollback_id)
    assert done.status == "done"
    statuses: Counter[str] = Counter()
    for source in harness.sources("US"):
        inside = source.feed_date is not None and source.feed_date >= now - timedelta(days=5)
        statuses[f"{'inside' if inside else 'outside'} {source.status}"] += 1
    assert statuses["inside rolled_back"] > 0
    assert statuses["outside posted"] > 0
    assert {key for key in statuses if key.startswith("inside")} == {"inside rolled_back"}
    with pytest.raises(rollback.NotThisOrganisation):
        rollback.preview_run(harness.runtime, harness.connections["UK"], run_id)


def test_a_bill_a_later_refund_is_allocated_to_stays_with_the_reason(harness: Harness) -> None:
    _import_and_post(harness, "US")
    connection_id = harness.connections["US"]
    documents = {d.doc_key: d for d in harness.documents("US")}
    sources = {s.transaction_id: s for s in harness.sources("US")}
    pairs = [
        (documents[key], allocation)
        for allocation in documents.values()
        if allocation.role == "allocation"
        for key in allocation.depends_on
        if documents[key].role == "bill"
        and documents[key].transaction_id != allocation.transaction_id
    ]
    bill, allocation = next(
        (b, a)
        for b, a in pairs
        if (sources[b.transaction_id].transaction_date or 0)
        < (sources[a.transaction_id].transaction_date or 0)
    )
    day = sources[bill.transaction_id].transaction_date
    assert day is not None
    preview = rollback.preview(harness.runtime, connection_id, day, day + timedelta(seconds=1))
    kept = {line.xero_id: line.reason for line in preview.kept}
    assert f"transaction {allocation.transaction_id}, which stays in Xero" in kept[bill.xero_id]
    done = rollback.carry_out(harness.runtime, connection_id, preview.rollback_id)
    assert {s.transaction_id: s.status for s in harness.sources("US")}[bill.transaction_id] == (
        "posted"
    )
    assert bill.xero_id in {line.xero_id for line in done.kept}
