"""A whole sync when Xero answers a payment OK without a PaymentID and never creates it
(XeroAPI/Xero-NetStandard#324, "Batch Payments response hasValidationErrors is false but
payment not in Xero", labelled "Type: Bug - Confirmed"): the payment is not recorded as
posted; after the key's lifetime it is looked up, not found, and posted once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.store.models import Event, XeroConnection
from abxero.sync.amazon_feed import AmazonFeedClient
from abxero.sync.engine import Engine
from abxero.sync.xero_books import XeroBooksClient
from abxero.xero import connect_accounting
from tests.e2e.harness import Harness, running_harness
from tests.hardening.support import assert_exactly_once, import_and_finish

pytestmark = pytest.mark.slow


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, f"sqlite:///{tmp_path / 'abxero.db'}") as world:
        yield world


class PaymentsWithoutIds(httpx.BaseTransport):
    """Xero's bug in front of the simulator: the first batch of payments is answered OK for
    every element, with no PaymentID, and is not passed on (nothing is created)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.swallowed = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if (
            request.method == "PUT"
            and request.url.path.endswith("/Payments")
            and not self.swallowed
        ):
            self.swallowed += 1
            sent = jsontext.loads(request.read().decode())["Payments"]
            echoed = [{**payment, "StatusAttributeString": "OK"} for payment in sent]
            return httpx.Response(200, content=jsontext.dumps({"Payments": echoed}).encode())
        return self._inner.handle_request(request)


def _buggy_engine(harness: Harness, http: httpx.Client) -> Engine:
    runtime, connection_id = harness.runtime, harness.connections["US"]
    with runtime.sessions() as session:
        stored = session.get_one(XeroConnection, connection_id)
    assert stored.token_set_id is not None
    api = connect_accounting(
        http,
        stored.tenant_id,
        runtime.xero_tokens(stored.token_set_id),
        api_url=runtime.settings.xero_api_url,
        pacer=runtime.pacer,
    )
    feed = AmazonFeedClient(runtime.amazon_api(connection_id))
    return Engine(runtime.sessions, connection_id, feed, XeroBooksClient(api), now=runtime.now)


def test_a_payment_answered_ok_without_an_id_is_posted_once_after_lookup(
    harness: Harness,
) -> None:
    import_and_finish(harness, "US")
    bug = PaymentsWithoutIds()
    with httpx.Client(transport=bug) as http:
        first = _buggy_engine(harness, http).post_pending()
    assert bug.swallowed == 1
    assert first.error == ""
    waiting = [d for d in harness.documents("US") if d.role == "payment" and d.status == "sending"]
    assert waiting
    assert all(d.xero_id == "" for d in waiting)
    assert all(d.status != "posted" or d.xero_id for d in harness.documents("US"))
    with harness.runtime.sessions() as session:
        codes = set(session.scalars(select(Event.code)))
    assert "document_unconfirmed" in codes
    later = harness.runtime.engine_for(harness.connections["US"], key_lifetime=timedelta(0))
    assert later.post_pending().error == ""
    assert not [d for d in harness.documents("US") if d.status == "sending"]
    assert_exactly_once(harness, "US")
