"""One sync of one organisation: fetch → store → plan → post → record (design §3).

The engine holds the organisation's lease for the whole run, so a queue that delivers a task
twice, or two workers, still run one sync. The lease is short and kept alive by a heartbeat;
the engine checks it before every batch it opens or sends, so a run that lost it stops there.
Every step commits its own small transaction, and each is safe to repeat after a crash at any
instruction:

* a fetched page and the bookmark that covers it commit together;
* a batch and the ``sending`` mark of its documents commit before the request goes out;
* Xero's answer for a batch commits in one transaction; a batch left ``sending`` is resent with
  the same Idempotency-Key inside the key's lifetime and reconciled against Xero after it.

Any exception ends the run as failed with its cause and a remedy (``run_failures.py``); only a
successful run moves ``last_sync_at``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain import due, jsontext
from abxero.domain.context import OrgContext
from abxero.domain.lifecycles import ConnectionStatus, DocumentStatus, RunStatus
from abxero.domain.mapping import MappingConfig
from abxero.domain.overrides import plan_record_with
from abxero.domain.plan import Endpoint, Plan, review_event
from abxero.store.db import transaction
from abxero.store.models import (
    Bookmark,
    Event,
    OutboxDocument,
    SourceTransaction,
    SyncRun,
    XeroConnection,
    utcnow,
)
from abxero.sync import (
    batches,
    context_reads,
    ledger,
    rollback,
    routing,
    run_failures,
    seller_contacts,
)
from abxero.sync.bills import LedgerBills
from abxero.sync.failpoints import reached
from abxero.sync.invoice_details import DetailsHook
from abxero.sync.leases import DEFAULT_TTL, LeaseBusy, held, new_holder_id
from abxero.sync.mappings import latest_mapping
from abxero.sync.pipeline import Ahead
from abxero.sync.ports import AmazonFeed, ComeBackAt, NeedsReconnect, SideError, TryLater, XeroBooks
from abxero.sync.refusals import FOUND_CODE, FOUND_REMEDY, found_message, recheck_refusals
from abxero.sync.remedies import remedy_for
from abxero.sync.run_failures import Subject
from abxero.sync.unapplied import settle_unapplied
from abxero.sync.windows import advanced_cursor, incremental_start, windows

CONTACT_NAME = "Amazon Business"
PLAN_CHUNK = 200
#: How often the poster looks again for full batches, and renews the lease, while it waits for
#: the thread fetching and planning ahead of it.
AHEAD_WAIT = 0.2
KEY_LIFETIME = timedelta(minutes=5)
LEASE_TTL = DEFAULT_TTL
_UNCONFIRMED = (
    "Xero answered OK but gave no id for this document, so it is not yet known to exist.",
    "Nothing to do: abxero looks it up in Xero within minutes and posts it again if missing.",
)
log = structlog.get_logger(__name__)


def _log_failure(connection_id: int, run_id: int, problem: Exception) -> None:
    """Log the failed run; a broken log stream must not hide the failure itself (it is already
    recorded on the run row and as an event), as stdlib logging also swallows.

    An outside system's refusal is logged as its cause alone: the traceback says nothing more
    and would bury the message on a terminal. Anything else keeps its traceback.
    """
    with contextlib.suppress(Exception):
        if run_failures.is_outside_refusal(problem):
            log.error(
                "sync run failed",
                connection_id=connection_id,
                run_id=run_id,
                cause=run_failures.cause_of(problem),
            )
        else:
            log.exception("sync run failed", connection_id=connection_id, run_id=run_id)


@dataclass
class SyncReport:
    """What one run did; also what progress callbacks see while it runs."""

    kind: str
    fetched: int = 0
    new: int = 0
    unchanged: int = 0
    updated: int = 0
    flagged: int = 0
    planned: int = 0
    held: int = 0
    quarantined: int = 0
    skipped: int = 0
    documents_posted: int = 0
    documents_failed: int = 0
    windows_done: int = 0
    windows_total: int = 0
    posting: bool = False
    error: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if isinstance(value, int)}


Progress = Callable[[SyncReport], None]


class Engine:
    """Runs syncs and imports of one organisation against the two outside systems."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        connection_id: int,
        amazon: AmazonFeed,
        xero: XeroBooks,
        *,
        now: Callable[[], datetime] = utcnow,
        holder: str | None = None,
        key_lifetime: timedelta = KEY_LIFETIME,
        lease_ttl: timedelta = LEASE_TTL,
        progress: Progress | None = None,
        details: DetailsHook | None = None,
        context_max_age: timedelta = context_reads.CONTEXT_MAX_AGE,
    ) -> None:
        self._factory = factory
        self._id = connection_id
        self._amazon = amazon
        self._xero = xero
        self._now = now
        self._holder = holder or new_holder_id()
        self._key_lifetime = key_lifetime
        self._lease_ttl = lease_ttl
        self._on_progress = progress or (lambda report: None)
        self._run_id: int | None = None
        self._details = details
        self._local = threading.local()
        self._ledger_lock = threading.Lock()
        self._subject = None
        self._context_max_age = context_max_age
        self._used_stored_read = False

    @property
    def _subject(self) -> Subject | None:
        """What the current thread works on, named if the run fails there."""
        subject: Subject | None = getattr(self._local, "subject", None)
        return subject

    @_subject.setter
    def _subject(self, value: Subject | None) -> None:
        self._local.subject = value

    def sync(self, run_id: int | None = None) -> SyncReport:
        """Read the feed from the bookmark (with overlap) to now, then plan and post."""
        return self._run("sync", self._incremental_windows, run_id)

    def import_range(self, start: datetime, end: datetime, run_id: int | None = None) -> SyncReport:
        """Read ``[start, end)`` again, then plan and post; nothing already posted repeats.
        Transactions a rollback took out of Xero in that range are posted again, once."""

        def import_windows() -> list[tuple[datetime, datetime]]:
            with transaction(self._factory) as session:
                rollback.release(session, self._id, start, end)
            return list(windows(start, end))

        return self._run("import", import_windows, run_id)

    def post_pending(self, run_id: int | None = None) -> SyncReport:
        """Plan and post what is stored, without reading Amazon."""
        return self._run("post", list, run_id)

    # -- the run ---------------------------------------------------------------------------

    def _run(
        self,
        kind: str,
        plan_windows: Callable[[], list[tuple[datetime, datetime]]],
        run_id: int | None,
    ) -> SyncReport:
        report = SyncReport(kind)
        lease = f"sync:{self._id}"
        with held(self._factory, lease, self._holder, self._lease_ttl, self._now) as renew:
            run_id = self._start_run(kind, run_id)
            self._run_id, self._subject = run_id, None
            try:
                self._steps(report, plan_windows(), renew)
            except SideError as problem:
                report.error = str(problem)
                self._record_side_error(problem)
            except Exception as problem:  # any failure ends the run as failed, never as ok
                report.error = run_failures.cause_of(problem)
                self._record_failure(run_id, problem)
                _log_failure(self._id, run_id, problem)
            except BaseException:
                report.error = "the run was interrupted before it finished"
                raise
            finally:
                self._finish_run(run_id, report)
        return report

    def _steps(
        self,
        report: SyncReport,
        feed_windows: list[tuple[datetime, datetime]],
        renew: Callable[[], None],
    ) -> None:
        connection = self._connection()
        with transaction(self._factory) as session:
            routing.pull_changes(session, self._id)  # records routed here that changed
        report.posting = self._may_post(connection)
        if report.posting:
            self._recover(report, renew)
        report.windows_total = len(feed_windows)
        if report.posting and feed_windows:
            context = self._pipelined(report, connection, feed_windows, renew)
        else:
            for start, end in feed_windows:
                self._fetch_window(report, start, end, renew)
            if not report.posting:
                return
            context = self._context(connection)
        if context is None:
            return
        self._fetch_details()
        self._plan(report, context)
        if self._used_stored_read and report.held:
            # A hold decided on a stored read is confirmed on a fresh one: the account, lock
            # date or currency may have been fixed in Xero since.
            context = self._fresh_context(context.contact_id)
            report.held = 0
            self._plan(report, context)
        self._settle_unapplied()
        self._post(report, renew)
        if self._used_stored_read and report.failures:
            # Xero refused documents planned on a stored read: read again and plan them anew,
            # so that what changed in Xero (an archived account, a lock date) holds them with
            # its reason and remedy, as a fresh read would have before posting.
            context = self._fresh_context(context.contact_id)
            self._replan_refused(report)
            self._plan(report, context)
            self._post(report, renew)

    # -- the pipeline: fetching and planning run ahead of posting ------------------------------

    def _pipelined(
        self,
        report: SyncReport,
        connection: XeroConnection,
        feed_windows: list[tuple[datetime, datetime]],
        renew: Callable[[], None],
    ) -> OrgContext | None:
        """Fetch, store and plan page by page in a second thread while this one posts full
        batches of what is already planned, so Xero's minute budget never waits for Amazon or
        the planner. Each side commits its own short transactions; the ledger stays the only
        hand-over, so a crash anywhere leaves what a sequential run would. What is left (the
        last part batches, held records, unapplied credit) the caller posts as before."""
        ahead = Ahead(self._stored_mapping())
        worker = threading.Thread(
            target=self._run_ahead,
            args=(report, feed_windows, ahead),
            name=f"abxero-ahead-{self._id}",
            daemon=True,
        )
        worker.start()
        try:
            context = self._context(connection)
            ahead.start_planning(context)
            if context is not None:
                self._post_while_ahead(report, ahead, renew)
            while worker.is_alive():
                worker.join(AHEAD_WAIT)
                renew()
        except LeaseBusy:
            ahead.stop()  # another worker holds the organisation now: stop at the next window
            worker.join()
            raise
        except Exception:
            ahead.start_planning(None)  # fetching still finishes, as a sequential run's would
            worker.join()
            raise
        except BaseException:
            ahead.stop()
            worker.join()
            raise
        if ahead.failure is not None:
            self._subject = ahead.failed_on
            raise ahead.failure
        return context

    def _run_ahead(
        self, report: SyncReport, feed_windows: list[tuple[datetime, datetime]], ahead: Ahead
    ) -> None:
        """The second thread: every window page by page, each page planned once stored."""
        after = 0

        def plan_stored() -> None:
            nonlocal after
            context = ahead.planning_context()
            if context is None or ahead.mapping is None:
                return
            self._fetch_details()
            after = self._plan_from(report, context, ahead.mapping, (ledger.NEW,), after)
            ahead.planned.set()

        try:
            for start, end in feed_windows:
                if ahead.stopped:
                    return
                self._fetch_window(report, start, end, plan_stored)
        except BaseException as problem:  # handed to the poster, which ends the run with it
            ahead.fail(problem, self._subject)
        finally:
            ahead.finish()

    def _post_while_ahead(
        self, report: SyncReport, ahead: Ahead, renew: Callable[[], None]
    ) -> None:
        """Send full batches of ready documents until fetching and planning are done; a part
        batch waits, as it may fill up (sending it now would cost an extra call)."""
        endpoints = (*batches.FIRST_PHASE, *batches.SECOND_PHASE)
        while not ahead.done.is_set():
            ahead.planned.clear()
            sent = False
            for endpoint in endpoints:
                sent = self._post_round(report, endpoint, renew, full_only=True) or sent
            if not sent:
                ahead.planned.wait(AHEAD_WAIT)
                renew()

    def _may_post(self, connection: XeroConnection) -> bool:
        return due.may_post(
            connection.setup_step, connection.status, connection.parked_until, self._now()
        )

    # -- fetch -----------------------------------------------------------------------------

    def _incremental_windows(self) -> list[tuple[datetime, datetime]]:
        with self._factory() as session:
            bookmark = session.get(Bookmark, self._id)
        cursor = bookmark.feed_cursor if bookmark else None
        return list(windows(incremental_start(cursor, self._now()), self._now()))

    def _fetch_window(
        self, report: SyncReport, start: datetime, end: datetime, after_page: Callable[[], None]
    ) -> None:
        token = self._resume_token(start, end)
        for page in self._amazon.pages(start, end, token):
            with self._ledger_lock, transaction(self._factory) as session:
                counts = routing.store_routed(session, self._id, page.records)
                self._move_bookmark(session, start, end, page.next_token)
            reached("page_stored")
            report.fetched += len(page.records)
            report.new += counts.new
            report.unchanged += counts.unchanged
            report.updated += counts.updated
            report.flagged += counts.flagged
            self._progress(report)
            after_page()
        report.windows_done += 1
        self._progress(report)

    def _resume_token(self, start: datetime, end: datetime) -> str | None:
        with self._factory() as session:
            bookmark = session.get(Bookmark, self._id)
        if (
            bookmark
            and bookmark.page_token
            and (bookmark.window_start, bookmark.window_end)
            == (
                start,
                end,
            )
        ):
            return bookmark.page_token
        return None

    def _move_bookmark(
        self, session: Session, start: datetime, end: datetime, next_token: str | None
    ) -> None:
        bookmark = session.get(Bookmark, self._id)
        if bookmark is None:
            bookmark = Bookmark(xero_connection_id=self._id)
            session.add(bookmark)
        if next_token:
            bookmark.window_start, bookmark.window_end = start, end
            bookmark.page_token = next_token
            return
        bookmark.page_token = ""
        bookmark.window_start = bookmark.window_end = None
        bookmark.feed_cursor = advanced_cursor(bookmark.feed_cursor, start, end)

    # -- context and planning ----------------------------------------------------------------

    def _context(self, connection: XeroConnection) -> OrgContext | None:
        contact = self._xero.ensure_contact(connection.contact_id or None, CONTACT_NAME)
        with transaction(self._factory) as session:
            stored = session.get_one(XeroConnection, self._id)
            stored.contact_id = contact.contact_id
            if contact.archived:
                self._event(
                    session,
                    "error",
                    "contact_archived",
                    f'The supplier contact "{contact.name}" is archived in Xero, so no bill can '
                    "be posted to it.",
                    "Restore the contact in Xero (Contacts → Archived → Restore), then sync again.",
                )
                return None
        context = OrgContext.from_facts(self._organisation_facts(), contact.contact_id)
        reached("context_read")
        self._note_context(context)
        return context

    def _organisation_facts(self) -> dict[str, Any]:
        """The stored read of the organisation if it is recent, else a fresh one (kept)."""
        with self._factory() as session:
            facts = context_reads.recall(session, self._id, self._now(), self._context_max_age)
        self._used_stored_read = facts is not None
        if facts is not None:
            return facts
        return self._read_organisation()

    def _fresh_context(self, contact_id: str) -> OrgContext:
        self._used_stored_read = False
        context = OrgContext.from_facts(self._read_organisation(), contact_id)
        self._note_context(context)
        return context

    def _replan_refused(self, report: SyncReport) -> None:
        """Drop the documents Xero refused in this run and put their transactions back to
        ``new`` (as the manage page's Retry does); nothing refused was created in Xero."""
        keys = {key for key, _ in report.failures}
        with transaction(self._factory) as session:
            refused = session.scalars(
                select(OutboxDocument).where(
                    OutboxDocument.xero_connection_id == self._id,
                    OutboxDocument.doc_key.in_(keys),
                    OutboxDocument.status == DocumentStatus.FAILED,
                )
            ).all()
            sources = {document.transaction_id for document in refused}
            for document in refused:
                session.delete(document)
            for transaction_id in sources:
                source = ledger.find_source(session, self._id, transaction_id)
                if source is not None:
                    source.status = ledger.NEW
                    source.reason_code = source.reason = source.remedy = ""
        report.planned = max(report.planned - len(sources), 0)
        report.documents_failed -= len(refused)
        gone = {document.doc_key for document in refused}
        report.failures = [(key, error) for key, error in report.failures if key not in gone]

    def _read_organisation(self) -> dict[str, Any]:
        facts = self._xero.organisation_facts()
        with transaction(self._factory) as session:
            context_reads.remember(session, self._id, facts, self._now())
        return facts

    def _note_context(self, context: OrgContext) -> None:
        """Each note about the context (e.g. a time-zone fallback) once, as a warning."""
        with transaction(self._factory) as session:
            known = set(
                session.scalars(
                    select(Event.message).where(
                        Event.xero_connection_id == self._id, Event.code == "context_note"
                    )
                )
            )
            for note in context.notes:
                if note not in known:
                    self._event(
                        session,
                        "warning",
                        "context_note",
                        note,
                        "Check the organisation's time zone in Xero (Settings → Organisation "
                        "details); abxero uses it from the next sync.",
                    )

    def _stored_mapping(self) -> MappingConfig | None:
        with self._factory() as session:
            found = latest_mapping(session, self._id)
        return None if found is None else found[1]

    def _plan(self, report: SyncReport, context: OrgContext) -> None:
        mapping = self._stored_mapping()
        if mapping is None:
            with transaction(self._factory) as session:
                self._event(
                    session,
                    "warning",
                    "mapping_missing",
                    "Nothing is posted until the accounts are mapped.",
                    "Finish the mapping step of the setup.",
                )
            return
        if mapping.sellers.contact_per_seller:
            context = self._with_seller_contacts(context)
        self._plan_from(report, context, mapping, ledger.REPLANNABLE, 0)

    def _plan_from(
        self,
        report: SyncReport,
        context: OrgContext,
        mapping: MappingConfig,
        statuses: Sequence[str],
        after: int,
    ) -> int:
        """Plan the sources in ``statuses`` past id ``after``, a chunk per transaction; the
        last id planned."""
        while True:
            with self._ledger_lock, transaction(self._factory) as session:
                sources = self._sources_after(session, after, statuses)
                for source in sources:
                    self._subject = Subject("transaction", source.transaction_id)
                    reached("source_planning", source.transaction_id)
                    plan = self._plan_source(session, source, mapping, context)
                    ledger.record_plan(session, source, plan)
                    self._record_review(session, source.transaction_id, plan)
                    session.flush()  # a row this source cannot store fails here, named
                    self._count_plan(report, source.status)
                self._subject = None  # a failing commit is not the last source's fault
            reached("plan_chunk_stored")
            if sources:
                after = sources[-1].id
            if len(sources) < PLAN_CHUNK:
                return after

    def _settle_unapplied(self) -> None:
        """Allocate Pay-by-Invoice credit whose bill is now known; say once what stays
        unapplied (``sync/unapplied.py``)."""
        with transaction(self._factory) as session:
            for notice in settle_unapplied(session, self._id):
                notice.created_at = self._now()
                session.add(notice)

    def _with_seller_contacts(self, context: OrgContext) -> OrgContext:
        """``context`` with the contact of every seller a waiting transaction posts to; a
        missing one is found by name or created, and stored by ContactID at once. Sellers
        whose contact is archived in Xero are named, so their purchases are held, not sent
        to be refused."""
        with self._factory() as session:
            wanted = seller_contacts.sellers_waiting(session, self._id)
            known = seller_contacts.known(session, self._id)
        for key, name in sorted(wanted.items()):
            if key in known:
                continue
            contact = self._xero.ensure_contact(None, name, seller_contacts.key_suffix(key))
            with transaction(self._factory) as session:
                seller_contacts.remember(session, self._id, key, name, contact.contact_id)
            known[key] = contact.contact_id
        archived = self._xero.archived_contacts(list(known.values())) if known else set()
        return replace(
            context,
            seller_contacts=known,
            archived_seller_contacts=frozenset(k for k, i in known.items() if i in archived),
        )

    def _record_review(self, session: Session, transaction_id: str, plan: Plan) -> None:
        """One event per planned transaction whose plan has review notes (it posts regardless)."""
        review = review_event(plan)
        if review is not None:
            self._event(
                session,
                "warning",
                review.code,
                review.message,
                review.remedy,
                transaction_id=transaction_id,
            )

    # -- invoice details: the one hook (sync/invoice_details.py) ------------------------------

    def _fetch_details(self) -> None:
        """Amazon's invoice and payment details, fetched before planning (never raises an
        Amazon error: a failure is recorded and planning falls back)."""
        if self._details is not None:
            self._details.fetch()

    def _plan_source(
        self,
        session: Session,
        source: SourceTransaction,
        mapping: MappingConfig,
        context: OrgContext,
    ) -> Plan:
        details = self._details
        overrides = details.overrides(session, source.transaction_id) if details else None
        bills = LedgerBills(session, self._id)
        return plan_record_with(jsontext.loads(source.raw), mapping, context, bills, overrides)

    def _sources_after(
        self, session: Session, after: int, statuses: Sequence[str]
    ) -> Sequence[SourceTransaction]:
        return session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == self._id,
                SourceTransaction.status.in_(statuses),
                SourceTransaction.id > after,
            )
            .order_by(SourceTransaction.id)
            .limit(PLAN_CHUNK)
        ).all()

    @staticmethod
    def _count_plan(report: SyncReport, status: str) -> None:
        if status == ledger.PLANNED:
            report.planned += 1
        elif status == ledger.HELD:
            report.held += 1
        elif status == ledger.QUARANTINED:
            report.quarantined += 1
        elif status == ledger.SKIPPED:
            report.skipped += 1

    # -- posting -------------------------------------------------------------------------------

    def _recover(self, report: SyncReport, renew: Callable[[], None]) -> None:
        with self._factory() as session:
            interrupted = batches.interrupted_batches(session, self._id)
        for batch in interrupted:
            renew()  # a holder that lost its lease sends nothing more
            self._subject = Subject("batch", str(batch.id))
            sent_at = batch.sent_at or batch.created_at
            if self._now() - sent_at < self._key_lifetime:
                self._send(report, batches.as_outgoing(batch))
            else:
                reached("batch_reconciling", str(batch.id))
                with self._factory() as session:
                    wanted = batches.lookups(session, batch.id)
                payloads = [payload for _, payload in wanted]
                found = self._xero.find_many(Endpoint(batch.endpoint), payloads)
                with transaction(self._factory) as session:
                    counts = batches.reconcile(session, batch.id, found, self._now())
                report.documents_posted += counts.posted
            self._subject = None
            reached("recovery_done")

    def _post(self, report: SyncReport, renew: Callable[[], None]) -> None:
        """Send ready documents endpoint by endpoint, in full batches; bills before payments."""
        for phase in (batches.FIRST_PHASE, batches.SECOND_PHASE):
            for endpoint in phase:
                while self._post_round(report, endpoint, renew):
                    pass

    def _post_round(
        self,
        report: SyncReport,
        endpoint: Endpoint,
        renew: Callable[[], None],
        *,
        full_only: bool = False,
    ) -> bool:
        renew()  # a holder that lost its lease opens and sends nothing more
        with self._ledger_lock, transaction(self._factory) as session:
            ready = batches.ready_documents(
                session, self._id, (endpoint,), limit=batches.BATCH_SIZE * 4
            )
            outgoing = batches.open_batches(
                session, self._id, ready, self._now(), full_only=full_only
            )
        if outgoing:
            reached("batch_opened")
        for index, batch in enumerate(outgoing):
            if index:
                renew()
            self._send(report, batch)
            self._progress(report)
        return bool(outgoing)

    def _send(self, report: SyncReport, batch: batches.OutgoingBatch) -> None:
        self._subject = Subject("batch", str(batch.batch_id))
        answered = self._xero.send(batch)
        reached("batch_answered", str(batch.batch_id))
        rechecked = recheck_refusals(self._xero, batch, answered)
        with self._ledger_lock, transaction(self._factory) as session:
            counts = batches.record_outcomes(
                session, batch.batch_id, rechecked.outcomes, self._now(), remedy_for
            )
            keys = batches.element_keys(session, batch.batch_id)
            for index in rechecked.found:
                message = found_message(keys[index], answered[index].errors)
                self._event(session, "info", FOUND_CODE, message, FOUND_REMEDY, key=keys[index])
            for key, error in counts.failures:
                self._event(session, "error", "document_rejected", f"{key}: {error}", "", key=key)
            if counts.failures:
                # Xero refused a document: an account, tax rate or contact may have changed
                # since the stored read, so the next run reads the organisation again.
                context_reads.forget(session, self._id)
            for key in counts.unconfirmed:
                self._event(session, "warning", "document_unconfirmed", *_UNCONFIRMED, key=key)
        self._subject = None
        reached("batch_recorded")
        report.documents_posted += counts.posted
        report.documents_failed += counts.failed
        report.failures.extend(counts.failures)

    def _progress(self, report: SyncReport) -> None:
        """Tell the caller, and the run row that progress bars read."""
        self._on_progress(report)
        if self._run_id is None:
            return
        with transaction(self._factory) as session:
            run = session.get_one(SyncRun, self._run_id)
            run.counts = report.counts()
            run.progress = _percent(report)

    # -- bookkeeping -------------------------------------------------------------------------------

    def _connection(self) -> XeroConnection:
        with self._factory() as session:
            return session.get_one(XeroConnection, self._id)

    def _start_run(self, kind: str, run_id: int | None) -> int:
        """A new run row, or the queued one the caller made (so its progress bar follows).
        We hold the organisation's lease, so any other run still marked ``running`` lost its
        worker: it is closed as interrupted."""
        with transaction(self._factory) as session:
            run = session.get(SyncRun, run_id) if run_id is not None else None
            if run is None:
                run = SyncRun(xero_connection_id=self._id, kind=kind)
                session.add(run)
            run.status, run.started_at = RunStatus.RUNNING, self._now()
            session.flush()
            self._close_dead_runs(session, run.id)
            return run.id

    def _close_dead_runs(self, session: Session, current: int) -> None:
        dead = session.scalars(
            select(SyncRun).where(
                SyncRun.xero_connection_id == self._id,
                SyncRun.status == RunStatus.RUNNING,
                SyncRun.id != current,
            )
        ).all()
        for run in dead:
            run.status = run_failures.INTERRUPTED
            run.error = run_failures.INTERRUPTED_CAUSE
            run.finished_at = self._now()
            self._event(
                session,
                "warning",
                "run_interrupted",
                f"Sync run {run.id} was interrupted: {run_failures.INTERRUPTED_CAUSE}.",
                "Nothing to do: nothing posts twice and nothing is lost.",
                run_id=run.id,
            )

    def _finish_run(self, run_id: int, report: SyncReport) -> None:
        with transaction(self._factory) as session:
            run = session.get_one(SyncRun, run_id)
            run.status = RunStatus.FAILED if report.error else RunStatus.OK
            run.counts = report.counts()
            run.progress = 100
            run.error = report.error
            run.finished_at = self._now()
            if not report.error:
                session.get_one(XeroConnection, self._id).last_sync_at = self._now()

    def _record_failure(self, run_id: int, problem: Exception) -> None:
        """The run's cause and remedy as an event; a subject failing runs in a row is set aside."""
        cause = run_failures.cause_of(problem)
        subject = self._subject if run_failures.blames_its_subject(problem) else None
        where = f" while working on {subject.label}" if subject else ""
        with transaction(self._factory) as session:
            data: dict[str, str | int] = {"run_id": run_id, "cause": cause}
            if subject is not None:
                data |= {"subject_kind": subject.kind, "subject": subject.key}
            self._event(
                session,
                "error",
                run_failures.RUN_FAILED,
                f"The sync failed{where}: {cause}",
                run_failures.remedy_for_failure(problem),
                **data,
            )
            if subject is not None:
                self._isolate(session, run_id, subject, cause)

    def _isolate(self, session: Session, run_id: int, subject: Subject, cause: str) -> None:
        earlier = run_failures.failures_in_a_row(session, self._id, run_id, subject)
        if earlier == 0:
            return
        what = run_failures.isolate(
            session,
            self._id,
            subject,
            cause,
            earlier_failures=earlier,
            now=self._now(),
            key_lifetime=self._key_lifetime,
        )
        if what:
            self._event(
                session,
                "error",
                run_failures.ISOLATED,
                f"{what} ({earlier + 1} syncs in a row failed on it): {cause}",
                "See the item on this page for what to do; press Retry once it is resolved.",
                subject_kind=subject.kind,
                subject=subject.key,
            )

    def _record_side_error(self, problem: SideError) -> None:
        with transaction(self._factory) as session:
            connection = session.get_one(XeroConnection, self._id)
            if isinstance(problem, ComeBackAt):
                connection.parked_until = problem.when
                self._event(
                    session,
                    "warning",
                    "xero_day_limit",
                    f"Xero's daily limit for this organisation is used up; posting resumes at "
                    f"{problem.when:%Y-%m-%d %H:%M} UTC.",
                    "Nothing to do: abxero carries on by itself.",
                )
            elif isinstance(problem, NeedsReconnect):
                self._event(
                    session,
                    "error",
                    f"{problem.side}_needs_reconnect",
                    problem.message,
                    f"Reconnect {'Xero' if problem.side == 'xero' else 'Amazon Business'} on the "
                    "manage page.",
                )
                if problem.side == "xero":
                    connection.status = ConnectionStatus.NEEDS_RECONNECT
            elif isinstance(problem, TryLater):
                self._event(
                    session,
                    "warning",
                    f"{problem.side}_unavailable",
                    problem.message,
                    "Nothing to do: the next sync tries again.",
                )

    def _event(
        self,
        session: Session,
        level: str,
        code: str,
        message: str,
        remedy: str,
        **data: str | int,
    ) -> None:
        session.add(
            Event(
                xero_connection_id=self._id,
                level=level,
                code=code,
                message=message,
                remedy=remedy,
                data=dict(data),
                created_at=self._now(),
            )
        )


def _percent(report: SyncReport) -> int:
    if not report.windows_total:
        return 0
    return min(99, report.windows_done * 100 // report.windows_total)
