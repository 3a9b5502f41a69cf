"""A purchase summary PDF behind every posted document Amazon has no PDF for, attached once,
and Amazon's own PDF beside it when there is one."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.jobs.tasks import attaching_connections
from abxero.store.db import transaction
from abxero.store.models import Event, InvoiceDetail, OutboxDocument, SourceTransaction, utcnow
from abxero.sync.attachments import AttachReport
from abxero.sync.summaries import ENDPOINTS, file_name
from tests.e2e.harness import Harness

pytestmark = pytest.mark.slow
SUMMARY = "Amazon-summary-"


def _post_everything(harness: Harness, region: str) -> None:
    end = harness.runtime.now()
    harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=30), end
    )
    harness.map_and_finish(region)
    harness.runtime.engine_for(harness.connections[region]).post_pending()
    harness.amazon_admin("POST", "/_sim/faults", {"report_seconds": 0, "rate_limits": False})


def _drain(harness: Harness, region: str) -> AttachReport:
    lane = harness.runtime.attachment_lane(harness.connections[region], poll_seconds=0.01)
    total = AttachReport()
    while True:
        report = lane.run(limit=25)
        total.attached += report.attached
        total.unavailable += report.unavailable
        total.summaries += report.summaries
        total.reasked += report.reasked
        if report.attached + report.unavailable + report.summaries == 0:
            return total


def _files(harness: Harness, region: str) -> dict[str, list[str]]:
    return dict(harness.organisation_state(region)["attachments"])


def _read_back(harness: Harness, region: str, document: OutboxDocument) -> str:
    """The attached summary, fetched from Xero and rendered back to text."""
    api = harness.runtime.xero_api(harness.connections[region])
    path = (
        f"{ENDPOINTS[document.role]}/{document.xero_id}/Attachments/"
        f"{file_name(document.transaction_id)}"
    )
    content = api._transport.call("GET", path).content  # the client's own authenticated calls
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_us_card_purchases_get_a_summary_once_and_pay_by_invoice_keeps_amazons_pdf(
    harness: Harness,
) -> None:
    _post_everything(harness, "US")
    report = _drain(harness, "US")
    files = _files(harness, "US")
    sources = {s.transaction_id: s for s in harness.sources("US")}
    documents = [d for d in harness.documents("US") if d.role in ENDPOINTS]
    card = [
        d for d in documents if "invoice" not in sources[d.transaction_id].instrument_key.lower()
    ]
    by_invoice = [d for d in documents if d not in card]
    assert card
    assert by_invoice
    refused = [d for d in by_invoice if d.attachment == "unavailable"]
    assert report.summaries == len(card) + len(refused)
    for document in card + refused:
        assert document.summary == "attached"
        assert files[document.xero_id] == [file_name(document.transaction_id)]
    for document in by_invoice:
        if document.attachment == "attached":
            assert document.summary == ""
            assert not any(name.startswith(SUMMARY) for name in files[document.xero_id])
    assert _drain(harness, "US").summaries == 0
    assert _files(harness, "US") == files
    text = _read_back(harness, "US", card[0])
    assert "not a tax invoice" in text
    assert card[0].transaction_id in text
    assert f"{card[0].amount:,.2f}" in text  # the amount, signed as Amazon's model signs it


def _clock_ahead(harness: Harness, by: timedelta) -> None:
    """abxero's clock (the simulators keep theirs) moves ``by`` ahead of the wall clock."""
    harness.runtime.now = lambda: utcnow() + by


def _attach_once(harness: Harness, region: str) -> AttachReport:
    lane = harness.runtime.attachment_lane(harness.connections[region], poll_seconds=0.01)
    return lane.run(limit=25)


def test_a_document_amazon_refuses_gets_a_summary_and_amazons_pdf_later_sits_beside_it(
    harness: Harness,
) -> None:
    _post_everything(harness, "UK")
    harness.amazon_admin("POST", "/_sim/faults", {"queue": ["404"]})  # createReport refused
    _drain(harness, "UK")
    refused = next(d for d in harness.documents("UK") if "404" in d.attachment_error)
    assert (refused.attachment, refused.summary) == ("unavailable", "attached")
    assert refused.attachment_refused_at is not None
    assert refused.attachment_next_ask_at == refused.attachment_refused_at + timedelta(days=1)
    assert _files(harness, "UK")[refused.xero_id] == [file_name(refused.transaction_id)]
    for document in harness.documents("UK"):
        if document.attachment == "attached":
            assert document.summary == ""
    assert _drain(harness, "UK").reasked == 0  # not asked again the same day
    # A day later Amazon offers the PDF: the lane asks again and puts it beside the summary.
    _clock_ahead(harness, timedelta(days=1, minutes=1))
    assert refused.xero_connection_id in attaching_connections(harness.runtime)
    report = _attach_once(harness, "UK")
    assert (report.reasked, report.attached, report.summaries) == (1, 1, 0)
    names = _files(harness, "UK")[refused.xero_id]
    assert sorted(names) == sorted([file_name(refused.transaction_id), f"Amazon-{_number(names)}"])
    after = {d.id: d for d in harness.documents("UK")}[refused.id]
    assert (after.attachment, after.summary, after.attachment_next_ask_at) == (
        "attached",
        "attached",
        None,
    )
    _clock_ahead(harness, timedelta(days=3))
    assert _drain(harness, "UK").attached == 0
    assert _files(harness, "UK")[refused.xero_id] == names


def _number(names: list[str]) -> str:
    return next(n for n in names if not n.startswith(SUMMARY)).removeprefix("Amazon-")


def test_amazon_is_asked_daily_one_refused_pdf_a_run_and_not_after_thirty_days(
    harness: Harness,
) -> None:
    """createReport allows about one request a minute (amazon-business-api.md §5.1): re-asks
    go one a run, and stop for good 30 days after the first refusal."""
    _post_everything(harness, "UK")
    harness.amazon_admin("POST", "/_sim/faults", {"queue": ["404", "404"]})
    _drain(harness, "UK")
    refused = [d for d in harness.documents("UK") if d.attachment == "unavailable"]
    assert len([d for d in refused if "404" in d.attachment_error]) == 2
    _clock_ahead(harness, timedelta(days=1, minutes=1))
    for _ in refused:  # Amazon still has nothing: each run asks about one document
        harness.amazon_admin("POST", "/_sim/faults", {"queue": ["404"]})
        report = _attach_once(harness, "UK")
        assert (report.reasked, report.unavailable, report.attached) == (1, 1, 0)
    assert _attach_once(harness, "UK").reasked == 0  # both asked today
    _clock_ahead(harness, timedelta(days=29, minutes=2))
    for _ in refused:  # the last ask inside the window
        harness.amazon_admin("POST", "/_sim/faults", {"queue": ["404"]})
        assert _attach_once(harness, "UK").reasked == 1
    stopped = [d for d in harness.documents("UK") if d.id in {r.id for r in refused}]
    for document in stopped:
        assert (document.attachment, document.attachment_next_ask_at) == ("unavailable", None)
        assert "not asked again" in document.attachment_error
        assert document.summary == "attached"
    _clock_ahead(harness, timedelta(days=45))
    assert all(d.attachment_next_ask_at is None for d in harness.documents("UK"))
    assert _attach_once(harness, "UK").reasked == 0
    with harness.runtime.sessions() as session:
        events = session.scalars(
            select(Event).where(Event.code == "attachment_never_offered")
        ).all()
    assert sorted(e.data["key"] for e in events) == sorted(d.doc_key for d in refused)


def test_a_bill_with_no_invoice_number_to_ask_for_gets_a_summary_but_not_while_waiting(
    harness: Harness,
) -> None:
    """Amazon's PDF is fetched by invoice number; with none in the record or the invoice
    details and no lookup still running, it never comes."""
    _post_everything(harness, "UK")
    bills = [d for d in harness.documents("UK") if d.role == "bill"]
    never, waiting = bills[0], bills[1]
    with transaction(harness.runtime.sessions) as session:
        for document, status, attempts in ((never, "failed", 1), (waiting, "pending", 1)):
            source = session.scalars(
                select(SourceTransaction).where(
                    SourceTransaction.xero_connection_id == harness.connections["UK"],
                    SourceTransaction.transaction_id == document.transaction_id,
                )
            ).one()
            raw = jsontext.loads(source.raw)
            raw.pop("invoiceNumber", None)
            source.raw = jsontext.dumps(raw)
            details = session.scalars(
                select(InvoiceDetail).where(
                    InvoiceDetail.xero_connection_id == harness.connections["UK"],
                    InvoiceDetail.transaction_id == document.transaction_id,
                )
            ).one_or_none()
            if details is None:
                details = InvoiceDetail(
                    xero_connection_id=harness.connections["UK"],
                    transaction_id=document.transaction_id,
                )
                session.add(details)
            details.status, details.attempts = status, attempts
            details.invoice_number = details.consolidated_number = ""
    _drain(harness, "UK")
    after = {d.id: d for d in harness.documents("UK")}
    assert (after[never.id].attachment, after[never.id].summary) == ("", "attached")
    assert (after[waiting.id].attachment, after[waiting.id].summary) == ("", "")
    assert _files(harness, "UK")[never.xero_id] == [file_name(never.transaction_id)]
