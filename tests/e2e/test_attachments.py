"""Invoice PDFs are attached once, where Amazon offers them (UK: all; US: Pay by Invoice)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.harness import Harness

pytestmark = pytest.mark.slow


def _post_everything(harness: Harness, region: str) -> None:
    end = harness.runtime.now()
    engine = harness.runtime.engine_for(harness.connections[region])
    engine.import_range(end - timedelta(days=30), end)
    harness.map_and_finish(region)
    harness.runtime.engine_for(harness.connections[region]).post_pending()
    harness.amazon_admin("POST", "/_sim/faults", {"report_seconds": 0, "rate_limits": False})


def _attached_names(harness: Harness, region: str) -> dict[str, list[str]]:
    return dict(harness.organisation_state(region)["attachments"])


def _drain(harness: Harness, region: str) -> tuple[int, int]:
    lane = harness.runtime.attachment_lane(harness.connections[region], poll_seconds=0.01)
    attached = unavailable = 0
    while True:
        report = lane.run(limit=25)
        attached, unavailable = attached + report.attached, unavailable + report.unavailable
        if report.attached + report.unavailable == 0:
            return attached, unavailable


def test_uk_bills_get_their_invoice_pdf_once(harness: Harness) -> None:
    _post_everything(harness, "UK")
    attached, _ = _drain(harness, "UK")
    names = _attached_names(harness, "UK")
    bills = [d for d in harness.documents("UK") if d.role in {"bill", "credit_note"}]
    assert attached > 0
    assert sum(len(files) for files in names.values()) == attached
    assert all(len(files) == 1 and files[0].endswith(".pdf") for files in names.values())
    assert {d.attachment for d in bills} <= {"attached", "unavailable"}
    assert _drain(harness, "UK") == (0, 0)
    assert _attached_names(harness, "UK") == names


def test_us_attaches_only_pay_by_invoice_bills(harness: Harness) -> None:
    _post_everything(harness, "US")
    _drain(harness, "US")
    sources = {s.transaction_id: s for s in harness.sources("US")}
    attached = [d for d in harness.documents("US") if d.attachment == "attached"]
    assert attached
    assert all("invoice" in sources[d.transaction_id].instrument_key.lower() for d in attached)
    untouched = [d for d in harness.documents("US") if d.role == "bill" and d.attachment == ""]
    assert all("invoice" not in sources[d.transaction_id].instrument_key.lower() for d in untouched)
