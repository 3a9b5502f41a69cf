"""Counts and sums of the ledger kept as rows change, so a page never scans the ledger.

* ``source_tallies`` and ``instrument_tallies`` are kept by database triggers on
  ``source_transactions`` (migration 0017: row triggers on SQLite, statement triggers over
  transition tables on PostgreSQL): every insert, delete and change of status, reason,
  instrument, currency or amount moves that transaction between keys.
* ``seller_tallies`` are kept here by a ``before_flush`` listener, because a seller is only
  known by parsing the stored record; the ledger writes records only through the ORM
  (``sync/ledger.py``).

A key may own more than one row (two PostgreSQL transactions may both create a new key); every
read adds a key's rows up and leaves out keys whose count is back to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    String,
    Text,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column

from abxero.domain import jsontext
from abxero.domain.mapping import seller_key
from abxero.domain.sellers import SellerFlag, SellerSeen, is_amazon, name_flag
from abxero.domain.transactions import Transaction, parse_transaction
from abxero.store.models import Base, SourceTransaction

CENT = Decimal("0.01")


class SourceTally(Base):
    """Stored transactions of an organisation by status and reason: how many, and their sum."""

    __tablename__ = "source_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)


class InstrumentTally(Base):
    """Stored transactions of an organisation by instrument, currency and status."""

    __tablename__ = "instrument_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(Integer)
    instrument_key: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    n: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)


class SellerTally(Base):
    """A seller of an organisation's stored records: transactions, lines and exact sums (as
    decimal text, so SQLite keeps them exact too)."""

    __tablename__ = "seller_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(Integer)
    seller_key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    transactions: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(BigInteger)
    charged_lines: Mapped[int] = mapped_column(BigInteger)
    taxed_lines: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[str] = mapped_column(String(40))
    tax: Mapped[str] = mapped_column(String(40))


class SourceOrder(Base):
    """An Amazon order id of a stored transaction (``order_ids`` split), so the bills of an
    order are found through an index rather than a substring scan of every record."""

    __tablename__ = "source_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str] = mapped_column(String(128))


# -- reads -----


@dataclass(frozen=True)
class Tally:
    count: int
    total: Decimal


def _tally(count: Any, cents: Any) -> Tally:
    return Tally(int(count), (Decimal(int(cents)) * CENT).quantize(CENT))


def status_counts(session: Session, connection_id: int) -> dict[str, int]:
    """How many stored transactions are in each status."""
    rows = session.execute(
        select(SourceTally.status, func.sum(SourceTally.n))
        .where(SourceTally.xero_connection_id == connection_id)
        .group_by(SourceTally.status)
        .having(func.sum(SourceTally.n) > 0)
    ).all()
    return {str(status): int(count) for status, count in rows}


def reason_tallies(
    session: Session, connection_id: int, statuses: Iterable[str]
) -> dict[tuple[str, str, str], Tally]:
    """Count and sum by (status, reason code, reason) for these statuses."""
    rows = session.execute(
        select(
            SourceTally.status,
            SourceTally.reason_code,
            SourceTally.reason,
            func.sum(SourceTally.n),
            func.sum(SourceTally.total_cents),
        )
        .where(
            SourceTally.xero_connection_id == connection_id,
            SourceTally.status.in_(list(statuses)),
        )
        .group_by(SourceTally.status, SourceTally.reason_code, SourceTally.reason)
        .having(func.sum(SourceTally.n) > 0)
    ).all()
    return {(status, code, reason): _tally(n, cents) for status, code, reason, n, cents in rows}


def instrument_tallies(session: Session, connection_id: int) -> dict[tuple[str, str, str], Tally]:
    """Count and sum by (instrument key, currency, status)."""
    rows = session.execute(
        select(
            InstrumentTally.instrument_key,
            InstrumentTally.currency,
            InstrumentTally.status,
            func.sum(InstrumentTally.n),
            func.sum(InstrumentTally.total_cents),
        )
        .where(InstrumentTally.xero_connection_id == connection_id)
        .group_by(InstrumentTally.instrument_key, InstrumentTally.currency, InstrumentTally.status)
        .having(func.sum(InstrumentTally.n) > 0)
    ).all()
    return {(key, currency, status): _tally(n, cents) for key, currency, status, n, cents in rows}


def tallied_flag(name: str, lines: int, charged: int, taxed: int) -> SellerFlag | None:
    """``domain.sellers.lines_flag`` from the seller's line counts instead of its lines."""
    flag = name_flag(name)
    if flag is not None or not name.strip() or is_amazon(name):
        return flag
    return SellerFlag.NO_VAT if lines and charged and not taxed else None


def sellers(session: Session, connection_id: int) -> list[SellerSeen]:
    """Every seller of the stored records, flagged ones first (``domain.sellers.sellers_seen``
    over every record, from the tallies)."""
    merged: dict[str, _Seller] = {}
    for row in session.scalars(
        select(SellerTally)
        .where(SellerTally.xero_connection_id == connection_id)
        .order_by(SellerTally.id)
    ):
        seller = merged.setdefault(row.seller_key, _Seller(row.name, row.currency))
        seller.add(
            row.transactions,
            row.lines,
            row.charged_lines,
            row.taxed_lines,
            Decimal(row.total),
            Decimal(row.tax),
        )
    seen = [
        SellerSeen(
            seller.name,
            seller.transactions,
            seller.total,
            seller.tax,
            seller.currency,
            tallied_flag(seller.name, seller.lines, seller.charged, seller.taxed),
        )
        for seller in merged.values()
        if seller.transactions > 0
    ]
    return sorted(seen, key=lambda item: (item.flag is None, item.name.casefold()))


# -- seller tallies, kept on flush -----


@dataclass
class _Seller:
    name: str
    currency: str
    transactions: int = 0
    lines: int = 0
    charged: int = 0
    taxed: int = 0
    total: Decimal = field(default_factory=lambda: Decimal(0))
    tax: Decimal = field(default_factory=lambda: Decimal(0))

    def add(
        self,
        transactions: int,
        lines: int,
        charged: int,
        taxed: int,
        total: Decimal,
        tax: Decimal,
        sign: int = 1,
    ) -> None:
        self.transactions += sign * transactions
        self.lines += sign * lines
        self.charged += sign * charged
        self.taxed += sign * taxed
        self.total += sign * total
        self.tax += sign * tax


def record_sellers(raw: str) -> dict[str, _Seller]:
    """The sellers of one stored record with what it adds to each."""
    try:
        parsed = parse_transaction(jsontext.loads(raw))
    except ValueError:
        return {}
    if not isinstance(parsed, Transaction):
        return {}
    found: dict[str, _Seller] = {}
    for line in parsed.line_items:
        key = seller_key(line.seller)
        if not key:
            continue
        seller = found.get(key)
        if seller is None:
            seller = found[key] = _Seller(" ".join(line.seller.split()), parsed.currency, 1)
        seller.add(0, 1, int(line.total != 0), int(line.tax != 0), line.total, line.tax)
    return found


def _changes(session: Session) -> Iterator[tuple[int, str, int]]:
    """(organisation, raw, +1 or -1) for every record this flush adds, replaces or removes."""
    for row in session.new:
        if isinstance(row, SourceTransaction) and row.raw:
            yield row.xero_connection_id, row.raw, 1
    for row in session.dirty:
        if not isinstance(row, SourceTransaction):
            continue
        history = _history(row)
        if history is None:
            continue
        old, new = history
        if old:
            yield row.xero_connection_id, old, -1
        if new:
            yield row.xero_connection_id, new, 1
    for row in session.deleted:
        if isinstance(row, SourceTransaction):
            old_raw = _committed_raw(row)
            if old_raw:
                yield row.xero_connection_id, old_raw, -1


def _history(row: SourceTransaction) -> tuple[str, str] | None:
    history = inspect(row).attrs.raw.history
    if not history.added:
        return None
    old = history.deleted[0] if history.deleted else ""
    return str(old or ""), str(history.added[0] or "")


def _committed_raw(row: SourceTransaction) -> str:
    history = inspect(row).attrs.raw.history
    if history.deleted:
        return str(history.deleted[0] or "")
    return str(row.raw or "")


def apply_sellers(session: Session, deltas: dict[tuple[int, str], _Seller]) -> None:
    """Add ``deltas`` (by organisation and seller key) to the stored seller tallies."""
    if not deltas:
        return
    by_organisation: dict[int, list[str]] = {}
    for connection_id, key in deltas:
        by_organisation.setdefault(connection_id, []).append(key)
    with session.no_autoflush:
        stored: dict[tuple[int, str], SellerTally] = {}
        for connection_id, keys in by_organisation.items():
            # one read per organisation, locked so two writers never lose each other's counts
            for found in session.scalars(
                select(SellerTally)
                .where(
                    SellerTally.xero_connection_id == connection_id,
                    SellerTally.seller_key.in_(keys),
                )
                .order_by(SellerTally.id)
                .with_for_update()
            ):
                stored.setdefault((connection_id, found.seller_key), found)
        for (connection_id, key), delta in deltas.items():
            row = stored.get((connection_id, key))
            if row is None:
                row = SellerTally(
                    xero_connection_id=connection_id,
                    seller_key=key,
                    name=delta.name,
                    currency=delta.currency,
                    transactions=0,
                    lines=0,
                    charged_lines=0,
                    taxed_lines=0,
                    total="0",
                    tax="0",
                )
                session.add(row)
            row.transactions += delta.transactions
            row.lines += delta.lines
            row.charged_lines += delta.charged
            row.taxed_lines += delta.taxed
            row.total = str(Decimal(row.total) + delta.total)
            row.tax = str(Decimal(row.tax) + delta.tax)


def _gather(changes: Iterable[tuple[int, str, int]]) -> dict[tuple[int, str], _Seller]:
    deltas: dict[tuple[int, str], _Seller] = {}
    for connection_id, raw, sign in changes:
        for key, seller in record_sellers(raw).items():
            delta = deltas.setdefault((connection_id, key), _Seller(seller.name, seller.currency))
            delta.add(
                seller.transactions,
                seller.lines,
                seller.charged,
                seller.taxed,
                seller.total,
                seller.tax,
                sign,
            )
    return deltas


def _order_changes(session: Session) -> Iterator[tuple[SourceTransaction, str, str]]:
    """(record, order ids before, order ids after) for every record whose orders change."""
    for row in session.new:
        if isinstance(row, SourceTransaction) and row.order_ids:
            yield row, "", row.order_ids
    for row in session.dirty:
        if isinstance(row, SourceTransaction):
            history = inspect(row).attrs.order_ids.history
            if history.added:
                old = history.deleted[0] if history.deleted else ""
                yield row, str(old or ""), str(history.added[0] or "")
    for row in session.deleted:
        if isinstance(row, SourceTransaction):
            history = inspect(row).attrs.order_ids.history
            yield row, str((history.deleted or [row.order_ids])[0] or ""), ""


def keep_orders(session: Session) -> None:
    """Keep ``source_orders`` equal to the split ``order_ids`` of every record."""
    for row, before, after in list(_order_changes(session)):
        gone, came = (
            set(before.split()) - set(after.split()),
            set(after.split()) - set(before.split()),
        )
        if gone:
            session.execute(
                delete(SourceOrder).where(
                    SourceOrder.xero_connection_id == row.xero_connection_id,
                    SourceOrder.transaction_id == row.transaction_id,
                    SourceOrder.order_id.in_(sorted(gone)),
                )
            )
        for order_id in sorted(came):
            session.add(
                SourceOrder(
                    xero_connection_id=row.xero_connection_id,
                    order_id=order_id,
                    transaction_id=row.transaction_id,
                )
            )


@event.listens_for(Session, "before_flush")
def _keep_seller_tallies(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    with session.no_autoflush:
        keep_orders(session)
    apply_sellers(session, _gather(_changes(session)))


def orders_of(connection_id: int, order_ids: Iterable[str]) -> Select[Any]:
    """The transaction ids that name any of ``order_ids`` (a subquery)."""
    return select(SourceOrder.transaction_id).where(
        SourceOrder.xero_connection_id == connection_id,
        SourceOrder.order_id.in_(list(order_ids)),
    )


def backfill_sellers(connection: Connection, chunk: int = 5_000) -> None:
    """Tally the sellers of every stored record (migration 0017)."""
    table = SourceTransaction.__table__
    deltas: dict[tuple[int, str], _Seller] = {}
    last = 0
    while True:
        rows = connection.execute(
            select(table.c.id, table.c.xero_connection_id, table.c.raw)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        for key, value in _gather((row[1], row[2], 1) for row in rows).items():
            delta = deltas.setdefault(key, _Seller(value.name, value.currency))
            delta.add(
                value.transactions,
                value.lines,
                value.charged,
                value.taxed,
                value.total,
                value.tax,
            )
    with Session(bind=connection) as session:
        apply_sellers(session, deltas)
        session.flush()


def backfill_orders(connection: Connection, chunk: int = 5_000) -> None:
    """Split the ``order_ids`` of every stored record into ``source_orders`` (migration 0017)."""
    table = SourceTransaction.__table__
    last = 0
    while True:
        rows = connection.execute(
            select(
                table.c.id, table.c.xero_connection_id, table.c.transaction_id, table.c.order_ids
            )
            .where(table.c.id > last, table.c.order_ids != "")
            .order_by(table.c.id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        connection.execute(
            insert(SourceOrder),
            [
                {"xero_connection_id": org, "order_id": order_id, "transaction_id": tid}
                for _id, org, tid, orders in rows
                for order_id in sorted(set(orders.split()))
            ],
        )
