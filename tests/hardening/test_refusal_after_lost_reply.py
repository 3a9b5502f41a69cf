"""A lost reply followed by a refusal must not put the ledger out of step with Xero.

The case from issue 21: payments were written by Xero but their replies were lost; the next
attempt reached Xero after its Idempotency-Key had expired (Xero keeps a key for six minutes,
``xero-api.md`` §3), so Xero treated it as new and refused each payment with "Invoice not of
valid status for creating payment" (the bill was already PAID). The payments were marked
failed although Xero held them, and Retry was refused for ever. Now a refused payment is
first looked up in Xero and recorded from Xero's own payment.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.services import manage
from abxero.store.db import transaction
from abxero.store.models import Batch, OutboxDocument
from abxero.sync.ledger import find_source
from abxero.sync.refusals import FOUND_CODE
from tests.e2e.harness import Harness
from tests.hardening.support import (
    assert_exactly_once,
    event_codes,
    events,
    import_and_finish,
    post,
)

pytestmark = pytest.mark.slow

LONG_KEY_LIFETIME = timedelta(hours=2)


def _sending(harness: Harness, region: str) -> list[str]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(Batch.endpoint).where(
                    Batch.xero_connection_id == harness.connections[region],
                    Batch.status == "sending",
                )
            )
        )


def _lose_replies_until_payments_are_lost(harness: Harness, region: str) -> None:
    """Each run loses the reply of its first write, so the runs advance one batch at a time
    (the batch lost in the run before is replayed under its key first) until a batch of
    payments was written by Xero and its reply lost."""
    engine = harness.runtime.engine_for(harness.connections[region], key_lifetime=LONG_KEY_LIFETIME)
    for _ in range(40):
        harness.xero_admin("POST", "/_sim/faults", {"lose_responses": 1})
        report = engine.post_pending()
        lost = _sending(harness, region)
        if "Payments" in lost:
            assert report.error
            return
        assert lost, "every batch was answered before a payment batch's reply was lost"
    raise AssertionError("no payment batch within 40 runs")


def test_payments_refused_after_their_reply_was_lost_are_recorded_from_xero(
    harness: Harness,
) -> None:
    import_and_finish(harness, "US")
    _lose_replies_until_payments_are_lost(harness, "US")
    harness.xero_admin("POST", "/_sim/faults", {"lose_responses": 0})
    harness.xero_admin("POST", "/_sim/clock", {"advance_seconds": 7 * 60})  # Xero forgets the key
    engine = harness.runtime.engine_for(harness.connections["US"], key_lifetime=LONG_KEY_LIFETIME)
    report = engine.post_pending()
    assert report.error == ""
    assert report.documents_failed == 0
    documents = harness.documents("US")
    assert [d.doc_key for d in documents if d.status != "posted"] == []
    found = [event for event in events(harness, "US") if event.code == FOUND_CODE]
    assert found, "the refusals were not looked up"
    assert all("not of valid status" in event.message for event in found)
    assert "document_rejected" not in event_codes(harness, "US")
    report_once = assert_exactly_once(harness, "US")
    assert report_once["all_payments"] == report_once["ledger_payments"]


def test_retry_of_a_payment_an_older_version_marked_failed_records_xeros_payment(
    harness: Harness,
) -> None:
    """The ledger an older version left: the payment marked failed although Xero holds it.
    Retry sends it again, Xero refuses it, and the lookup records Xero's payment."""
    import_and_finish(harness, "US")
    assert post(harness, "US").error == ""
    paid = next(d for d in harness.documents("US") if d.role == "payment")
    xero_payment = paid.xero_id
    with transaction(harness.runtime.sessions) as session:
        stored = session.get_one(OutboxDocument, paid.id)
        stored.status, stored.xero_id = "failed", ""
        stored.error = "Invoice not of valid status for creating payment"
        source = find_source(session, harness.connections["US"], paid.transaction_id)
        assert source is not None
        source.status = "planned"
    queue = build_queue(f"sqlite:///{harness.data_dir / 'queue.db'}", immediate=True)
    jobs = Jobs(queue, lambda: harness.runtime, periodic=False)
    assert manage.retry_transaction(
        harness.runtime.sessions, jobs, harness.connections["US"], paid.transaction_id
    )
    [again] = [
        d
        for d in harness.documents("US")
        if d.transaction_id == paid.transaction_id and d.role == "payment"
    ]
    assert (again.status, again.xero_id) == ("posted", xero_payment)
    assert FOUND_CODE in event_codes(harness, "US")
    report = assert_exactly_once(harness, "US")
    assert report["all_payments"] == report["ledger_payments"]
