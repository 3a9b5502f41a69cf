"""Invoice PDFs are attached once, where Amazon offers them (UK: all; US: Pay by Invoice)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from abxero.store.db import transaction
from abxero.store.models import Event, InvoiceDetail, OutboxDocument
from abxero.sync.attachments import candidates
from tests.e2e.harness import Harness

pytestmark = pytest.mark.slow


def _post_everything(harness: Harness, region: str) -> None:
    end = harness.runtime.now()
    engine = harness.runtime.engine_for(harness.connections[region])
    engine.import_range(end - timedelta(days=30), end)
    harness.map_and_finish(region)
    harness.runtime.engine_for(harness.connections[region]).post_pending()
    harness.amazon_admin("POST", "/_sim/faults", {"report_seconds": 0, "rate_limits": False})


def _attached_names(harness: Harness, region: str) -> dict[str, list[str]]:
    """Amazon's own PDFs per Xero document (purchase summaries are tested on their own)."""
    found = {
        document: [name for name in names if not name.startswith("Amazon-summary-")]
        for document, names in harness.organisation_state(region)["attachments"].items()
    }
    return {document: names for document, names in found.items() if names}


def _consolidated_pending(harness: Harness, region: str) -> set[str]:
    """Transactions whose consolidated invoice Amazon has not issued yet (attached later)."""
    with harness.runtime.sessions() as session:
        return set(
            session.scalars(
                select(InvoiceDetail.transaction_id).where(
                    InvoiceDetail.xero_connection_id == harness.connections[region],
                    InvoiceDetail.status == "pending",
                )
            )
        )


def _drain(harness: Harness, region: str) -> tuple[int, int]:
    lane = harness.runtime.attachment_lane(harness.connections[region], poll_seconds=0.01)
    attached = unavailable = 0
    while True:
        report = lane.run(limit=25)
        attached, unavailable = attached + report.attached, unavailable + report.unavailable
        if report.attached + report.unavailable == 0:
            return attached, unavailable


def test_uk_bills_get_their_invoice_pdf_once(harness: Harness) -> None:
    _post_everything(harness, "UK")
    attached, _ = _drain(harness, "UK")
    names = _attached_names(harness, "UK")
    bills = [d for d in harness.documents("UK") if d.role in {"bill", "credit_note"}]
    assert attached > 0
    assert sum(len(files) for files in names.values()) == attached
    assert all(len(files) == 1 and files[0].endswith(".pdf") for files in names.values())
    waiting = {d.transaction_id for d in bills if d.attachment == ""}
    assert {d.attachment for d in bills} <= {"attached", "unavailable", ""}
    assert waiting <= _consolidated_pending(harness, "UK")
    assert _drain(harness, "UK") == (0, 0)
    assert _attached_names(harness, "UK") == names


def test_us_attaches_only_pay_by_invoice_bills(harness: Harness) -> None:
    _post_everything(harness, "US")
    _drain(harness, "US")
    sources = {s.transaction_id: s for s in harness.sources("US")}
    attached = [d for d in harness.documents("US") if d.attachment == "attached"]
    assert attached
    assert all("invoice" in sources[d.transaction_id].instrument_key.lower() for d in attached)
    untouched = [d for d in harness.documents("US") if d.role == "bill" and d.attachment == ""]
    assert all("invoice" not in sources[d.transaction_id].instrument_key.lower() for d in untouched)


def _attachable(harness: Harness, region: str) -> list[OutboxDocument]:
    lane = harness.runtime.attachment_lane(harness.connections[region], poll_seconds=0.01)
    with harness.runtime.sessions() as session:
        found = candidates(session, harness.connections[region], region, 1000)
    ids = {candidate.document_id for candidate in found}
    assert lane is not None
    return sorted((d for d in harness.documents(region) if d.id in ids), key=lambda d: d.id)


def test_a_document_amazon_refuses_is_unavailable_with_its_reason_and_the_lane_goes_on(
    harness: Harness,
) -> None:
    """Before: a 404 from createReport escaped the lane as FatalError on every run."""
    _post_everything(harness, "UK")
    first = _attachable(harness, "UK")[0]
    harness.amazon_admin("POST", "/_sim/faults", {"queue": ["404"]})
    attached, unavailable = _drain(harness, "UK")
    refused = next(d for d in harness.documents("UK") if d.id == first.id)
    assert refused.attachment == "unavailable"
    assert "404" in refused.attachment_error
    assert attached > 0
    assert unavailable >= 1


def test_a_fatal_report_marks_only_that_document(harness: Harness) -> None:
    _post_everything(harness, "UK")
    first = _attachable(harness, "UK")[0]
    harness.amazon_admin("POST", "/_sim/faults", {"report_outcomes": ["FATAL"]})
    attached, _ = _drain(harness, "UK")
    fatal = next(d for d in harness.documents("UK") if d.id == first.id)
    assert (fatal.attachment, "FATAL" in fatal.attachment_error) == ("unavailable", True)
    assert attached > 0


def test_gzip_wrapped_zips_with_odd_member_names_still_attach_the_pdf(harness: Harness) -> None:
    """Before: a ZIP whose PDF member was not named ``*.pdf`` counted as 'not a PDF'."""
    _post_everything(harness, "UK")
    harness.amazon_admin(
        "POST",
        "/_sim/faults",
        {"document_packaging": "gzip_zip", "document_member_name": "INVOICE_0001"},
    )
    attached, _ = _drain(harness, "UK")
    assert attached > 0
    reasons = [d.attachment_error for d in harness.documents("UK") if d.attachment == "unavailable"]
    assert all("CANCELLED" in reason for reason in reasons), reasons


def test_a_bill_deleted_in_xero_fails_its_attachment_and_the_others_attach(
    harness: Harness,
) -> None:
    """Before: Xero's 404 for one bill deferred the whole lane on every run."""
    _post_everything(harness, "UK")
    gone = _attachable(harness, "UK")[0]
    with transaction(harness.runtime.sessions) as session:
        session.get_one(OutboxDocument, gone.id).xero_id = str(uuid.uuid4())
    attached, _ = _drain(harness, "UK")
    failed = next(d for d in harness.documents("UK") if d.id == gone.id)
    assert failed.attachment == "failed"
    assert "Xero refused" in failed.attachment_error
    assert attached == len(_attached_names(harness, "UK")) > 0


def test_rate_limits_defer_the_lane_without_marking_anything(harness: Harness) -> None:
    _post_everything(harness, "UK")
    harness.amazon_admin("POST", "/_sim/faults", {"queue": ["503"] * 5, "rate_limit_header": False})
    lane = harness.runtime.attachment_lane(harness.connections["UK"], poll_seconds=0.01)
    lane._documents.api.sleep = lambda seconds: None
    report = lane.run(limit=5)
    assert report.deferred
    assert (report.attached, report.unavailable, report.failed) == (0, 0, 0)
    assert {d.attachment for d in harness.documents("UK")} == {""}


def test_xeros_400_for_a_full_bill_fails_only_that_attachment(harness: Harness) -> None:
    """Xero takes at most 10 attachments per document (xero-api.md); the 11th is a 400."""
    _post_everything(harness, "UK")
    full = _attachable(harness, "UK")[0]
    xero = harness.runtime.xero_api(harness.connections["UK"])
    kind = "Invoices" if full.role == "bill" else "CreditNotes"
    for number in range(10):
        xero.upload_attachment(
            kind, full.xero_id, f"note-{number}.pdf", b"%PDF-1.4 x", "application/pdf", f"k{number}"
        )
    attached, _ = _drain(harness, "UK")
    refused = next(d for d in harness.documents("UK") if d.id == full.id)
    assert refused.attachment == "failed"
    assert "maximum of 10 attachments" in refused.attachment_error
    assert attached > 0
    with harness.runtime.sessions() as session:
        events = session.scalars(select(Event).where(Event.code == "attachment_failed")).all()
    assert [event.data["key"] for event in events] == [refused.doc_key]
    assert all(event.remedy for event in events)
