"""Every lifecycle the ledger records, named once.

The database keeps these as plain strings (``status`` and ``setup_step`` columns in
``store/models.py``); a ``StrEnum`` member *is* its string, so a stored row compares equal to
the member, reads back as the same text and no migration is needed. Every layer may import this
module: it imports nothing else of abxero.
"""

from __future__ import annotations

from enum import StrEnum


class SourceStatus(StrEnum):
    """One fetched Amazon record (``source_transactions.status``)."""

    NEW = "new"  # stored, not planned yet
    PLANNED = "planned"  # its documents are in the outbox
    HELD = "held"  # waits for the user (a mapping, a lock date, a currency …)
    POSTED = "posted"  # every document is in Xero
    QUARANTINED = "quarantined"  # unreadable; set aside for the user to decide
    SKIPPED = "skipped"  # nothing to post (a zero amount, a non-purchase)
    FAILED = "failed"  # a document of it failed; retried from the manage page
    ROUTED = "routed"  # another organisation posts it (sync/routing.py)
    ROLLED_BACK = "rolled_back"  # its documents were removed from Xero by a rollback
    ENTERED_BY_HAND = "entered_by_hand"  # a quarantined record the user entered in Xero
    DISMISSED = "dismissed"  # a quarantined record the user dismissed


class DocumentStatus(StrEnum):
    """One planned Xero document (``outbox_documents.status``)."""

    PLANNED = "planned"
    SENDING = "sending"  # in a batch persisted before it was sent
    POSTED = "posted"
    FAILED = "failed"
    REMOVED = "removed"  # voided or deleted in Xero by a rollback


class AttachmentStatus(StrEnum):
    """A file attached to a posted document: the Amazon PDF (``outbox_documents.attachment``)
    or the purchase summary (``outbox_documents.summary``); empty = not settled yet."""

    ATTACHED = "attached"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


class BatchStatus(StrEnum):
    """One request to Xero (``batches.status``)."""

    SENDING = "sending"  # stored before it is sent; found so after a crash, it is reconciled
    DONE = "done"
    RECONCILED = "reconciled"  # looked up in Xero after a crash or a lost answer
    FAILED = "failed"  # closed by a run that failed twice on it (sync/run_failures.py)


class RunStatus(StrEnum):
    """One sync, import or post run (``sync_runs.status``)."""

    QUEUED = "queued"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its worker died; closed by the next run


FINISHED_RUN_STATUSES = (RunStatus.OK, RunStatus.FAILED, RunStatus.INTERRUPTED)
UNSUCCESSFUL_RUN_STATUSES = (RunStatus.FAILED, RunStatus.INTERRUPTED)


class ConnectionStatus(StrEnum):
    """Either side's connection (``xero_connections.status``, ``amazon_connections.status``)."""

    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the refresh token was refused
    DISCONNECTED = "disconnected"  # the user disconnected; history kept


class SetupStep(StrEnum):
    """How far the setup wizard has got (``xero_connections.setup_step``), in order."""

    AMAZON = "amazon"
    IMPORT = "import"
    MAPPING = "mapping"
    REVIEW = "review"
    DONE = "done"  # finished: the organisation posts and is synced on its interval


class InvoiceDetailStatus(StrEnum):
    """Amazon's invoice details for one transaction (``invoice_details.status``)."""

    FOUND = "found"
    PENDING = "pending"
    MISSING = "missing"
    FAILED = "failed"


class ReconciliationStatus(StrEnum):
    """One comparison of the ledger with Xero (``reconciliation_results.status``)."""

    CLEAN = "clean"
    GAPS = "gaps"
    FAILED = "failed"


class AlertStatus(StrEnum):
    """One alert (``alerts.status``)."""

    OPEN = "open"
    RESOLVED = "resolved"
    SUPERSEDED = "superseded"


class DeliveryStatus(StrEnum):
    """One alert message to one channel (``alert_deliveries.status``)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class RollbackStatus(StrEnum):
    """One rollback (``rollbacks.status``)."""

    PREVIEWED = "previewed"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RollbackActionStatus(StrEnum):
    """One document's part in a rollback (``rollback_actions.status``)."""

    PLANNED = "planned"
    SENDING = "sending"
    DONE = "done"  # removed from Xero
    GONE = "gone"  # already voided or deleted
    KEPT = "kept"  # left in Xero, with the reason
    FAILED = "failed"  # Xero refused the removal
