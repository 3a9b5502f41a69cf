"""Recovery: batches a crash left ``sending`` are resent with their Idempotency-Key inside the
key's lifetime, else looked up in Xero and reconciled; documents Xero refused after a plan on a
stored read go back to be planned on a fresh one."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from abxero.domain.lifecycles import DocumentStatus
from abxero.domain.plan import Endpoint
from abxero.store.db import transaction
from abxero.store.models import OutboxDocument
from abxero.sync import batches, ledger
from abxero.sync.failpoints import reached
from abxero.sync.posting import Posting
from abxero.sync.report import SyncReport
from abxero.sync.run_failures import Subject


class Recovery(Posting):
    """Finishes what an earlier run (or an earlier plan) left undone."""

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
