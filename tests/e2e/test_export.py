"""The export after a 90-day import names every Xero document abxero posted, with its link;
re-importing the same range unchanged gives the same bytes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from abxero.services.export import as_csv, as_json, build_export
from abxero.services.reconcile import Period
from tests.e2e.harness import MAIN_ROLES, Harness

pytestmark = pytest.mark.slow


def _exports(harness: Harness, region: str, period: Period) -> tuple[str, str]:
    with harness.runtime.sessions() as session:
        built = build_export(session, harness.connections[region], period)
    return as_csv(built), as_json(built)


def test_export_is_complete_and_identical_after_an_unchanged_reimport(harness: Harness) -> None:
    region, cid = "US", harness.connections["US"]
    end = harness.runtime.now()
    harness.runtime.engine_for(cid).import_range(end - timedelta(days=90), end)
    harness.map_and_finish(region)
    assert harness.runtime.engine_for(cid).post_pending().error == ""
    period = Period(end.date() - timedelta(days=91), end.date())
    first_csv, first_json = _exports(harness, region, period)

    again = harness.runtime.engine_for(cid).import_range(end - timedelta(days=90), end)
    assert again.new == 0
    second_csv, second_json = _exports(harness, region, period)
    assert second_csv == first_csv
    assert second_json == first_json

    rows = list(csv.DictReader(io.StringIO(first_csv)))
    state = harness.organisation_state(region)
    in_xero = {
        doc.get("InvoiceID") or doc.get("CreditNoteID") or doc.get("BankTransactionID")
        for kind in ("invoices", "credit_notes", "bank_transactions")
        for doc in state[kind]
    }
    posted = [row for row in rows if row["role"] in MAIN_ROLES]
    assert posted
    assert {row["xero_id"] for row in posted} <= in_xero
    assert all(row["document_status"] == "posted" for row in posted)
    assert all(row["mapping_version"] == "1" for row in posted)
    assert all(
        row["xero_link"].startswith("https://go.xero.com/organisationlogin/") for row in posted
    )
    sources = {s.transaction_id for s in harness.sources(region)}
    assert {row["transaction_id"] for row in rows} == sources
