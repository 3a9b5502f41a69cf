"""Values Amazon may send that no column can hold never stop a feed page from storing.

The parser quarantines them with a reason naming the value (an amount of 41 digits, a payment
method name longer than the column, NUL characters, an id longer than the column), so the
page's other records are stored and the bad one stays visible with its raw JSON.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from abxero.domain.transactions import parse_transaction
from abxero.store.db import transaction
from abxero.store.models import SourceTransaction
from abxero.sync.ledger import store_fetched
from tests.domain.amazon_shapes import _uk_charge
from tests.sync.conftest import Ledger


def _oversized() -> list[dict[str, Any]]:
    base = _uk_charge("fine-1")
    huge_amount = copy.deepcopy(base) | {"transactionId": "huge-amount"}
    huge_amount["amount"] = {"currencyCode": "GBP", "amount": "9" * 41}
    long_name = copy.deepcopy(base) | {"transactionId": "long-name"}
    long_name["paymentInstrumentType"] = "Corporate card " + "x" * 250
    nul = copy.deepcopy(base) | {"transactionId": "nul\x00id"}
    long_id = copy.deepcopy(base) | {"transactionId": "i" * 300}
    return [base, huge_amount, long_name, nul, long_id]


def test_a_page_with_oversized_values_stores_and_quarantines_them(ledger: Ledger) -> None:
    page = [(raw, parse_transaction(raw)) for raw in _oversized()]
    with transaction(ledger.factory) as session:
        counts = store_fetched(session, ledger.connection_id, page)
    assert counts.new == 5
    with ledger.factory() as session:
        rows = session.scalars(select(SourceTransaction)).all()
    by_status = {row.status for row in rows if row.transaction_id == "fine-1"}
    assert by_status == {"new"}
    quarantined = [row for row in rows if row.status == "quarantined"]
    assert len(quarantined) == 4
    assert all(row.reason for row in quarantined)
