"""A migrated database with one organisation, on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import upgrade
from abxero.store.models import Base, User, XeroConnection


@dataclass
class Ledger:
    factory: sessionmaker[Session]
    connection_id: int


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield _ledger_with_one_organisation(engine)
    engine.dispose()


def _ledger_with_one_organisation(engine: Engine) -> Ledger:
    factory = session_factory(engine)
    with transaction(factory) as session:
        user = User(xero_user_id="user-1")
        session.add(user)
        session.flush()
        organisation = XeroConnection(tenant_id="tenant-1", owner_user_id=user.id)
        session.add(organisation)
        session.flush()
        connection_id = organisation.id
    return Ledger(factory, connection_id)


@pytest.fixture
def memory_ledger() -> Iterator[Ledger]:
    """The same ledger in an in-memory SQLite database built from the models (no migrations):
    for the unit tests of the ledger and batch protocols, which take milliseconds each."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    yield _ledger_with_one_organisation(engine)
    engine.dispose()
