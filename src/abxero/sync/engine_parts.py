"""What every part of the engine shares: the organisation it runs for, the two outside
systems, the clock, what the current thread works on, events and progress.

``Engine`` (``engine.py``) is assembled from one class per job, each in its own module, all on
this base; ``Engine.__init__`` sets every attribute declared here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from abxero.store.db import transaction
from abxero.store.models import SyncRun, XeroConnection
from abxero.sync.events import record_event
from abxero.sync.invoice_details import DetailsHook
from abxero.sync.ports import AmazonFeed, XeroBooks
from abxero.sync.report import SyncReport, percent
from abxero.sync.run_failures import Subject


class EngineParts:
    """The state of one engine, and the few steps every part of it takes."""

    _factory: sessionmaker[Session]
    _id: int
    _amazon: AmazonFeed
    _xero: XeroBooks
    _now: Callable[[], datetime]
    _holder: str
    _key_lifetime: timedelta
    _lease_ttl: timedelta
    _on_progress: Callable[[SyncReport], None]
    _run_id: int | None
    _details: DetailsHook | None
    _local: threading.local
    _ledger_lock: threading.Lock
    _context_max_age: timedelta
    _used_stored_read: bool

    @property
    def _subject(self) -> Subject | None:
        """What the current thread works on, named if the run fails there."""
        subject: Subject | None = getattr(self._local, "subject", None)
        return subject

    @_subject.setter
    def _subject(self, value: Subject | None) -> None:
        self._local.subject = value

    def _progress(self, report: SyncReport) -> None:
        """Tell the caller, and the run row that progress bars read."""
        self._on_progress(report)
        if self._run_id is None:
            return
        with transaction(self._factory) as session:
            run = session.get_one(SyncRun, self._run_id)
            run.counts = report.counts()
            run.progress = percent(report)

    def _connection(self) -> XeroConnection:
        with self._factory() as session:
            return session.get_one(XeroConnection, self._id)

    def _event(
        self,
        session: Session,
        level: str,
        code: str,
        message: str,
        remedy: str,
        **data: str | int,
    ) -> None:
        record_event(session, self._id, level, code, message, remedy, at=self._now(), **data)
