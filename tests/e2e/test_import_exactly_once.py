"""A 90-day import lands every Amazon transaction in Xero exactly once, to the cent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from abxero.store.models import Batch, SourceTransaction
from tests.e2e.harness import Harness, exactly_once_report

pytestmark = pytest.mark.slow


def _import(harness: Harness, region: str, days: int = 90, end_shift: int = 0) -> None:
    end = harness.runtime.now() - timedelta(days=end_shift)
    harness.runtime.engine_for(harness.connections[region]).import_range(
        end - timedelta(days=days), end
    )


@pytest.mark.parametrize("region", ["US", "UK"])
def test_ninety_day_import_posts_one_document_set_per_transaction(
    harness: Harness, region: str
) -> None:
    _import(harness, region)
    assert harness.documents(region) == []  # nothing reaches Xero before the mapping is done
    harness.map_and_finish(region)
    report = harness.runtime.engine_for(harness.connections[region]).post_pending()
    assert report.error == ""
    result = exactly_once_report(harness, region)
    assert result["xero_documents"] == result["ledger_documents"] > 20
    assert result["unknown_in_xero"] == []
    assert result["mismatched_totals"] == []
    assert result["per_instrument_equal"]
    assert result["payments_in_xero"] == result["ledger_payments"] > 0
    assert result["trial_balance_total"] == Decimal(0)
    statuses = {source.status for source in harness.sources(region)}
    assert statuses <= {"posted", "skipped"}
    stats = harness.xero_admin("GET", "/_sim/stats")
    assert stats["spec_loaded"]
    assert not stats["spec_rejections"]
    assert not stats["spec_validation_failures"]


def test_reimporting_the_same_and_an_overlapping_range_creates_nothing(harness: Harness) -> None:
    _import(harness, "UK")
    harness.map_and_finish("UK")
    harness.runtime.engine_for(harness.connections["UK"]).post_pending()
    before = exactly_once_report(harness, "UK")
    again = harness.runtime.engine_for(harness.connections["UK"]).import_range(
        harness.runtime.now() - timedelta(days=90), harness.runtime.now()
    )
    _import(harness, "UK", days=60, end_shift=-5)
    after = exactly_once_report(harness, "UK")
    assert again.new == 0
    assert again.documents_posted == 0
    assert after["xero_documents"] == before["xero_documents"]
    assert after["all_payments"] == before["all_payments"]


def test_an_import_with_posting_on_posts_while_it_still_fetches_and_posts_once(
    harness: Harness,
) -> None:
    """With the set-up done, an import posts full batches of what is planned while later pages
    are still being fetched (Amazon answers each request 0.3 s late here, so fetching is the
    slow side), and still lands every transaction in Xero exactly once."""
    _import(harness, "US", days=3)
    harness.map_and_finish("US")
    harness.amazon_admin("POST", "/_sim/faults", {"queue": ["slow"] * 30, "slow_seconds": 0.3})
    report = harness.runtime.engine_for(harness.connections["US"]).import_range(
        harness.runtime.now() - timedelta(days=90), harness.runtime.now()
    )
    assert report.error == ""
    with harness.runtime.sessions() as session:
        first_answer = session.scalar(select(func.min(Batch.finished_at)))
        last_fetch = session.scalar(select(func.max(SourceTransaction.first_seen_at)))
    assert first_answer is not None
    assert last_fetch is not None
    assert first_answer < last_fetch  # Xero answered a batch before the feed was all read
    result = exactly_once_report(harness, "US")
    assert result["xero_documents"] == result["ledger_documents"] > 20
    assert result["unknown_in_xero"] == []
    assert result["mismatched_totals"] == []
    assert result["payments_in_xero"] == result["ledger_payments"] == result["all_payments"]
    assert result["trial_balance_total"] == Decimal(0)
    # a card the 3-day look did not show is held, visibly, as the set-up left it unmapped
    assert {source.status for source in harness.sources("US")} <= {"posted", "skipped", "held"}
