"""The demo's verdict compares everything Amazon sent with what Xero holds, not only the posted.

Before, ``ledger_summary`` summed only the posted records on the Amazon side, so a run that left
records in quarantine (or held) still printed ``totals_match: true``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from abxero.domain import jsontext
from abxero.store.models import SourceTransaction
from abxero_sim.demo import amazon_side, ledger_summary
from tests.e2e.harness import Harness

pytestmark = pytest.mark.slow


def _import_and_post(harness: Harness, region: str, **mapping: tuple[str, ...]) -> None:
    end = harness.runtime.now()
    engine = harness.runtime.engine_for(harness.connections[region])
    engine.import_range(end - timedelta(days=30), end)
    harness.map_and_finish(region, **mapping)
    engine.post_pending()


def _signed(raw: str) -> Decimal:
    record = jsontext.loads(raw)
    amount = Decimal(str(record["amount"]["amount"]))
    return -abs(amount) if record["transactionType"] in {"REFUND", "OVERREFUND"} else amount


def test_quarantined_records_make_the_verdict_differ(harness: Harness) -> None:
    # an unknown currency is still quarantined (it cannot be posted) but its amount is readable
    harness.amazon_admin(
        "POST", "/_sim/faults", {"malformed_every": 4, "malformed_kinds": ["unknown_currency"]}
    )
    _import_and_post(harness, "UK")
    summary = ledger_summary(harness.runtime, harness.connections["UK"])
    assert summary["quarantined"] > 0
    assert summary["totals_match"] is False
    quarantined = [s for s in harness.sources("UK") if s.status == "quarantined"]
    assert Decimal(summary["quarantined_total"]) == sum(_signed(s.raw) for s in quarantined)
    every = sum(_signed(s.raw) for s in harness.sources("UK"))
    assert Decimal(summary["amazon_total"]) == every
    assert Decimal(summary["amazon_total"]) == sum(
        Decimal(summary[key]) for key in ("posted_total", "held_total", "quarantined_total")
    )
    assert summary["xero_total"] == summary["posted_total"]
    assert summary["unaccounted"] == 0


def test_held_records_make_the_verdict_differ(harness: Harness) -> None:
    _import_and_post(harness, "UK", leave_unmapped=("Visa/8812",))
    summary = ledger_summary(harness.runtime, harness.connections["UK"])
    assert summary["held"] > 0
    assert summary["totals_match"] is False
    assert Decimal(summary["held_total"]) > 0
    assert summary["xero_total"] == summary["posted_total"]


def test_a_clean_run_matches_to_the_cent(harness: Harness) -> None:
    _import_and_post(harness, "US")
    summary = ledger_summary(harness.runtime, harness.connections["US"])
    assert summary["quarantined"] == summary["held"] == 0
    assert summary["amazon_total"] == summary["posted_total"] == summary["xero_total"]
    assert summary["totals_match"] is True


def _row(status: str, record: object) -> SourceTransaction:
    return SourceTransaction(transaction_id="t", raw=jsontext.dumps(record), status=status)


def test_the_amazon_side_signs_refunds_and_counts_what_it_cannot_read() -> None:
    money = {"currencyCode": "GBP", "amount": "10.00"}
    rows = [
        _row("posted", {"transactionType": "CHARGE", "amount": {**money, "amount": "25.00"}}),
        _row("quarantined", {"transactionType": "REFUND", "amount": money}),  # sent positive
        _row("held", {"transactionType": "OVERREFUND", "amount": {**money, "amount": "-2.50"}}),
        _row("quarantined", {"transactionType": "CHARGE", "amount": "12.00"}),  # unreadable
        _row("planned", {"transactionType": "CHARGE", "amount": money}),  # still on its way
    ]
    side = amazon_side(rows)
    assert side.totals == {
        "posted": Decimal("25.00"),
        "held": Decimal("-2.50"),
        "quarantined": Decimal("-10.00"),
        "skipped": Decimal(0),
    }
    assert side.total == Decimal("12.50")
    assert side.unaccounted == 2
    assert side.currency == "GBP"
    assert not side.matches(Decimal("25.00"))
    clean = amazon_side(rows[:1])
    assert clean.matches(Decimal("25.00"))
    assert not clean.matches(Decimal("25.01"))
