"""Invoice and payment details for the Pay-by-Invoice transactions that need them.

Amazon leaves some facts out of ``getTransactions``: in NA the invoice number of a Pay by
Invoice purchase comes from getInvoiceDetailsByOrderLineItems ("Downloading invoices in NA",
prerequisite 4); in the UK a purchase may belong to a consolidated invoice, whose PDF is the
one to attach ("Downloading invoices in EU", prerequisite 4; ``consolidatedInvoiceDetails``
reads "Pending" until it exists); and getBatchInvoicePaymentDetails gives the due date
(amazon-business-api.md §3.3, §3.4, §5.2). Both calls take at most 25 items.

What they say is stored in ``invoice_details`` beside the source row, never in its raw JSON
(the raw record and its content hash stay as Amazon sent them). A failed call never stops
posting: the row records why, and planning falls back to the record's own data and the
configured terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.amazon import AmazonError, InvoiceClient, InvoicePayment, LineInvoices, OrderLineRef
from abxero.domain import jsontext
from abxero.domain.lifecycles import InvoiceDetailStatus, SourceStatus
from abxero.domain.overrides import PlanOverrides
from abxero.domain.transactions import Instrument
from abxero.store.db import transaction
from abxero.store.models import InvoiceDetail, SourceTransaction
from abxero.sync.events import record_event

FOUND, PENDING = InvoiceDetailStatus.FOUND, InvoiceDetailStatus.PENDING
MISSING, FAILED = InvoiceDetailStatus.MISSING, InvoiceDetailStatus.FAILED
PENDING_CONSOLIDATED = "pending"
#: A consolidated invoice still "Pending" is asked about again once a day, for two months.
RECHECK_PENDING = timedelta(days=1)
MAX_ATTEMPTS = 60
REFUND_TYPES = frozenset({"REFUND", "OVERREFUND"})


@dataclass
class Wanted:
    """One Pay-by-Invoice transaction and what we still need to know about it."""

    transaction_id: str
    own_number: str
    refund: bool
    lines: tuple[OrderLineRef, ...]
    number: str = ""
    consolidated: str = ""
    status: str = FOUND
    errors: list[str] = field(default_factory=list)
    due: InvoicePayment | None = None


class DetailsHook(Protocol):
    """What the engine asks of the details side: fetch before planning, overrides per record."""

    def fetch(self) -> object: ...

    def overrides(self, session: Session, transaction_id: str) -> PlanOverrides: ...


@dataclass
class DetailsReport:
    asked: int = 0
    found: int = 0
    pending: int = 0
    failed: int = 0


def overrides_for(session: Session, connection_id: int, transaction_id: str) -> PlanOverrides:
    """What planning should apply for one transaction (empty when nothing is known)."""
    row = _row(session, connection_id, transaction_id)
    if row is None:
        return PlanOverrides()
    return PlanOverrides(invoice_number=row.invoice_number, due_date=row.due_date)


class InvoiceDetailsFetcher:
    """Fetches and stores the details of one organisation's Pay-by-Invoice transactions.

    The engine's planning hook: ``fetch`` runs before planning, ``overrides`` per transaction.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        region: str,
        invoices: InvoiceClient,
        *,
        now: Callable[[], datetime],
        limit: int = 500,
    ) -> None:
        self._factory, self._id, self._region = factory, connection_id, region
        self._invoices, self._now, self._limit = invoices, now, limit

    def fetch(self) -> DetailsReport:
        """Ask Amazon about every transaction still waiting for details; never raises an
        Amazon error (a failure is recorded on the rows it concerns)."""
        with self._factory() as session:
            wanted = self._wanted(session)
        report = DetailsReport(asked=len(wanted))
        if not wanted:
            return report
        self._read_invoices([w for w in wanted if self._needs_lines(w)])
        for item in wanted:
            if not item.number and not item.errors and item.own_number:
                item.number = item.own_number
        self._read_due_dates([w for w in wanted if w.number and not w.refund])
        with transaction(self._factory) as session:
            for item in wanted:
                self._store(session, item)
            self._tell(session, [item for item in wanted if item.status == FAILED])
        report.found = sum(1 for w in wanted if w.status == FOUND)
        report.pending = sum(1 for w in wanted if w.status == PENDING)
        report.failed = sum(1 for w in wanted if w.status in (FAILED, MISSING))
        return report

    def overrides(self, session: Session, transaction_id: str) -> PlanOverrides:
        return overrides_for(session, self._id, transaction_id)

    # -- what to ask -------------------------------------------------------------------------

    def _wanted(self, session: Session) -> list[Wanted]:
        done = select(InvoiceDetail.transaction_id).where(
            InvoiceDetail.xero_connection_id == self._id,
            (InvoiceDetail.status != PENDING)
            | (InvoiceDetail.attempts >= MAX_ATTEMPTS)
            | (InvoiceDetail.checked_at > self._now() - RECHECK_PENDING),
        )
        rows = session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == self._id,
                SourceTransaction.transaction_id.not_in(done),
                SourceTransaction.status != SourceStatus.QUARANTINED,
            )
            .order_by(SourceTransaction.id)
        )
        found: list[Wanted] = []
        for source in rows:
            if len(found) == self._limit:
                break
            if _pay_by_invoice(source.instrument_key):
                found.append(_wanted_of(source))
        return found

    def _needs_lines(self, item: Wanted) -> bool:
        """US: only a record without its number; UK: always (a consolidated invoice)."""
        return bool(item.lines) and (not item.own_number or self._region == "UK")

    # -- asking ------------------------------------------------------------------------------

    def _read_invoices(self, wanted: Sequence[Wanted]) -> None:
        lines = list(dict.fromkeys(line for item in wanted for line in item.lines))
        if not lines:
            return
        try:
            answers = {answer.line: answer for answer in self._invoices.invoice_details(lines)}
        except AmazonError as problem:
            for item in wanted:
                _fail(item, f"getInvoiceDetailsByOrderLineItems failed: {problem}")
            return
        for item in wanted:
            _choose_invoice(item, [answers[line] for line in item.lines if line in answers])

    def _read_due_dates(self, wanted: Sequence[Wanted]) -> None:
        numbers = list(dict.fromkeys(item.number for item in wanted))
        if not numbers:
            return
        try:
            answers = {p.invoice_id: p for p in self._invoices.payment_details(numbers)}
        except AmazonError as problem:
            for item in wanted:
                item.errors.append(f"getBatchInvoicePaymentDetails failed: {problem}")
            return
        for item in wanted:
            item.due = answers.get(item.number)
            if item.due is not None and item.due.error:
                item.errors.append(f"no due date from Amazon: {item.due.error}")

    def _tell(self, session: Session, failed: Sequence[Wanted]) -> None:
        """One warning per run that could not read Amazon's details for some purchases."""
        if not failed:
            return
        record_event(
            session,
            self._id,
            "warning",
            "invoice_details_failed",
            f"Amazon's invoice details could not be read for {len(failed)} Pay by "
            f"Invoice purchase(s): {failed[0].errors[0]}",
            "Nothing to do: they post with the order number and your payment terms.",
            at=self._now(),
            transactions=", ".join(item.transaction_id for item in failed[:20]),
        )

    # -- storing -----------------------------------------------------------------------------

    def _store(self, session: Session, item: Wanted) -> None:
        row = _row(session, self._id, item.transaction_id)
        if row is None:
            row = InvoiceDetail(xero_connection_id=self._id, transaction_id=item.transaction_id)
            session.add(row)
        row.status = item.status
        row.invoice_number = "" if item.number == item.own_number else item.number
        row.consolidated_number = item.consolidated
        due = item.due.due_date if item.due is not None and item.due.found else None
        row.due_date = due.date() if due is not None else None
        row.payment_status = item.due.status if item.due is not None else ""
        row.error = "; ".join(item.errors)
        row.attempts = (row.attempts or 0) + 1
        row.checked_at = self._now()


def _row(session: Session, connection_id: int, transaction_id: str) -> InvoiceDetail | None:
    return session.scalars(
        select(InvoiceDetail).where(
            InvoiceDetail.xero_connection_id == connection_id,
            InvoiceDetail.transaction_id == transaction_id,
        )
    ).one_or_none()


def _pay_by_invoice(instrument_key: str) -> bool:
    return Instrument.from_key(instrument_key or "").looks_like_pay_by_invoice


def _wanted_of(source: SourceTransaction) -> Wanted:
    raw = jsontext.loads(source.raw)
    record = raw if isinstance(raw, dict) else {}
    items = record.get("transactionLineItems")
    return Wanted(
        transaction_id=source.transaction_id,
        own_number=str(record.get("invoiceNumber") or ""),
        refund=str(record.get("transactionType") or "").upper() in REFUND_TYPES,
        lines=tuple(dict.fromkeys(_line_refs(items if isinstance(items, list) else []))),
    )


def _line_refs(items: Iterable[object]) -> Iterable[OrderLineRef]:
    for item in items:
        if not isinstance(item, dict):
            continue
        parts = (item.get("orderId"), item.get("orderLineItemId"), item.get("shipmentId"))
        if all(isinstance(part, str) and part for part in parts):
            yield OrderLineRef(*(str(part) for part in parts))


def _fail(item: Wanted, reason: str) -> None:
    item.status = FAILED
    item.errors.append(reason)


def _choose_invoice(item: Wanted, answers: list[LineInvoices]) -> None:
    """The one invoice (charge) or credit memo (refund) the transaction's lines share."""
    refused = [answer.error for answer in answers if answer.error]
    if refused:
        _fail(item, "Amazon refused the invoice lookup: " + "; ".join(refused))
        return
    kind = "CREDIT_MEMO" if item.refund else "STANDARD"
    invoices = [i for answer in answers for i in answer.invoices if i.kind.upper() == kind]
    numbers = list(dict.fromkeys(i.number for i in invoices))
    consolidated = list(
        dict.fromkeys(i.consolidated_number for i in invoices if i.consolidated_number)
    )
    if consolidated:
        item.consolidated = consolidated[0]
        if consolidated[0].lower() == PENDING_CONSOLIDATED:
            item.status = PENDING
    if item.own_number:
        return
    if len(numbers) == 1:
        item.number = numbers[0]
    elif not numbers:
        item.status = MISSING
        item.errors.append("Amazon lists no invoice for these order lines yet")
    else:
        item.status = MISSING
        item.errors.append(f"the order lines have several invoices ({', '.join(numbers)})")
