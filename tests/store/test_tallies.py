"""The ledger tallies (migration 0017, ``store/tallies.py``) always equal a fresh count and sum.

Any sequence of inserts, changes and deletes of stored transactions, through the ORM as the
ledger writes them and through plain SQL, leaves every tally equal to a ``COUNT``/``SUM`` over
the rows, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from abxero.domain import jsontext
from abxero.domain.mapping import seller_key
from abxero.domain.sellers import SellerSeen, sellers_seen
from abxero.domain.transactions import Transaction, parse_transaction
from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import upgrade
from abxero.store.models import SourceTransaction, User, XeroConnection
from abxero.store.tallies import (
    SourceOrder,
    instrument_tallies,
    reason_tallies,
    sellers,
    status_counts,
)
from tests.domain.domain_records import amazon_line, amazon_transaction

SLOTS = 6
STATUSES = ("new", "held", "posted", "failed", "routed")
REASONS = (("", ""), ("unmapped_instrument", "No account for this card."), ("lock", "Locked."))
SELLERS = ("Kent Crafts", "Müller Bürobedarf GmbH", "kent  crafts", "Amazon EU S.à r.l.")
AMOUNTS = st.one_of(
    st.none(),
    st.decimals(min_value=Decimal("-999.99"), max_value=Decimal("9999.99"), places=2),
)


def raw_record(slot: int, seller: str, tax: str) -> str:
    line = amazon_line(
        "GBP",
        principal="10.00",
        tax=tax,
        tax_rate="0.20" if tax != "0" else "0.00",
        merchantLegalName=seller,
        orderId=f"203-0000001-000000{slot}",
        orderLineItemId=f"li-{slot}",
    )
    record = amazon_transaction(f"T-{slot}", [line], currency="GBP", last4="4242")
    return jsontext.dumps(record)


ROW = st.fixed_dictionaries(
    {
        "status": st.sampled_from(STATUSES),
        "reason": st.sampled_from(REASONS),
        "amount": AMOUNTS,
        "instrument_key": st.sampled_from(("", "Visa/4242", "Amex/1000")),
        "currency": st.sampled_from(("GBP", "USD")),
        "seller": st.sampled_from(SELLERS),
        "tax": st.sampled_from(("0", "2.00")),
        "order_ids": st.sampled_from(("", "111-1", "111-1 222-2", "222-2 333-3")),
    }
)
OPERATION = st.one_of(
    st.tuples(st.just("put"), st.integers(0, SLOTS - 1), ROW),
    st.tuples(st.just("sql_update"), st.integers(0, SLOTS - 1), ROW),
    st.tuples(st.just("delete"), st.integers(0, SLOTS - 1), st.none()),
    st.tuples(st.just("sql_delete"), st.integers(0, SLOTS - 1), st.none()),
)


def _fields(row: dict[str, Any], slot: int) -> dict[str, Any]:
    code, reason = row["reason"]
    return {
        "status": row["status"],
        "reason_code": code,
        "reason": reason,
        "amount": row["amount"],
        "instrument_key": row["instrument_key"],
        "currency": row["currency"],
        "raw": raw_record(slot, row["seller"], row["tax"]),
        "order_ids": row["order_ids"],
    }


def apply(factory: Any, connection_id: int, operation: tuple[str, int, Any]) -> None:
    kind, slot, row = operation
    transaction_id = f"T-{slot}"
    with transaction(factory) as session:
        found = session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.transaction_id == transaction_id,
            )
        ).first()
        if kind == "put":
            if found is None:
                found = SourceTransaction(
                    xero_connection_id=connection_id,
                    transaction_id=transaction_id,
                    content_hash="h",
                )
                session.add(found)
            for name, value in _fields(row, slot).items():
                setattr(found, name, value)
        elif kind == "delete" and found is not None:
            session.delete(found)
        elif kind == "sql_update":
            fields = _fields(row, slot)
            fields.pop("raw")  # seller tallies and order ids follow ORM writes only, as the
            fields.pop("order_ids")  # ledger makes them
            session.execute(
                update(SourceTransaction)
                .where(SourceTransaction.transaction_id == transaction_id)
                .values(**fields)
            )
        elif kind == "sql_delete" and found is not None:
            session.expunge(found)
            session.execute(
                delete(SourceTransaction).where(SourceTransaction.transaction_id == transaction_id)
            )
            # a raw SQL delete bypasses the ORM, so take the record's sellers out as the
            # ledger would (it never deletes records this way)
            from abxero.store.tallies import SourceOrder, _gather, apply_sellers

            apply_sellers(session, _gather([(connection_id, found.raw, -1)]))
            session.execute(delete(SourceOrder).where(SourceOrder.transaction_id == transaction_id))


def fresh(session: Any, connection_id: int) -> tuple[Any, ...]:
    rows = session.scalars(
        select(SourceTransaction).where(SourceTransaction.xero_connection_id == connection_id)
    ).all()
    by_status: Counter[str] = Counter(row.status for row in rows)
    reasons: dict[tuple[str, str, str], tuple[int, Decimal]] = {}
    instruments: dict[tuple[str, str, str], tuple[int, Decimal]] = {}
    for row in rows:
        amount = row.amount or Decimal("0.00")
        for table, key in (
            (reasons, (row.status, row.reason_code, row.reason)),
            (instruments, (row.instrument_key, row.currency, row.status)),
        ):
            count, total = table.get(key, (0, Decimal("0.00")))
            table[key] = (count + 1, total + amount)
    parsed = [parse_transaction(jsontext.loads(row.raw)) for row in rows]
    orders = sorted(
        (order_id, row.transaction_id) for row in rows for order_id in set(row.order_ids.split())
    )
    return (
        orders,
        dict(by_status),
        reasons,
        instruments,
        spelled(sellers_seen([item for item in parsed if isinstance(item, Transaction)])),
    )


def kept(session: Any, connection_id: int) -> tuple[Any, ...]:
    orders = session.execute(
        select(SourceOrder.order_id, SourceOrder.transaction_id).where(
            SourceOrder.xero_connection_id == connection_id
        )
    ).all()
    return (
        sorted(tuple(row) for row in orders),
        status_counts(session, connection_id),
        {
            key: (tally.count, tally.total)
            for key, tally in reason_tallies(session, connection_id, STATUSES).items()
        },
        {
            key: (tally.count, tally.total)
            for key, tally in instrument_tallies(session, connection_id).items()
        },
        spelled(sellers(session, connection_id)),
    )


def spelled(seen: list[SellerSeen]) -> list[SellerSeen]:
    """Sellers with the name as compared: which of several equal spellings is shown is the one
    stored first, and the tallies keep it after that record is gone."""
    return [replace(seller, name=seller_key(seller.name)) for seller in seen]


def test_tallies_equal_a_fresh_count_after_any_writes(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        user = User(xero_user_id="u-1", email="a@example.com")
        session.add(user)
        session.flush()
        organisations = [XeroConnection(tenant_id=f"t-{n}", owner_user_id=user.id) for n in (1, 2)]
        session.add_all(organisations)
        session.flush()
        ids = [organisation.id for organisation in organisations]

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(OPERATION, max_size=14))
    def writes_keep_tallies_exact(operations: list[tuple[str, int, Any]]) -> None:
        try:
            for operation in operations:
                apply(factory, ids[0], operation)
            with factory() as session:
                assert kept(session, ids[0]) == fresh(session, ids[0])
                assert kept(session, ids[1]) == fresh(session, ids[1]) == ([], {}, {}, {}, [])
        finally:
            with transaction(factory) as session:
                for row in session.scalars(select(SourceTransaction)):
                    session.delete(row)
        with factory() as session:
            assert kept(session, ids[0]) == ([], {}, {}, {}, [])

    try:
        writes_keep_tallies_exact()
    finally:
        engine.dispose()


def test_the_upgrade_tallies_rows_stored_before_it(database_url: str) -> None:
    upgrade(database_url, "0016")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, xero_user_id, email, name, created_at) "
                "VALUES (1, 'u', '', '', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO xero_connections (id, tenant_id, tenant_name, xero_connection_uid, "
                "short_code, owner_user_id, contact_id, status, setup_step, "
                "sync_interval_minutes, created_at) "
                "VALUES (1, 't', 'Org', '', '', 1, '', 'connected', 'done', 15, "
                "CURRENT_TIMESTAMP)"
            )
        )
        for slot, (status, amount, seller) in enumerate(
            [
                ("held", "12.34", "Kent Crafts"),
                ("held", "0.66", "Kent Crafts"),
                ("posted", None, "X"),
            ]
        ):
            connection.execute(
                text(
                    "INSERT INTO source_transactions (xero_connection_id, transaction_id, "
                    "raw, content_hash, instrument_key, currency, amount, status, reason_code, "
                    "reason, remedy, order_ids, needs_review, planned_hash, first_seen_at, "
                    "updated_at) VALUES (1, :tid, :raw, 'h', 'Visa/4242', 'GBP', :amount, "
                    ":status, '', '', '', '', :no, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {
                    "tid": f"T-{slot}",
                    "raw": raw_record(slot, seller, "0"),
                    "amount": amount,
                    "status": status,
                    "no": False,
                },
            )
    upgrade(database_url)
    factory = session_factory(engine)
    with factory() as session:
        assert kept(session, 1) == fresh(session, 1)
        assert status_counts(session, 1) == {"held": 2, "posted": 1}
        assert [seller.transactions for seller in sellers(session, 1)] == [2, 1]
    engine.dispose()
    with session_factory(make_engine(database_url))() as session:
        assert session.scalar(select(func.count()).select_from(SourceTransaction)) == 3
