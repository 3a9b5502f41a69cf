"""A run that fails: its cause and remedy on record, and the document that keeps failing runs.

Any exception in a run ends it as failed (never "ok"), with an event that says what went wrong
and what to do. The engine remembers what it was working on when it failed — one source
transaction while planning, one batch while sending or recording — and when the same subject
fails runs in a row it is set aside, so one poison document cannot stall the organisation:

* a source transaction that fails two runs in a row is marked ``failed`` with the cause (nothing
  of it reached Xero: it failed before its batch was opened);
* a batch that fails two runs in a row may already be in Xero, so it is first handed to the
  normal recovery's other path — looked up in Xero and recorded (reconciled) instead of resent;
  if that fails too (three in a row), its documents still ``sending`` are marked ``failed`` with
  a warning to look for them in Xero before retrying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from abxero.amazon.errors import AmazonError
from abxero.domain.context import ContextError
from abxero.domain.lifecycles import (
    FINISHED_RUN_STATUSES,
    BatchStatus,
    DocumentStatus,
    RunStatus,
    SourceStatus,
)
from abxero.store.models import Batch, Event, OutboxDocument, SyncRun
from abxero.sync.ledger import find_source
from abxero.xero.errors import XeroError

RUN_FAILED = "run_failed"
ISOLATED = "document_isolated"
INTERRUPTED = RunStatus.INTERRUPTED
INTERRUPTED_CAUSE = (
    "the worker running this sync stopped before it finished (killed, crashed or shut down); "
    "a later run took over and reconciles what it was sending"
)
RETRY_NOTE = (
    "Nothing was lost: abxero tries again at the next sync, and documents it was sending are "
    "resent with the same Idempotency-Key or looked up in Xero first, so nothing posts twice. "
    "A document that makes two runs in a row fail is set aside with this reason so the others "
    "keep posting. If this keeps happening, report the message to the abxero maintainers."
)


@dataclass(frozen=True)
class Subject:
    """What a run was working on: a source transaction or a batch."""

    kind: str
    key: str

    @property
    def label(self) -> str:
        return f"transaction {self.key}" if self.kind == "transaction" else f"batch {self.key}"


def is_outside_refusal(problem: BaseException) -> bool:
    """Xero or Amazon answered with an error: the cause is theirs, not abxero's code."""
    return isinstance(problem, XeroError | AmazonError)


def cause_of(problem: BaseException) -> str:
    """The exception as one line: its type and its message (in words for Xero's and Amazon's
    refusals)."""
    text = " ".join(str(problem).split())
    if isinstance(problem, XeroError):
        return f"Xero refused a request: {text or type(problem).__name__}"
    if isinstance(problem, AmazonError):
        return f"Amazon Business refused a request: {text or type(problem).__name__}"
    name = type(problem).__name__
    return f"{name}: {text}" if text else name


def blames_its_subject(problem: BaseException) -> bool:
    """Whether the failure may come from the document at hand, rather than from a database or
    network that was unavailable (those say nothing about the document, so never isolate it)."""
    if isinstance(problem, OperationalError | OSError):
        return False
    return not type(problem).__module__.startswith(("httpx", "httpcore"))


def remedy_for_failure(problem: BaseException) -> str:
    if isinstance(problem, ContextError):
        return (
            f"Xero sent organisation settings abxero cannot read ({problem}). Check the "
            "organisation's settings in Xero (lock dates, time zone); " + RETRY_NOTE
        )
    if isinstance(problem, XeroError):
        return (
            "Check in Xero that the organisation is active (subscription, restrictions) and "
            "that its settings and the Amazon Business contact open normally; if Xero keeps "
            "refusing, reconnect Xero from the organisation's page. " + RETRY_NOTE
        )
    return RETRY_NOTE


LOOK_BACK = 5


def failures_in_a_row(session: Session, connection_id: int, run_id: int, subject: Subject) -> int:
    """How many finished runs just before ``run_id`` failed on ``subject`` (at most 5)."""
    previous = session.scalars(
        select(SyncRun)
        .where(
            SyncRun.xero_connection_id == connection_id,
            SyncRun.id != run_id,
            SyncRun.status.in_(FINISHED_RUN_STATUSES),
        )
        .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
        .limit(LOOK_BACK)
    ).all()
    subjects = _failure_subjects(session, connection_id)
    count = 0
    for run in previous:
        if run.status != RunStatus.FAILED or subjects.get(run.id) != subject:
            break
        count += 1
    return count


def _failure_subjects(session: Session, connection_id: int) -> dict[int, Subject]:
    events = session.scalars(
        select(Event)
        .where(Event.xero_connection_id == connection_id, Event.code == RUN_FAILED)
        .order_by(Event.id.desc())
        .limit(LOOK_BACK * 2)
    )
    found = {}
    for event in events:
        run, kind, key = (event.data.get(name) for name in ("run_id", "subject_kind", "subject"))
        if isinstance(run, int) and kind and key:
            found[run] = Subject(str(kind), str(key))
    return found


def isolate(
    session: Session,
    connection_id: int,
    subject: Subject,
    cause: str,
    *,
    earlier_failures: int,
    now: datetime,
    key_lifetime: timedelta,
) -> str:
    """Set the subject aside after repeated failures; returns what was done, for the event."""
    if subject.kind == "transaction":
        return _isolate_transaction(session, connection_id, subject.key, cause)
    if earlier_failures == 1:
        return _reconcile_next(session, int(subject.key), now, key_lifetime)
    return _isolate_batch(session, int(subject.key), cause, now)


def _reconcile_next(session: Session, batch_id: int, now: datetime, lifetime: timedelta) -> str:
    """Make the next recovery look the batch up in Xero instead of resending it."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.status != BatchStatus.SENDING:
        return ""
    batch.sent_at = now - 2 * lifetime
    return f"Batch {batch_id} will be looked up in Xero and recorded instead of being sent again"


def _isolate_transaction(
    session: Session, connection_id: int, transaction_id: str, cause: str
) -> str:
    source = find_source(session, connection_id, transaction_id)
    if source is None:
        return ""
    source.status = SourceStatus.FAILED
    source.reason_code = "failed_repeatedly"
    source.reason = f"abxero failed on this transaction two syncs in a row: {cause}"
    source.remedy = (
        "Nothing of it was sent to Xero. Report the message to the abxero maintainers; after "
        "an update, press Retry to plan it again."
    )
    return f"Amazon transaction {transaction_id} was set aside so the rest keep posting"


def _isolate_batch(session: Session, batch_id: int, cause: str, now: datetime) -> str:
    batch = session.get(Batch, batch_id)
    if batch is None:
        return ""
    batch.status = BatchStatus.FAILED
    batch.finished_at = now
    documents = session.scalars(
        select(OutboxDocument).where(
            OutboxDocument.id.in_(list(batch.doc_ids)),
            OutboxDocument.status == DocumentStatus.SENDING,
        )
    ).all()
    for document in documents:
        document.status = DocumentStatus.FAILED
        document.error = (
            f"abxero failed while sending this document two syncs in a row ({cause}). It may "
            "have reached Xero: look for it there before you press Retry."
        )
    return f"{len(documents)} documents of batch {batch_id} were set aside so the rest keep posting"
