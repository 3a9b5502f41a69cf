"""What the Legal entities page does: show where each legal entity of an Amazon Business
account posts, and route entities to the user's other organisations (``sync/routing.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.lifecycles import ConnectionStatus, SetupStep
from abxero.runtime import Runtime
from abxero.services.connections import NotFound, connection_for, organisations_for
from abxero.store.db import transaction
from abxero.store.models import AmazonConnection, UserTenant, XeroConnection
from abxero.sync import routing
from abxero.sync.leases import release, try_acquire

MOVE_LEASE = timedelta(seconds=60)


class RoutingRefused(ValueError):
    """The routing asked for cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Destination:
    connection_id: int
    name: str
    status: str

    @property
    def connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED


@dataclass(frozen=True)
class Holding:
    """Transactions of one entity held by one organisation."""

    name: str
    connected: bool
    sent: int
    waiting: int


@dataclass(frozen=True)
class EntityRow:
    name: str
    target: int
    holdings: tuple[Holding, ...]


@dataclass(frozen=True)
class RoutingView:
    """The Legal entities page: ``home`` fetches the feed; ``fed_by`` names the organisation
    whose feed routes to this one when it has no pairing of its own."""

    home: bool
    entities: tuple[EntityRow, ...]
    destinations: tuple[Destination, ...]
    fed_by: str


def routing_view(sessions: sessionmaker[Session], viewer: int, connection_id: int) -> RoutingView:
    """The page for an organisation the viewer may see (the caller checked that)."""
    with sessions() as session:
        destinations = _destinations(session, viewer)
        names = {d.connection_id: d for d in destinations}
        home = _is_home(session, connection_id)
        rows: list[EntityRow] = []
        if home:
            for place in routing.entities_of(session, connection_id):
                holdings = tuple(
                    _holding(session, names, owner, sent, waiting)
                    for owner, (sent, waiting) in sorted(place.held_by.items())
                )
                rows.append(EntityRow(place.name, place.target, holdings))
        fed_by = "" if home else _feeder_name(session, connection_id, viewer)
        return RoutingView(home, tuple(rows), tuple(destinations), fed_by)


def fed_by_name(sessions: sessionmaker[Session], connection_id: int, viewer: int) -> str:
    """The organisation whose Amazon feed routes legal entities here, when this one has no
    pairing of its own; "" otherwise."""
    with sessions() as session:
        if _is_home(session, connection_id):
            return ""
        return _feeder_name(session, connection_id, viewer)


def _feeder_name(session: Session, connection_id: int, viewer: int) -> str:
    """The feeding organisation's name, only to a viewer who may see it."""
    feeder = routing.home_of(session, connection_id)
    if feeder is None:
        return ""
    if session.get(UserTenant, (viewer, feeder)) is None:
        return "another Xero organisation of your business"
    return session.get_one(XeroConnection, feeder).tenant_name


def _holding(
    session: Session, names: Mapping[int, Destination], owner: int, sent: int, waiting: int
) -> Holding:
    known = names.get(owner)
    if known is not None:
        return Holding(known.name, known.connected, sent, waiting)
    other = session.get_one(XeroConnection, owner)  # an organisation this viewer cannot see
    return Holding(
        "another organisation", other.status == ConnectionStatus.CONNECTED, sent, waiting
    )


def _destinations(session: Session, viewer: int) -> list[Destination]:
    return [
        Destination(
            org.connection_id, org.name, session.get_one(XeroConnection, org.connection_id).status
        )
        for org in organisations_for(session, viewer)
    ]


def _is_home(session: Session, connection_id: int) -> bool:
    return (
        session.scalars(
            select(AmazonConnection.id).where(AmazonConnection.xero_connection_id == connection_id)
        ).first()
        is not None
    )


@dataclass(frozen=True)
class MoveReport:
    entity: str
    target: str
    moved: int
    stayed: tuple[tuple[str, int], ...]

    def sentence(self) -> str:
        text = f"{self.entity or 'Transactions without a legal entity'} now posts to {self.target}"
        text += f"; {self.moved} waiting transactions moved there" if self.moved else ""
        for name, count in self.stayed:
            text += f"; {count} already sent to Xero stay in {name}"
        return text + "."


def set_routes(
    runtime: Runtime, viewer: int, home_id: int, wanted: Mapping[str, int]
) -> list[MoveReport]:
    """Route each named entity of ``home_id``'s account to an organisation; what moved.

    Only organisations the viewer may see are accepted (checked here, whatever the form
    said), only connected ones as a new destination, and only entities seen in the feed.
    """
    with runtime.sessions() as session:
        connection_for(session, viewer, home_id)
        if not _is_home(session, home_id):
            raise RoutingRefused(
                "This organisation is not connected to Amazon Business itself, so it has no "
                "legal entities to route. Route them from the organisation that is."
            )
        known = {place.name: place for place in routing.entities_of(session, home_id)}
        changes: dict[str, int] = {}
        for name, target in wanted.items():
            place = known.get(name)
            if place is None:
                raise RoutingRefused(f'No legal entity "{name}" was seen in this account.')
            if target == place.target:
                continue
            try:
                destination = connection_for(session, viewer, target)
            except NotFound:
                raise RoutingRefused(
                    "You can only route to organisations you can see in Xero."
                ) from None
            if target != home_id and destination.status != ConnectionStatus.CONNECTED:
                raise RoutingRefused(
                    f'"{destination.tenant_name}" is not connected; reconnect it before routing '
                    "a legal entity to it."
                )
            changes[name] = target
        involved = {home_id, *changes.values()}
        for name in changes:
            involved |= routing.organisations_holding(session, home_id, name)
    if not changes:
        return []
    with _all_leases(runtime, involved), transaction(runtime.sessions) as session:
        reports = [
            _report(session, routing.reroute(session, home_id, name, target))
            for name, target in changes.items()
        ]
        for target in set(changes.values()):
            organisation = session.get_one(XeroConnection, target)
            if organisation.setup_step == SetupStep.AMAZON:  # fed by this account, no consent
                organisation.setup_step = SetupStep.IMPORT
    return reports


def _report(session: Session, moved: routing.Moved) -> MoveReport:
    name = session.get_one(XeroConnection, moved.target).tenant_name
    stayed = tuple(
        (session.get_one(XeroConnection, owner).tenant_name, count)
        for owner, count in sorted(moved.stayed.items())
    )
    return MoveReport(moved.entity, name, moved.moved, stayed)


@contextmanager
def _all_leases(runtime: Runtime, connection_ids: set[int]) -> Iterator[None]:
    """The sync leases of every organisation involved, so no engine plans a moving row."""
    holder = runtime.work_holder()
    with ExitStack() as stack:
        for connection_id in sorted(connection_ids):
            name = f"sync:{connection_id}"
            if not try_acquire(runtime.sessions, name, holder, MOVE_LEASE, runtime.now):
                raise RoutingRefused(
                    "A sync of one of these organisations is running; try again in a minute."
                )
            stack.callback(release, runtime.sessions, name, holder)
        yield
