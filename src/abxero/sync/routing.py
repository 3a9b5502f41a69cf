"""Legal-entity routing: one Amazon Business account feeding several Xero organisations.

One consent covers every legal entity of an Amazon Business account (the Reconciliation API
"fetches transactions from all legal entities under the account"; notes in
docs/amazon-business-api.md §10), and each record names its entity in ``legalEntityName`` — the
only legal-entity field of the ``Transaction`` model in
specs/amazon-business/reconciliation-2021-01-08.json (there is no entity id), so entities are
told apart by that name, compared without case and extra spaces.

The design: the organisation whose pairing fetches the feed (the *home*) keeps every fetched
record in its own source table, which is the account's feed store; the feed is read once, by the
home's engine. A record whose entity is routed to another organisation is stored there as a
new source row (that organisation's engine plans and posts it like any other) and stays in the
home's table with status ``routed`` and ``routed_to`` naming where it went, so it is visible and
never planned by the home. A record is routed when it first arrives. The fetching engine
holds only its own lease, so it never touches a copy another organisation already holds: a
record that changes at Amazon later is updated in the feed store, and the holding
organisation's own run copies the change (:func:`pull_changes`). Moving an entity
(:func:`reroute`) moves what nothing has been sent of yet and leaves the rest where it is; the
caller holds the sync leases of every organisation involved, so no engine plans a row while it
moves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.lifecycles import ConnectionStatus, DocumentStatus, SourceStatus
from abxero.domain.transactions import parse_transaction
from abxero.store.models import (
    EntityRoute,
    OutboxDocument,
    SourceTransaction,
    XeroConnection,
)
from abxero.sync import ledger
from abxero.sync.events import record_event

ROUTED = SourceStatus.ROUTED
NO_ENTITY = ""


def entity_name(raw: Mapping[str, Any]) -> str:
    """The record's legal entity as shown (spaces collapsed), or "" when it names none."""
    value = raw.get("legalEntityName")
    return " ".join(value.split())[:200] if isinstance(value, str) else NO_ENTITY


def entity_key(name: str) -> str:
    return " ".join(name.split()).casefold()[:200]


def route_for(session: Session, home_id: int, name: str) -> int:
    """The organisation that posts the entity's new transactions (the home when unrouted)."""
    route = session.get(EntityRoute, (home_id, entity_key(name)))
    return route.target_connection_id if route is not None else home_id


def _routes_of(session: Session, home_id: int) -> dict[str, int]:
    """Every routed entity of ``home_id`` (one query a page, not one a record)."""
    rows = session.execute(
        select(EntityRoute.entity_key, EntityRoute.target_connection_id).where(
            EntityRoute.home_connection_id == home_id
        )
    )
    return {str(key): int(target) for key, target in rows}


def store_routed(
    session: Session, home_id: int, page: Sequence[ledger.Fetched]
) -> ledger.StoreCounts:
    """Store a fetched page in the home's feed store and each record where it posts."""
    ids = [ledger.source_id(parsed, ledger.content_hash(raw)) for raw, parsed in page]
    known = set(
        session.scalars(
            select(SourceTransaction.transaction_id).where(
                SourceTransaction.xero_connection_id == home_id,
                SourceTransaction.transaction_id.in_(ids),
            )
        )
    )
    counts = ledger.store_fetched(session, home_id, page)
    stored = {
        row.transaction_id: row
        for row in session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.xero_connection_id == home_id,
                SourceTransaction.transaction_id.in_(ids),
            )
        )
    }
    waiting: dict[int, int] = defaultdict(int)
    routes = _routes_of(session, home_id)
    for identifier, (raw, parsed) in zip(ids, page, strict=True):
        row = stored.get(identifier)
        if row is None:  # not stored (cannot happen after store_fetched; never guess)
            continue
        row.legal_entity = entity_name(raw)
        if identifier not in known:
            target = routes.get(entity_key(row.legal_entity), home_id)
            if target != home_id:
                _hand_over(session, row, target, (raw, parsed))
                waiting[target] += 0 if _connected(session, target) else 1
        elif row.routed_to is not None:
            _point_to(session, row, row.routed_to)  # its owner takes the change: pull_changes
    for owner, count in waiting.items():
        if count:
            _note_waiting(session, home_id, owner, count)
    session.flush()
    return counts


def _hand_over(
    session: Session, row: SourceTransaction, owner: int, fetched: ledger.Fetched
) -> None:
    """Store the record in ``owner``'s ledger; the home's row only points there. Only for a
    copy nobody else is working on: a new record, or under the owner's sync lease."""
    ledger.store_fetched(session, owner, [fetched])
    copy = ledger.find_source(session, owner, row.transaction_id)
    if copy is not None:
        copy.legal_entity = row.legal_entity
    _point_to(session, row, owner)


def _point_to(session: Session, row: SourceTransaction, owner: int) -> None:
    row.status, row.routed_to = ROUTED, owner
    row.reason_code = ROUTED
    row.reason = f'Posted by the Xero organisation "{_name(session, owner)}".'
    row.remedy = "Change where this legal entity posts under Legal entities."


def pull_changes(session: Session, connection_id: int) -> int:
    """Bring records routed to this organisation up to date with its feed store; how many.

    The fetching engine holds only its own organisation's lease, so a record that changed at
    Amazon after it was routed is copied here by this organisation's own run, under its lease:
    never while its engine plans or sends that record's documents. ``store_fetched`` then
    replaces an unsent record and flags one already posted, as for a record fetched directly.
    """
    homes = session.execute(
        select(SourceTransaction.transaction_id, SourceTransaction.content_hash).where(
            SourceTransaction.routed_to == connection_id,
            SourceTransaction.xero_connection_id != connection_id,
        )
    ).all()
    if not homes:
        return 0
    held = dict(
        session.execute(
            select(SourceTransaction.transaction_id, SourceTransaction.content_hash).where(
                SourceTransaction.xero_connection_id == connection_id
            )
        ).all()
    )
    stale = [tid for tid, digest in homes if held.get(tid) != digest]
    for transaction_id in stale:
        home_row = session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.routed_to == connection_id,
                SourceTransaction.transaction_id == transaction_id,
            )
        ).first()
        if home_row is None:
            continue
        raw = jsontext.loads(home_row.raw)
        ledger.store_fetched(session, connection_id, [(raw, parse_transaction(raw))])
        copy = ledger.find_source(session, connection_id, transaction_id)
        if copy is not None:
            copy.legal_entity = home_row.legal_entity
    session.flush()
    return len(stale)


def _connected(session: Session, connection_id: int) -> bool:
    connection = session.get(XeroConnection, connection_id)
    return connection is not None and connection.status == ConnectionStatus.CONNECTED


def _name(session: Session, connection_id: int) -> str:
    connection = session.get(XeroConnection, connection_id)
    return connection.tenant_name if connection is not None else f"#{connection_id}"


def _note_waiting(session: Session, home_id: int, owner: int, count: int) -> None:
    record_event(
        session,
        home_id,
        "warning",
        "routed_to_disconnected",
        f"{count} new Amazon transactions belong to a legal entity routed to "
        f'"{_name(session, owner)}", which is not connected: they wait there, unposted.',
        "Reconnect that organisation, or route the legal entity to another one.",
        target=owner,
        count=count,
    )


# -- moving an entity -----------------------------------------------------------------------


@dataclass
class Moved:
    """What re-routing one legal entity did: how many moved, and what stays where."""

    entity: str
    target: int
    moved: int = 0
    stayed: dict[int, int] = field(default_factory=dict)


def organisations_holding(session: Session, home_id: int, name: str) -> set[int]:
    """Every organisation holding a transaction of the entity (the home included)."""
    return {row.routed_to or home_id for row in _entity_rows(session, home_id, name)}


def reroute(session: Session, home_id: int, name: str, target: int) -> Moved:
    """Route the entity's new transactions to ``target`` and move those not yet sent.

    The caller holds the sync leases of the home, of ``target`` and of every organisation in
    :func:`organisations_holding`.
    """
    key = entity_key(name)
    route = session.get(EntityRoute, (home_id, key))
    if target == home_id:
        if route is not None:
            session.delete(route)
    elif route is None:
        session.add(
            EntityRoute(
                home_connection_id=home_id,
                entity_key=key,
                entity_name=name,
                target_connection_id=target,
            )
        )
    else:
        route.entity_name, route.target_connection_id = name, target
    result = Moved(name, target)
    for row in _entity_rows(session, home_id, name):
        owner = row.routed_to or home_id
        if owner == target:
            continue
        if ledger.has_sent_documents(session, owner, row.transaction_id):
            result.stayed[owner] = result.stayed.get(owner, 0) + 1
            continue
        _take_back(session, home_id, row)
        raw = jsontext.loads(row.raw)
        fetched = (raw, parse_transaction(raw))
        if target == home_id:
            ledger.refill_source(row, *fetched)
            row.routed_to = None
        else:
            _hand_over(session, row, target, fetched)
        result.moved += 1
    session.flush()
    return result


def _entity_rows(session: Session, home_id: int, name: str) -> list[SourceTransaction]:
    key = entity_key(name)
    names = [
        known
        for known in session.scalars(
            select(SourceTransaction.legal_entity)
            .where(SourceTransaction.xero_connection_id == home_id)
            .distinct()
        )
        if entity_key(known) == key
    ]
    return list(
        session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == home_id,
                SourceTransaction.legal_entity.in_(names),
            )
            .order_by(SourceTransaction.id)
        )
    )


def _take_back(session: Session, home_id: int, row: SourceTransaction) -> None:
    """Remove an unsent transaction from the organisation holding it: its planned documents,
    and the copy when that is not the home (the home's row keeps the raw record)."""
    owner = row.routed_to or home_id
    session.execute(
        delete(OutboxDocument).where(
            OutboxDocument.xero_connection_id == owner,
            OutboxDocument.transaction_id == row.transaction_id,
        )
    )
    if owner != home_id:
        copy = ledger.find_source(session, owner, row.transaction_id)
        if copy is not None:
            session.delete(copy)
    session.flush()


# -- what the pages show ------------------------------------------------------------------


@dataclass
class EntityPlace:
    """One legal entity of an account: where it posts, and where its transactions are."""

    name: str
    target: int
    # organisation id -> (transactions sent to Xero there, transactions waiting there)
    held_by: dict[int, tuple[int, int]] = field(default_factory=dict)


def entities_of(session: Session, home_id: int) -> list[EntityPlace]:
    """Every legal entity seen in the home's feed store (and every routed one), by name."""
    places: dict[str, EntityPlace] = {}
    sent = _sent_ids(session, home_id)
    rows = session.execute(
        select(
            SourceTransaction.legal_entity,
            SourceTransaction.routed_to,
            SourceTransaction.transaction_id,
        ).where(SourceTransaction.xero_connection_id == home_id)
    ).all()
    for name, routed_to, transaction_id in rows:
        key = entity_key(name)
        place = places.get(key)
        if place is None:
            place = places[key] = EntityPlace(name, route_for(session, home_id, name))
        owner = routed_to or home_id
        done, waiting = place.held_by.get(owner, (0, 0))
        if (owner, transaction_id) in sent:
            done += 1
        else:
            waiting += 1
        place.held_by[owner] = (done, waiting)
    for route in session.scalars(
        select(EntityRoute).where(EntityRoute.home_connection_id == home_id)
    ):
        places.setdefault(
            route.entity_key, EntityPlace(route.entity_name, route.target_connection_id)
        )
    return sorted(
        places.values(), key=lambda place: (place.name == NO_ENTITY, place.name.casefold())
    )


def _sent_ids(session: Session, home_id: int) -> set[tuple[int, str]]:
    """(organisation, transaction) pairs of the home's transactions something was sent of."""
    owners = {home_id} | set(
        session.scalars(
            select(SourceTransaction.routed_to)
            .where(
                SourceTransaction.xero_connection_id == home_id,
                SourceTransaction.routed_to.is_not(None),
            )
            .distinct()
        )
    )
    rows = session.execute(
        select(OutboxDocument.xero_connection_id, OutboxDocument.transaction_id).where(
            OutboxDocument.xero_connection_id.in_([o for o in owners if o is not None]),
            OutboxDocument.status != DocumentStatus.PLANNED,
        )
    ).all()
    return {(owner, transaction_id) for owner, transaction_id in rows}


def home_of(session: Session, connection_id: int) -> int | None:
    """The organisation whose Amazon feed posts into this one through a route, if any."""
    return session.scalars(
        select(EntityRoute.home_connection_id)
        .where(
            EntityRoute.target_connection_id == connection_id,
            EntityRoute.home_connection_id != connection_id,
        )
        .order_by(EntityRoute.home_connection_id)
    ).first()


def routed_targets(session: Session) -> set[int]:
    """Organisations that receive transactions from another organisation's feed."""
    return set(session.scalars(select(EntityRoute.target_connection_id).distinct()))
