"""The demo's verdict compares everything Amazon sent with what Xero holds, not only the posted.

Before, ``ledger_summary`` summed only the posted records on the Amazon side, so a run that left
records in quarantine (or held) still printed ``totals_match: true``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from abxero.demo import ledger_summary
from abxero.domain import jsontext
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
    # bad_total keeps an id, a type, an amount and a currency, so the lost cents are readable
    harness.amazon_admin(
        "POST", "/_sim/faults", {"malformed_every": 4, "malformed_kinds": ["bad_total"]}
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
