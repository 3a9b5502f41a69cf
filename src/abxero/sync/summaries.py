"""A purchase summary PDF behind every posted document Amazon gives no PDF for, attached once.

Runs at the end of each attachment lane run (``attachments.py``), on the same lease and Xero
pacing. A document qualifies when it is posted and Amazon has no PDF for it: a US card
purchase (the Document API serves Pay-by-Invoice orders only), a Spend or Receive Money
transaction (the lane attaches Amazon's PDFs to bills and credit notes), a document whose
PDF Amazon refused (``attachment`` = ``unavailable``), or one with no invoice number to ask
Amazon for (none in the record or the invoice details, and no lookup still running). Its
``summary`` column records the outcome: ``attached``, or ``failed`` when Xero refuses the file
for good (with an event).
The file is named ``Amazon-summary-<transaction>.pdf``, apart from Amazon's own
``Amazon-<invoice>.pdf``: when Amazon's PDF is attached later it sits beside the summary. Xero
replaces a file of the same name, so a repeat after a crash leaves one summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from abxero.domain import jsontext
from abxero.domain.lifecycles import AttachmentStatus
from abxero.domain.transactions import Instrument, Transaction, parse_transaction
from abxero.store.db import transaction
from abxero.store.models import OutboxDocument, SourceTransaction
from abxero.sync.events import record_event
from abxero.sync.ledger import posted_with_sources
from abxero.sync.summary_pdf import purchase_summary_pdf
from abxero.xero import (
    NotFoundError,
    RejectedError,
    ValidationFailedError,
    XeroAccounting,
    XeroError,
)

ENDPOINTS = {
    "bill": "Invoices",
    "credit_note": "CreditNotes",
    "spend": "BankTransactions",
    "receive": "BankTransactions",
}
AMAZON_PDF_ROLES = frozenset({"bill", "credit_note"})
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Wanted:
    document_id: int
    endpoint: str
    xero_id: str
    transaction: Transaction


NothingToAsk = Callable[[Session, SourceTransaction], bool]


def needs_summary(region: str, document: OutboxDocument, instrument_key: str) -> bool:
    """Amazon offers no PDF for this posted document, or refused the one it offers."""
    if document.role not in AMAZON_PDF_ROLES or document.attachment == "unavailable":
        return True
    return region != "UK" and not Instrument.from_key(instrument_key).looks_like_pay_by_invoice


def _without_amazon_pdf(
    session: Session,
    region: str,
    document: OutboxDocument,
    source: SourceTransaction,
    nothing_to_ask: NothingToAsk,
) -> bool:
    if needs_summary(region, document, source.instrument_key):
        return True
    # Offered in principle, but no invoice number is known or still being looked up.
    return document.attachment == "" and nothing_to_ask(session, source)


def wanted(
    session: Session,
    connection_id: int,
    region: str,
    limit: int,
    nothing_to_ask: NothingToAsk = lambda session, source: False,
) -> list[Wanted]:
    rows = posted_with_sources(session, connection_id, ENDPOINTS, OutboxDocument.summary == "")
    found: list[Wanted] = []
    for document, source in rows:
        if len(found) == limit:
            break
        parsed = parse_transaction(jsontext.loads(source.raw))
        if isinstance(parsed, Transaction) and _without_amazon_pdf(
            session, region, document, source, nothing_to_ask
        ):
            endpoint = ENDPOINTS[document.role]
            found.append(Wanted(document.id, endpoint, document.xero_id, parsed))
    return found


def file_name(transaction_id: str) -> str:
    return f"Amazon-summary-{_UNSAFE_NAME.sub('-', transaction_id)[:80]}.pdf"


class SummaryAttacher:
    """Makes and attaches the summaries of one organisation, a few per run."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        region: str,
        xero: XeroAccounting,
        now: Callable[[], datetime],
        *,
        nothing_to_ask: NothingToAsk,
    ) -> None:
        self._factory, self._id, self._region = factory, connection_id, region
        self._xero, self._now, self._nothing_to_ask = xero, now, nothing_to_ask

    def run(self, limit: int, renew: Callable[[], None]) -> tuple[int, str]:
        """Attach up to ``limit`` summaries; returns how many, and why it stopped early."""
        with self._factory() as session:
            todo = wanted(session, self._id, self._region, limit, self._nothing_to_ask)
        attached = 0
        for item in todo:
            outcome = self._attach(item)
            if outcome is None:
                attached += 1
                self._record(item.document_id, AttachmentStatus.ATTACHED, "")
            elif isinstance(outcome, XeroError) and not isinstance(
                outcome, (NotFoundError, ValidationFailedError, RejectedError)
            ):
                return attached, f"Xero: {outcome}"
            else:
                self._record(item.document_id, AttachmentStatus.FAILED, str(outcome))
            renew()
        return attached, ""

    def _attach(self, item: Wanted) -> Exception | None:
        pdf = purchase_summary_pdf(item.transaction, region=self._region, generated_at=self._now())
        try:
            self._xero.upload_attachment(
                item.endpoint,
                item.xero_id,
                file_name(item.transaction.transaction_id),
                pdf,
                "application/pdf",
                f"abx-summary-{self._id}-{item.document_id}",
            )
        except XeroError as problem:
            return problem
        return None

    def _record(self, document_id: int, outcome: str, reason: str) -> None:
        with transaction(self._factory) as session:
            document = session.get_one(OutboxDocument, document_id)
            document.summary = outcome
            if outcome == AttachmentStatus.FAILED:
                record_event(
                    session,
                    self._id,
                    "warning",
                    "summary_failed",
                    f"{document.doc_key}: Xero refused the purchase summary: {reason}",
                    "Check the document in Xero (deleted, or full of attachments).",
                    at=self._now(),
                    key=document.doc_key,
                )
