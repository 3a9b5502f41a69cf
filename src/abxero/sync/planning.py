"""Planning: stored sources planned chunk by chunk into outbox documents under the ledger
lock, with review notes as events, details fetched first, unapplied credit settled after."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.context import OrgContext
from abxero.domain.mapping import MappingConfig
from abxero.domain.overrides import plan_record_with
from abxero.domain.plan import Plan, review_event
from abxero.store.db import transaction
from abxero.store.models import SourceTransaction
from abxero.sync import ledger
from abxero.sync.bills import LedgerBills
from abxero.sync.failpoints import reached
from abxero.sync.mappings import latest_mapping
from abxero.sync.org_context import OrganisationContext
from abxero.sync.report import SyncReport
from abxero.sync.run_failures import Subject
from abxero.sync.unapplied import settle_unapplied

PLAN_CHUNK = 200


class Planning(OrganisationContext):
    """Turns stored sources into planned documents (``domain/plan.py``) in the ledger."""

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

    def _settle_unapplied(self) -> None:
        """Allocate Pay-by-Invoice credit whose bill is now known; say once what stays
        unapplied (``sync/unapplied.py``)."""
        with transaction(self._factory) as session:
            settle_unapplied(session, self._id, self._now())
