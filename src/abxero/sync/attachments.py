"""Amazon's invoice PDFs attached to the bills and credit notes we posted, once each.

Amazon offers the PDF of every non-digital UK order and, in the US, of Pay-by-Invoice orders
only. The Document API allows about one report a minute, so attaching runs in its own lane:
a few documents per run, under its own lease, never holding up a sync. A document's
``attachment`` column records the outcome: ``attached``, or ``unavailable`` when Amazon has no
PDF for it, or ``failed`` when Xero refuses the file for good; ``attachment_error`` says why.
One bad document never blocks the lane: a permanent refusal on either side (Document API
400/404/415 or a FATAL/CANCELLED report, after Amazon's documented error codes in
document-2021-09-30.json; Xero 400, 404 for a bill deleted since, 413 for a file over the
limit, per xero-api.md) marks that document and the lane goes on; only rate limits and other
passing failures defer the rest to the next run, at the time Amazon asked for when it said
(the queue's task gives its worker thread back until then rather than sleeping in it). Xero
replaces an attachment of the same file name, so a repeat after a crash changes nothing.

Amazon may issue a PDF it refused before (an invoice still being generated), so an
``unavailable`` document is asked again once a day (``attachment_next_ask_at``) for 30 days
after the first refusal (``attachment_refused_at``); then ``attachment_next_ask_at`` is cleared,
the error says so and an event records it. When the PDF comes it is attached beside the
purchase summary the refusal earned (``summaries.py``). Re-asks use only runs with no document
waiting for its first ask, one per run: with the lane ticking once a minute they stay within
``createReport``'s 0.0167 requests a second (about one a minute, burst 15; amazon-business-api.md
§5.1) even on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.amazon import (
    AmazonError,
    DocumentClient,
    FatalError,
    RetriableError,
    SkippableRecordError,
)
from abxero.domain import jsontext
from abxero.domain.lifecycles import AttachmentStatus
from abxero.domain.transactions import Instrument
from abxero.store.db import transaction
from abxero.store.models import InvoiceDetail, OutboxDocument, SourceTransaction
from abxero.sync.events import record_event
from abxero.sync.invoice_details import MAX_ATTEMPTS, PENDING
from abxero.sync.leases import DEFAULT_TTL, held
from abxero.sync.ledger import posted_with_sources
from abxero.sync.summaries import SummaryAttacher
from abxero.xero import (
    NotFoundError,
    RejectedError,
    ValidationFailedError,
    XeroAccounting,
    XeroError,
)

ATTACHED, UNAVAILABLE = AttachmentStatus.ATTACHED, AttachmentStatus.UNAVAILABLE
FAILED = AttachmentStatus.FAILED
PERMANENT_XERO = (NotFoundError, ValidationFailedError, RejectedError)
KINDS = {"bill": ("Invoices", "Invoice"), "credit_note": ("CreditNotes", "Credits")}
LEASE_TTL = DEFAULT_TTL
REASK_EVERY = timedelta(days=1)
REASK_WINDOW = timedelta(days=30)
REASKS_PER_RUN = 1


@dataclass(frozen=True)
class Candidate:
    document_id: int
    kind: str
    document_type: str
    xero_id: str
    invoice_number: str
    reask: bool = False


@dataclass(frozen=True)
class Outcome:
    """What happened to one document; ``reason`` is shown when it is not ``attached``."""

    status: str
    reason: str = ""


@dataclass
class AttachReport:
    attached: int = 0
    unavailable: int = 0
    failed: int = 0
    deferred: bool = False
    deferred_because: str = ""
    summaries: int = 0
    retry_after: timedelta | None = None
    """How long Amazon asked us to wait, when it said."""
    reasked: int = 0


def candidates(session: Session, connection_id: int, region: str, limit: int) -> list[Candidate]:
    """Posted bills and credit notes without an attachment outcome whose PDF Amazon offers."""
    return _collect(
        session, connection_id, region, limit, OutboxDocument.attachment == "", reask=False
    )


def reasks(
    session: Session, connection_id: int, region: str, now: datetime, limit: int
) -> list[Candidate]:
    """Documents whose PDF Amazon refused and which are due to be asked again."""
    due = (OutboxDocument.attachment == UNAVAILABLE) & (
        OutboxDocument.attachment_next_ask_at <= now
    )
    return _collect(session, connection_id, region, limit, due, reask=True)


def _collect(
    session: Session,
    connection_id: int,
    region: str,
    limit: int,
    wanted: ColumnElement[bool],
    *,
    reask: bool,
) -> list[Candidate]:
    rows = posted_with_sources(session, connection_id, KINDS, wanted)
    found: list[Candidate] = []
    for document, source in rows:
        if len(found) == limit:
            break
        if not _offers_pdf(region, source.instrument_key):
            continue
        number = _invoice_to_fetch(session, source)
        if number:
            kind, document_type = KINDS[document.role]
            found.append(
                Candidate(document.id, kind, document_type, document.xero_id, number, reask)
            )
    return found


def _invoice_to_fetch(session: Session, source: SourceTransaction) -> str:
    """The consolidated invoice when Amazon names one (UK), else the transaction's own number
    or, when the record has none (US Pay by Invoice), the one invoice details gave."""
    details = session.scalars(
        select(InvoiceDetail).where(
            InvoiceDetail.xero_connection_id == source.xero_connection_id,
            InvoiceDetail.transaction_id == source.transaction_id,
        )
    ).one_or_none()
    if details is not None and details.status == PENDING and details.attempts < MAX_ATTEMPTS:
        return ""  # the consolidated invoice is not issued yet: attach it once it is
    consolidated = details.consolidated_number if details else ""
    if consolidated and consolidated.lower() != "pending":
        return consolidated
    own = str(jsontext.loads(source.raw).get("invoiceNumber") or "")
    return own or (details.invoice_number if details else "")


def nothing_to_ask_amazon(session: Session, source: SourceTransaction) -> bool:
    """No invoice number to ask the Document API for, and none still being looked up: Amazon's
    PDF will never come for this transaction (it gets a purchase summary instead)."""
    if _invoice_to_fetch(session, source):
        return False
    details = session.scalars(
        select(InvoiceDetail).where(
            InvoiceDetail.xero_connection_id == source.xero_connection_id,
            InvoiceDetail.transaction_id == source.transaction_id,
        )
    ).one_or_none()
    return details is None or details.status != PENDING or details.attempts >= MAX_ATTEMPTS


def _offers_pdf(region: str, instrument_key: str) -> bool:
    return region == "UK" or Instrument.from_key(instrument_key).looks_like_pay_by_invoice


class AttachmentLane:
    """Fetches PDFs through the Document API and attaches them in Xero, a few per run."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        region: str,
        marketplace_id: str,
        documents: DocumentClient,
        xero: XeroAccounting,
        *,
        holder: str,
        now: Callable[[], datetime],
        poll_seconds: float = 5.0,
    ) -> None:
        self._factory, self._id, self._region = factory, connection_id, region
        self._marketplace, self._documents, self._xero = marketplace_id, documents, xero
        self._holder, self._now, self._poll = holder, now, poll_seconds
        self._summaries = SummaryAttacher(
            factory, connection_id, region, xero, now, nothing_to_ask=nothing_to_ask_amazon
        )
        self._asked_wait: float | None = None

    def run(self, limit: int = 5) -> AttachReport:
        report = AttachReport()
        lease = f"attach:{self._id}"
        with held(self._factory, lease, self._holder, LEASE_TTL, self._now) as renew:
            with self._factory() as session:
                todo = candidates(session, self._id, self._region, limit) or reasks(
                    session, self._id, self._region, self._now(), min(limit, REASKS_PER_RUN)
                )
            for candidate in todo:
                outcome = self._attach(candidate)
                if isinstance(outcome, str):
                    report.deferred, report.deferred_because = True, outcome
                    if self._asked_wait:
                        report.retry_after = timedelta(seconds=self._asked_wait)
                    break
                self._record(candidate.document_id, outcome)
                report.attached += outcome.status == ATTACHED
                report.unavailable += outcome.status == UNAVAILABLE
                report.failed += outcome.status == FAILED
                report.reasked += candidate.reask
                renew()
            if not report.deferred:  # then a summary behind each document without a PDF
                report.summaries, why = self._summaries.run(limit, renew)
                report.deferred, report.deferred_because = bool(why), why
        return report

    def _attach(self, candidate: Candidate) -> Outcome | str:
        """The outcome for one document, or why Amazon or Xero asks us to wait."""
        pdf = self._fetch_pdf(candidate)
        if not isinstance(pdf, bytes):
            return pdf
        try:
            self._xero.upload_attachment(
                candidate.kind,
                candidate.xero_id,
                f"Amazon-{candidate.invoice_number}.pdf",
                pdf,
                "application/pdf",
                f"abx-attach-{self._id}-{candidate.document_id}",
            )
        except PERMANENT_XERO as problem:
            return Outcome(FAILED, f"Xero refused the attachment: {problem}")
        except XeroError as problem:
            return f"Xero: {problem}"
        return Outcome(ATTACHED)

    def _fetch_pdf(self, candidate: Candidate) -> bytes | Outcome | str:
        try:
            return self._documents.fetch_invoice_pdf(
                self._marketplace,
                candidate.invoice_number,
                document_type=candidate.document_type,
                poll_seconds=self._poll,
            )
        except (SkippableRecordError, FatalError) as problem:
            return Outcome(
                UNAVAILABLE, f"Amazon has no PDF for {candidate.invoice_number}: {problem}"
            )
        except RetriableError as problem:
            self._asked_wait = problem.retry_after
            return f"Amazon: {problem}"
        except AmazonError as problem:
            return f"Amazon: {problem}"

    def _record(self, document_id: int, outcome: Outcome) -> None:
        with transaction(self._factory) as session:
            document = session.get_one(OutboxDocument, document_id)
            document.attachment = outcome.status
            document.attachment_error = outcome.reason
            document.attachment_next_ask_at = None
            if outcome.status == UNAVAILABLE:
                self._plan_next_ask(session, document)
            if outcome.status == FAILED:
                record_event(
                    session,
                    self._id,
                    "warning",
                    "attachment_failed",
                    f"{document.doc_key}: {outcome.reason}",
                    "Check the document in Xero (deleted, or full of attachments); "
                    "the invoice PDF can be attached by hand from Amazon Business.",
                    at=self._now(),
                    key=document.doc_key,
                )

    def _plan_next_ask(self, session: Session, document: OutboxDocument) -> None:
        """Ask again in a day while within 30 days of the first refusal; else stop, visibly."""
        now = self._now()
        first = document.attachment_refused_at or now
        document.attachment_refused_at = first
        if now + REASK_EVERY <= first + REASK_WINDOW:
            document.attachment_next_ask_at = now + REASK_EVERY
            return
        document.attachment_error += (
            f" Asked daily since {first:%Y-%m-%d} without a PDF: not asked again."
        )
        record_event(
            session,
            self._id,
            "info",
            "attachment_never_offered",
            f"{document.doc_key}: Amazon offered no invoice PDF within "
            f"{REASK_WINDOW.days} days; the purchase summary stays its only document.",
            "Download the invoice from Amazon Business and attach it in Xero by "
            "hand if you need it.",
            at=now,
            key=document.doc_key,
        )
