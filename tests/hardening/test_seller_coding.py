"""Per-seller coding against the simulators: one Xero contact per seller, created once and kept
by ContactID through a rename; non-GB and "No VAT" sellers at the chosen 0 % rate."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.domain.mapping import SellerCoding, seller_key
from abxero.domain.sellers import document_seller, name_flag
from abxero.domain.transactions import Transaction, parse_transaction
from abxero.store.db import transaction
from abxero.store.models import OutboxDocument, SellerContact
from abxero.sync.mappings import latest_mapping, save_mapping
from tests.e2e.harness import Harness
from tests.hardening.support import assert_exactly_once, import_and_finish, post

pytestmark = pytest.mark.slow


def _per_seller(harness: Harness, region: str, **sellers: Any) -> None:
    connection_id = harness.connections[region]
    with transaction(harness.runtime.sessions) as session:
        found = latest_mapping(session, connection_id)
        assert found is not None
        mapping = found[1].model_copy(update={"sellers": SellerCoding(**sellers)})
        save_mapping(session, connection_id, mapping)


def _seller_contacts(harness: Harness, region: str) -> dict[str, str]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(
            select(SellerContact).where(
                SellerContact.xero_connection_id == harness.connections[region]
            )
        ).all()
    return {row.seller_key: row.contact_id for row in rows}


def _posted_main_documents(harness: Harness, region: str) -> list[tuple[str, dict[str, Any]]]:
    with harness.runtime.sessions() as session:
        rows = session.execute(
            select(OutboxDocument.transaction_id, OutboxDocument.payload).where(
                OutboxDocument.xero_connection_id == harness.connections[region],
                OutboxDocument.role.in_(("bill", "credit_note", "spend", "receive")),
                OutboxDocument.status == "posted",
            )
        ).all()
    return [(tid, jsontext.loads(payload)) for tid, payload in rows]


def _transactions(harness: Harness, region: str) -> dict[str, Transaction]:
    parsed = {
        s.transaction_id: parse_transaction(jsontext.loads(s.raw)) for s in harness.sources(region)
    }
    return {tid: t for tid, t in parsed.items() if isinstance(t, Transaction)}


def _assert_each_seller_has_its_contact(harness: Harness, contacts: dict[str, str]) -> None:
    transactions = _transactions(harness, "UK")
    for transaction_id, payload in _posted_main_documents(harness, "UK"):
        seller = document_seller(transactions[transaction_id])
        if seller:
            assert payload["Contact"]["ContactID"] == contacts[seller_key(seller)]
        if seller and name_flag(seller):
            assert {line["TaxType"] for line in payload["LineItems"]} <= {"NONE"}


def test_one_contact_per_seller_is_created_once_and_survives_a_rename(harness: Harness) -> None:
    import_and_finish(harness, "UK", days=30)
    _per_seller(harness, "UK", contact_per_seller=True, flagged_tax_type="NONE")
    assert post(harness, "UK").documents_posted > 0
    contacts = _seller_contacts(harness, "UK")
    assert len(contacts) >= 2
    _assert_each_seller_has_its_contact(harness, contacts)
    xero_names = Counter(c["Name"] for c in harness.organisation_state("UK")["contacts"])
    assert all(count == 1 for count in xero_names.values())

    sellers = Counter(document_seller(t) for t in _transactions(harness, "UK").values())
    renamed_key = seller_key(next(name for name, _ in sellers.most_common() if name))
    renamed_id = contacts[renamed_key]
    harness.xero_admin(
        "POST",
        f"/_sim/orgs/{harness.tenant_id('UK')}",
        {"contacts": {renamed_id: {"Name": "Renamed by the bookkeeper"}}},
    )
    engine = harness.runtime.engine_for(harness.connections["UK"])
    more = engine.import_range(harness.runtime.now() - timedelta(days=60), harness.runtime.now())
    assert more.documents_posted > 0
    later = _seller_contacts(harness, "UK")
    assert {key: later[key] for key in contacts} == contacts
    _assert_each_seller_has_its_contact(harness, later)
    xero_names = Counter(c["Name"] for c in harness.organisation_state("UK")["contacts"])
    assert all(count == 1 for count in xero_names.values())
    assert renamed_key not in {seller_key(name) for name in xero_names}  # not made again
    assert_exactly_once(harness, "UK")


def test_flagged_sellers_vat_is_cost_and_totals_stay_amazons(harness: Harness) -> None:
    import_and_finish(harness, "UK", days=30)
    _per_seller(harness, "UK", flagged_tax_type="NONE")
    assert post(harness, "UK").error == ""
    transactions = _transactions(harness, "UK")
    flagged = 0
    for transaction_id, payload in _posted_main_documents(harness, "UK"):
        source = transactions[transaction_id]
        sign = -1 if source.transaction_type.is_refund else 1
        gross = sum((Decimal(str(line["LineAmount"])) for line in payload["LineItems"]), Decimal(0))
        tax = sum(
            (Decimal(str(line.get("TaxAmount", 0))) for line in payload["LineItems"]), Decimal(0)
        )
        if payload.get("LineAmountTypes") == "Exclusive":
            assert gross + tax == source.amount * sign
        seller = document_seller(source)
        if seller and name_flag(seller):
            flagged += 1
            assert tax == 0
    assert flagged > 0
    assert_exactly_once(harness, "UK")


def test_an_archived_seller_contact_holds_its_purchases_until_restored(harness: Harness) -> None:
    import_and_finish(harness, "UK", days=20)
    _per_seller(harness, "UK", contact_per_seller=True)
    assert post(harness, "UK").error == ""
    contacts = _seller_contacts(harness, "UK")
    sellers = Counter(document_seller(t) for t in _transactions(harness, "UK").values())
    busiest = seller_key(next(name for name, _ in sellers.most_common() if name))
    archived_id = contacts[busiest]
    tenant = harness.tenant_id("UK")
    harness.xero_admin(
        "POST", f"/_sim/orgs/{tenant}", {"contacts": {archived_id: {"ContactStatus": "ARCHIVED"}}}
    )
    engine = harness.runtime.engine_for(harness.connections["UK"])
    engine.import_range(harness.runtime.now() - timedelta(days=50), harness.runtime.now())
    held = [s for s in harness.sources("UK") if s.status == "held"]
    assert held
    assert {s.reason_code for s in held} == {"contact_archived"}
    assert all("Restore the contact" in s.remedy for s in held)
    harness.xero_admin(
        "POST", f"/_sim/orgs/{tenant}", {"contacts": {archived_id: {"ContactStatus": "ACTIVE"}}}
    )
    assert post(harness, "UK").documents_posted > 0
    assert not [s for s in harness.sources("UK") if s.status == "held"]
    assert_exactly_once(harness, "UK")
