"""The export of a fixed ledger matches tests/golden/export_ledger.{csv,json} byte for byte.

Regenerate after an intended change with ``ABXERO_REGEN_GOLDEN=1``. The ledger holds one of
each case the export must show: a paid bill, a refund (credit note, refund, allocation), Spend
Money, a held, a quarantined, a skipped and a failed transaction, a document planned under an
older mapping version, and text a spreadsheet would otherwise run as a formula.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.services.export import as_csv, as_json, build_export
from abxero.services.reconcile import Period
from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import upgrade
from abxero.store.models import (
    MappingVersion,
    OutboxDocument,
    SourceTransaction,
    User,
    XeroConnection,
)

GOLDEN = Path(__file__).parent.parent / "golden"
REGENERATE = os.environ.get("ABXERO_REGEN_GOLDEN") == "1"


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _source(
    tid: str, day: int, amount: str | None, status: str, **more: object
) -> SourceTransaction:
    raw = more.pop(
        "raw", {"transactionId": tid, "amount": {"amount": amount, "currencyCode": "USD"}}
    )
    return SourceTransaction(
        transaction_id=tid,
        raw=jsontext.dumps(raw),
        content_hash=tid.ljust(64, "0"),
        transaction_date=at(day) if amount is not None else None,
        feed_date=at(day, 13) if amount is not None else None,
        instrument_key=str(more.pop("instrument", "Visa/0071")),
        currency="USD" if amount is not None else "",
        amount=Decimal(amount) if amount is not None else None,
        status=status,
        first_seen_at=at(day or 11, 14),
        **more,
    )


def _document(
    tid: str, role: str, endpoint: str, amount: str, created: int, **more: object
) -> OutboxDocument:
    payload = more.pop("payload", {})
    return OutboxDocument(
        transaction_id=tid,
        role=role,
        doc_key=f"{tid}:{role}",
        endpoint=endpoint,
        payload=jsontext.dumps(payload),
        content_hash=f"{tid}{role}".ljust(64, "0"),
        amount=Decimal(amount),
        currency="USD",
        status=str(more.pop("status", "posted")),
        created_at=at(created, 15),
        **more,
    )


def _fill(session: Session) -> int:
    owner = User(xero_user_id="user-1", email="a@example.com", name="A")
    session.add(owner)
    session.flush()
    connection = XeroConnection(
        tenant_id="tenant-1", tenant_name="Golden Co", short_code="!Gold1", owner_user_id=owner.id
    )
    session.add(connection)
    session.flush()
    cid = connection.id
    session.add_all(
        [
            MappingVersion(xero_connection_id=cid, version=1, body="{}", created_at=at(1)),
            MappingVersion(xero_connection_id=cid, version=2, body="{}", created_at=at(10)),
        ]
    )
    rows: list[object] = [
        _source("T-BILL", 5, "80.90", "posted", order_ids="114-1"),
        _document(
            "T-BILL",
            "bill",
            "Invoices",
            "80.90",
            5,
            xero_id="b1",
            payload={"InvoiceNumber": "114-1-A"},
        ),
        _document(
            "T-BILL",
            "payment",
            "Payments",
            "80.90",
            5,
            xero_id="p1",
            payload={"Reference": "A 0071"},
        ),
        _source("T-REFUND", 12, "-20.00", "posted", order_ids="114-1"),
        _document(
            "T-REFUND",
            "credit_note",
            "CreditNotes",
            "20.00",
            12,
            xero_id="c1",
            payload={"CreditNoteNumber": "=SUM(A1)"},
        ),
        _document("T-REFUND", "refund", "Payments", "20.00", 12, xero_id="r1"),
        _document("T-REFUND", "allocation", "Allocations", "20.00", 12, xero_id="c1:b1"),
        _source("T-SPEND", 6, "12.00", "posted", instrument="Mastercard/8830"),
        _document(
            "T-SPEND",
            "spend",
            "BankTransactions",
            "12.00",
            6,
            xero_id="s1",
            payload={"Reference": "X 8830"},
        ),
        _source(
            "T-HELD",
            7,
            "9.99",
            "held",
            instrument="Amex/1000",
            reason_code="unmapped_instrument",
            reason="Amex ending 1000 is not mapped",
            remedy="Choose an account",
        ),
        _source(
            "T-ZERO",
            8,
            "0.00",
            "skipped",
            reason_code="skipped",
            reason="the transaction amount is zero",
        ),
        _source("T-FAILED", 9, "5.00", "planned"),
        _document(
            "T-FAILED",
            "bill",
            "Invoices",
            "5.00",
            9,
            status="failed",
            error="Account code '999' is not valid",
        ),
        _source(
            "no-id:abc",
            0,
            None,
            "quarantined",
            raw={
                "transactionDate": "2026-03-11T08:00:00Z",
                "amount": {"amount": "7.50", "currencyCode": "USD"},
            },
            instrument="",
            reason_code="bad_record",
            reason="transactionId is missing",
        ),
        _source("T-OUTSIDE", 28, "1.00", "posted"),
    ]
    for row in rows:
        row.xero_connection_id = cid  # type: ignore[attr-defined]
        session.add(row)
    return cid


def test_export_matches_the_golden_files(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        cid = _fill(session)
    with sessions() as session:
        built = build_export(session, cid, Period(date(2026, 3, 1), date(2026, 3, 20)))
    engine.dispose()
    for suffix, text in (("csv", as_csv(built)), ("json", as_json(built))):
        path = GOLDEN / f"export_ledger.{suffix}"
        if REGENERATE:
            with path.open("w", encoding="utf-8", newline="") as out:
                out.write(text)
        with path.open(encoding="utf-8", newline="") as stored:
            assert stored.read() == text, suffix
