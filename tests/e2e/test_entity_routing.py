"""Legal-entity routing over both simulators: Acme Robotics (US) buys for three legal entities
(``simulators/amazon/businesses.py``); one Amazon consent feeds two Xero organisations, "Demo
Company (US)" (paired, it fetches the feed) and "Demo Company (US) 2" (fed by routing).

Amazon's truth is the paired organisation's source table: every record the feed gave, as
fetched. Each transaction must be in exactly one organisation's books, and per organisation
and payment instrument Xero's totals must equal Amazon's amounts for the entities it posts.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from abxero.amazon.auth import TokenSource
from abxero.amazon.transactions import amazon_time
from abxero.domain import jsontext
from abxero.jobs.tasks import due_connections
from abxero.services import manage
from abxero.services.routing import MoveReport, RoutingRefused, routing_view, set_routes
from abxero.store.models import Event, SourceTransaction, User, XeroConnection
from tests.e2e.harness import MAIN_ROLES, Harness, exactly_once_report, running_harness

pytestmark = pytest.mark.slow

NY = "Acme Labs NY Corp."
TX = "Acme Robotics Texas LLC"
CA = "Acme Robotics Inc."


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    options = {"organisation_copies": 2}
    with running_harness(tmp_path, database_url, orders_per_day=2.0, xero_options=options) as h:
        with h.runtime.sessions() as session:
            second = session.scalars(
                select(XeroConnection.id).where(XeroConnection.tenant_name == "Demo Company (US) 2")
            ).one()
        h.connections["US2"] = second
        yield h


def _user(harness: Harness) -> int:
    with harness.runtime.sessions() as session:
        return session.scalars(select(User.id)).one()


def _import(harness: Harness, first_day: int, last_day: int) -> None:
    now = harness.runtime.now()
    report = harness.runtime.engine_for(harness.connections["US"]).import_range(
        now - timedelta(days=first_day), now - timedelta(days=last_day)
    )
    assert report.error == ""


def _route(harness: Harness, entity: str, key: str) -> MoveReport:
    reports = set_routes(
        harness.runtime,
        _user(harness),
        harness.connections["US"],
        {entity: harness.connections[key]},
    )
    assert len(reports) == 1
    return reports[0]


def _post(harness: Harness, key: str) -> None:
    report = harness.runtime.engine_for(harness.connections[key]).post_pending()
    assert report.error == "", report.error


def _feed(harness: Harness) -> list[SourceTransaction]:
    return harness.sources("US")


def _owner(harness: Harness, row: SourceTransaction) -> str:
    owner = row.routed_to or harness.connections["US"]
    return next(key for key, ident in harness.connections.items() if ident == owner)


def _check_exactly_once(harness: Harness, expected: dict[str, set[str]]) -> None:
    """Every fetched transaction sits in exactly one organisation, the one ``expected`` says
    for its entity; that organisation posted it; Xero per instrument equals Amazon's."""
    feed = _feed(harness)
    assert {row.legal_entity for row in feed} == {NY, TX, CA}
    posted: dict[str, set[str]] = {}
    for key in ("US", "US2"):
        posted[key] = {
            d.transaction_id
            for d in harness.documents(key)
            if d.role in MAIN_ROLES and d.status == "posted"
        }
    assert not posted["US"] & posted["US2"]  # never in two organisations' books
    amazon: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in feed:
        owner = _owner(harness, row)
        assert row.legal_entity in expected[owner]
        if row.status == "skipped":
            continue
        assert row.transaction_id in posted[owner], (row.transaction_id, row.status, row.reason)
        amazon[(owner, row.instrument_key)] += row.amount or Decimal(0)
    for key in ("US", "US2"):
        report = exactly_once_report(harness, key)
        assert report["xero_documents"] == report["ledger_documents"]
        assert report["unknown_in_xero"] == []
        assert report["mismatched_totals"] == []
        assert report["per_instrument_equal"]
        assert report["trial_balance_total"] == Decimal(0)
        xero = _xero_per_instrument(harness, key)
        assert xero == {i: v for (o, i), v in amazon.items() if o == key}


def _xero_per_instrument(harness: Harness, key: str) -> dict[str, Decimal]:
    """What Xero holds for our contact, per Amazon instrument of the transaction posted."""
    state = harness.organisation_state(key)
    totals = {
        doc.get("InvoiceID") or doc.get("CreditNoteID") or doc.get("BankTransactionID"): Decimal(
            str(doc["Total"])
        )
        for kind in ("invoices", "credit_notes", "bank_transactions")
        for doc in state[kind]
        if doc["Status"] != "DELETED"
    }
    sources = {s.transaction_id: s for s in harness.sources(key)}
    result: dict[str, Decimal] = defaultdict(Decimal)
    for document in harness.documents(key):
        if document.role in MAIN_ROLES and document.status == "posted":
            sign = -1 if document.role in {"credit_note", "receive"} else 1
            result[sources[document.transaction_id].instrument_key] += (
                sign * totals[document.xero_id]
            )
    return dict(result)


def test_three_entities_to_two_organisations_post_exactly_once(world: Harness) -> None:
    _import(world, 90, 0)
    moved = _route(world, NY, "US2")
    ny_count = sum(1 for row in _feed(world) if row.legal_entity == NY)
    assert moved.moved == ny_count > 0
    assert moved.stayed == ()
    assert moved.target == "Demo Company (US) 2"
    world.map_and_finish("US")
    world.map_and_finish("US2")
    _post(world, "US")
    _post(world, "US2")
    _check_exactly_once(world, {"US": {CA, TX}, "US2": {NY}})
    # the feed was read by the paired organisation only; the other holds just its entity
    assert {row.legal_entity for row in world.sources("US2")} == {NY}
    # posting again, and reading the same range again, changes nothing
    _import(world, 90, 0)
    _post(world, "US")
    _post(world, "US2")
    _check_exactly_once(world, {"US": {CA, TX}, "US2": {NY}})


def test_rerouting_moves_what_is_unsent_and_says_what_stays(world: Harness) -> None:
    _import(world, 90, 20)
    _route(world, NY, "US2")
    world.map_and_finish("US2")
    _post(world, "US2")  # New York's purchases are now in the second organisation's books
    sent_ny = sum(1 for row in _feed(world) if row.legal_entity == NY)
    back = _route(world, NY, "US")
    assert back.moved == 0
    assert back.stayed == (("Demo Company (US) 2", sent_ny),)
    assert "stay in Demo Company (US) 2" in back.sentence()
    texas = _route(world, TX, "US2")  # nothing of Texas was sent: all of it moves
    assert texas.moved == sum(1 for row in _feed(world) if row.legal_entity == TX) > 0
    assert texas.stayed == ()
    _import(world, 20, 0)  # newer purchases follow the routes now in force
    world.map_and_finish("US")
    world.map_and_finish("US2")  # Texas brought its cards along
    _post(world, "US")
    _post(world, "US2")
    recent = world.runtime.now() - timedelta(days=19)
    for row in _feed(world):
        if row.legal_entity == NY and row.feed_date and row.feed_date >= recent:
            assert _owner(world, row) == "US"
    feed = _feed(world)
    ny_old = {r.transaction_id for r in feed if r.legal_entity == NY and r.routed_to}
    assert len(ny_old) == sent_ny
    _check_exactly_once(world, {"US": {CA, NY}, "US2": {TX, NY}})


def test_a_disconnected_organisation_holds_its_entities_visibly(world: Harness) -> None:
    _import(world, 90, 30)
    _route(world, NY, "US2")
    world.map_and_finish("US")
    manage.disconnect(world.runtime, world.connections["US2"])
    _import(world, 30, 0)  # new New York purchases arrive while the organisation is gone
    _post(world, "US")
    feed = _feed(world)
    waiting_ny = [row for row in feed if row.legal_entity == NY]
    assert waiting_ny
    assert all(row.status == "routed" for row in waiting_ny)
    posted_us = {d.transaction_id for d in world.documents("US") if d.status == "posted"}
    assert not posted_us & {row.transaction_id for row in waiting_ny}  # not posted elsewhere
    in_us2 = {row.transaction_id: row.status for row in world.sources("US2")}
    assert set(in_us2) == {row.transaction_id for row in waiting_ny}  # nothing lost
    assert set(in_us2.values()) <= {"new"}
    assert world.documents("US2") == []
    with world.runtime.sessions() as session:
        codes = set(
            session.scalars(
                select(Event.code).where(Event.xero_connection_id == world.connections["US"])
            )
        )
    assert "routed_to_disconnected" in codes
    view = routing_view(world.runtime.sessions, _user(world), world.connections["US"])
    ny = next(entity for entity in view.entities if entity.name == NY)
    assert [(h.name, h.connected, h.sent, h.waiting) for h in ny.holdings] == [
        ("Demo Company (US) 2", False, 0, len(waiting_ny))
    ]
    with pytest.raises(RoutingRefused, match="not connected"):
        _route(world, TX, "US2")
    home = _route(world, NY, "US")  # routed home again, they post there, once
    assert home.moved == len(waiting_ny)
    _post(world, "US")
    assert world.sources("US2") == []
    world.connections.pop("US2")
    report = exactly_once_report(world, "US")
    assert report["per_instrument_equal"]
    assert report["mismatched_totals"] == []
    statuses = {row.status for row in _feed(world)}
    assert statuses <= {"posted", "skipped"}


def test_only_visible_organisations_can_be_chosen(world: Harness) -> None:
    _import(world, 10, 0)
    with world.runtime.sessions() as session:
        stranger = XeroConnection(
            tenant_id="not-yours", tenant_name="Someone else", owner_user_id=_user(world)
        )
        session.add(stranger)
        session.commit()
        stranger_id = stranger.id
    with pytest.raises(RoutingRefused, match="organisations you can see"):
        set_routes(world.runtime, _user(world), world.connections["US"], {NY: stranger_id})
    assert all(row.routed_to is None for row in _feed(world))


def test_organisations_sharing_a_grant_refresh_it_once_when_amazon_rotates_it(
    world: Harness,
) -> None:
    """The fed organisation uses the paired one's grant. With refresh tokens that rotate
    (the simulator's ``rotate_refresh_tokens``), a second keeper refreshing with the refresh
    token it loaded earlier gets ``invalid_grant``; instead it finds the newer tokens stored."""
    _import(world, 5, 0)
    _route(world, NY, "US2")
    home = world.runtime.amazon_api(world.connections["US"])
    fed = world.runtime.amazon_api(world.connections["US2"])
    world.amazon_admin("POST", "/_sim/faults", {"rotate_refresh_tokens": True})
    world.amazon_admin("POST", "/_sim/expire-tokens")
    end = world.runtime.now()
    window = {
        "feedStartDate": amazon_time(end - timedelta(days=2)),
        "feedEndDate": amazon_time(end),
    }
    home.get("/reconciliation/2021-01-08/transactions", window)  # refreshes: a new token
    fed.get("/reconciliation/2021-01-08/transactions", window)  # uses it, no second refresh
    consents = world.amazon_admin("GET", "/_sim/state")["consents"]
    assert len([c for c in consents if c["business_id"] == "us-acme"]) == 2  # one refresh
    again = world.runtime.engine_for(world.connections["US2"]).post_pending()
    assert again.error == ""


def test_a_fed_organisation_is_scheduled_and_posts_even_without_the_feeding_pairing(
    world: Harness,
) -> None:
    """The scheduler syncs an organisation fed by routing (it has no pairing of its own), and
    what it holds posts even after the paired organisation is disconnected."""
    _import(world, 30, 0)
    _route(world, NY, "US2")
    world.map_and_finish("US2")
    assert world.connections["US2"] in due_connections(world.runtime)
    manage.disconnect(world.runtime, world.connections["US"])
    assert world.connections["US2"] not in due_connections(world.runtime)  # nothing new comes
    _post(world, "US2")
    ny = {row.transaction_id for row in _feed(world) if row.legal_entity == NY}
    posted = {
        d.transaction_id
        for d in world.documents("US2")
        if d.role in MAIN_ROLES and d.status == "posted"
    }
    skipped = {row.transaction_id for row in world.sources("US2") if row.status == "skipped"}
    assert ny
    assert posted | skipped == ny


def test_two_keepers_refreshing_at_once_refresh_the_grant_once(world: Harness) -> None:
    """Both keepers of one grant decide to refresh at the same moment; the lease lets one
    refresh while the other waits, then takes the tokens it stored."""
    _import(world, 3, 0)
    _route(world, NY, "US2")
    keepers = [
        world.runtime.amazon_api(world.connections[key]).tokens for key in ("US", "US2", "US")
    ]
    world.amazon_admin("POST", "/_sim/faults", {"rotate_refresh_tokens": True})
    start = threading.Barrier(len(keepers))
    answers: list[str] = []
    problems: list[BaseException] = []

    def refresh(keeper: TokenSource) -> None:
        start.wait()
        try:
            answers.append(keeper.refresh())
        except Exception as problem:  # collected: the assertion below names it
            problems.append(problem)

    threads = [threading.Thread(target=refresh, args=(keeper,)) for keeper in keepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert problems == []
    assert len(set(answers)) == 1  # one new access token, shared
    consents = world.amazon_admin("GET", "/_sim/state")["consents"]
    assert len([c for c in consents if c["business_id"] == "us-acme"]) == 2


def _changed_at_amazon(harness: Harness, row: SourceTransaction, group: str) -> None:
    """Amazon serves the transaction again with different content."""
    record = dict(jsontext.loads(row.raw))
    record["purchasingCustomerGroupName"] = group
    moment = harness.runtime.now() - timedelta(minutes=5)
    record["feedDate"] = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    harness.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": "us-acme", "transactions": [record]}
    )


def test_a_routed_record_that_changes_reaches_its_organisation_once(world: Harness) -> None:
    """The fetching engine updates only its own feed store; the organisation holding the
    record takes the change in its own run (under its lease): an unsent record is replaced and
    posts once with the new content, a posted one is flagged, not posted again."""
    _import(world, 10, 0)
    _route(world, NY, "US2")
    unsent, posted = [r for r in _feed(world) if r.legal_entity == NY and r.amount][:2]
    _changed_at_amazon(world, unsent, "Changed before posting")
    _import(world, 10, 0)
    copy = {r.transaction_id: r for r in world.sources("US2")}[unsent.transaction_id]
    assert "Changed before posting" not in copy.raw  # not touched by the other organisation
    world.map_and_finish("US2")
    _post(world, "US2")
    copy = {r.transaction_id: r for r in world.sources("US2")}[unsent.transaction_id]
    assert "Changed before posting" in copy.raw
    assert copy.status == "posted"
    _changed_at_amazon(world, posted, "Changed after posting")
    _import(world, 10, 0)
    _post(world, "US2")
    with world.runtime.sessions() as session:
        flagged = session.scalars(
            select(Event.data).where(
                Event.xero_connection_id == world.connections["US2"],
                Event.code == "changed_after_posting",
            )
        ).all()
    assert [item["transaction_id"] for item in flagged] == [posted.transaction_id]
    main = [d for d in world.documents("US2") if d.role in MAIN_ROLES]
    assert len({d.transaction_id for d in main}) == len(main)  # one document set each
    world.map_and_finish("US")
    _post(world, "US")
    _check_exactly_once(world, {"US": {CA, TX}, "US2": {NY}})
