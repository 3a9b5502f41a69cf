"""Posting: rounds of ready documents opened as batches and sent, Xero's answer recorded in
one transaction, and a document that keeps failing runs set aside (``run_failures.py``)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from abxero.domain.plan import Endpoint
from abxero.store.db import transaction
from abxero.sync import batches, context_reads, run_failures
from abxero.sync.engine_parts import EngineParts
from abxero.sync.failpoints import reached
from abxero.sync.refusals import FOUND_CODE, FOUND_REMEDY, found_message, recheck_refusals
from abxero.sync.remedies import remedy_for
from abxero.sync.report import SyncReport
from abxero.sync.run_failures import Subject

_UNCONFIRMED = (
    "Xero answered OK but gave no id for this document, so it is not yet known to exist.",
    "Nothing to do: abxero looks it up in Xero within minutes and posts it again if missing.",
)


class Posting(EngineParts):
    """Sends what the ledger holds ready, batch by batch, under the lease and the ledger lock."""

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
