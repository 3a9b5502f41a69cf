"""A migrated database with one organisation, on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import upgrade
from abxero.store.models import User, XeroConnection


@dataclass
class Ledger:
    factory: sessionmaker[Session]
    connection_id: int


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        user = User(xero_user_id="user-1")
        session.add(user)
        session.flush()
        organisation = XeroConnection(tenant_id="tenant-1", owner_user_id=user.id)
        session.add(organisation)
        session.flush()
        connection_id = organisation.id
    yield Ledger(factory, connection_id)
    engine.dispose()
