"""Transactions waiting to post, in bounded reads: groups from the ledger tallies, a few of each
group on the manage page, and every one of a reason on the held list, a page at a time.

While few are waiting (``REPLAN_LIMIT``), the manage page plans each of them again on every
view (``page_state.current_holds``), so a change in Xero shows at once. Beyond that a view
shows the reasons the last sync stored: planning thousands of records per view would make the
page as slow as a sync. Saving a mapping starts a sync, which plans every held record again
and stores what holds it now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.context import OrgContext
from abxero.domain.mapping import MappingConfig
from abxero.services.manage import HeldGroup, Waiting, waiting_of
from abxero.services.page_state import current_holds
from abxero.store import tallies
from abxero.store.models import SourceTransaction
from abxero.sync.ledger import FAILED, HELD

#: Up to this many waiting transactions, a view plans each again.
REPLAN_LIMIT = 200
#: Transactions shown under each reason on the manage page.
SAMPLE = 20
#: Reasons shown on the manage page (the largest first).
GROUPS_SHOWN = 30
#: Transactions per page of the held list.
PAGE_SIZE = 200
WAITING = (HELD, FAILED)


@dataclass
class Group:
    """A reason and the transactions it holds: the count and sum of all, the first few."""

    reason_code: str
    reason: str
    remedy: str
    count: int
    total: Decimal
    transactions: list[Waiting] = field(default_factory=list)


def _of_reason(
    connection_id: int, status: str, code: str, reason: str | None = None
) -> Select[SourceTransaction]:
    query = select(SourceTransaction).where(
        SourceTransaction.xero_connection_id == connection_id,
        SourceTransaction.status == status,
        SourceTransaction.reason_code == code,
    )
    if reason is not None:
        query = query.where(SourceTransaction.reason == reason)
    return query.order_by(SourceTransaction.transaction_date, SourceTransaction.id)


def waiting_count(sessions: sessionmaker[Session], connection_id: int) -> int:
    with sessions() as session:
        counts = tallies.status_counts(session, connection_id)
    return sum(counts.get(status, 0) for status in WAITING)


def held_groups(
    sessions: sessionmaker[Session],
    connection_id: int,
    mapping: MappingConfig | None,
    context: OrgContext | None,
) -> tuple[list[HeldGroup] | list[Group], bool, bool]:
    """The manage page's waiting transactions by reason: (groups, planned now, stored reasons
    because there are too many to plan on a view)."""
    if waiting_count(sessions, connection_id) <= REPLAN_LIMIT:
        groups, fresh = current_holds(sessions, connection_id, mapping, context)
        return groups, fresh, False
    return stored_groups(sessions, connection_id), False, True


def stored_groups(sessions: sessionmaker[Session], connection_id: int) -> list[Group]:
    """Groups by the stored reason, from the tallies, with the first few of each."""
    with sessions() as session:
        found = tallies.reason_tallies(session, connection_id, WAITING)
        merged: dict[tuple[str, str], Group] = {}
        keys: dict[tuple[str, str], list[str]] = {}
        for (status, code, reason), tally in found.items():
            group = merged.setdefault((code, reason), Group(code, reason, "", 0, Decimal(0)))
            group.count += tally.count
            group.total += tally.total
            keys.setdefault((code, reason), []).append(status)
        shown = sorted(merged.values(), key=lambda group: -group.count)[:GROUPS_SHOWN]
        for group in shown:
            rows: list[SourceTransaction] = []
            for status in sorted(keys[group.reason_code, group.reason]):
                rows.extend(
                    session.scalars(
                        _of_reason(connection_id, status, group.reason_code, group.reason).limit(
                            SAMPLE
                        )
                    )
                )
            rows.sort(key=lambda row: (row.transaction_date is None, row.transaction_date, row.id))
            group.remedy = rows[0].remedy if rows else ""
            group.transactions = [waiting_of(row) for row in rows[:SAMPLE]]
    return shown


@dataclass(frozen=True)
class HeldPage:
    """One page of the held list for a reason code."""

    reason_code: str
    page: int
    pages: int
    count: int
    rows: list[tuple[Waiting, str, str]]  # the transaction, its reason, its remedy


def held_page(
    sessions: sessionmaker[Session], connection_id: int, code: str, page: int
) -> HeldPage:
    """Page ``page`` (from 0) of the transactions waiting for ``code``: held ones first, then
    those set aside after failing runs, each by date. Every read is an index range."""
    with sessions() as session:
        found = tallies.reason_tallies(session, connection_id, WAITING)
        by_status: dict[str, int] = dict.fromkeys(WAITING, 0)
        for (status, reason_code, _reason), tally in found.items():
            if reason_code == code:
                by_status[status] += tally.count
        count = sum(by_status.values())
        pages = max(1, -(-count // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        offset, wanted = page * PAGE_SIZE, PAGE_SIZE
        rows: list[SourceTransaction] = []
        for status in WAITING:
            if wanted <= 0:
                break
            if offset >= by_status[status]:
                offset -= by_status[status]
                continue
            taken = list(
                session.scalars(
                    _of_reason(connection_id, status, code).offset(offset).limit(wanted)
                )
            )
            rows.extend(taken)
            wanted -= len(taken)
            offset = 0
    return HeldPage(
        code, page, pages, count, [(waiting_of(row), row.reason, row.remedy) for row in rows]
    )
