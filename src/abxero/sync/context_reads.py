"""The organisation context kept between runs, so back-to-back runs read Xero once.

A stored read is used while it is younger than ``CONTEXT_MAX_AGE`` and no Xero write has been
refused since (a refusal may mean an account was archived, a tax rate changed or a contact
renamed in Xero, so the next run reads everything again). The supplier contact is not kept
here: every posting run reads it, so an archived or renamed contact is noticed before posting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session

from abxero.store.models import ContextRead
from abxero.xero.models import OrganisationFacts

#: How long a stored read may stand in for a fresh one.
CONTEXT_MAX_AGE = timedelta(minutes=15)


def remember(session: Session, connection_id: int, facts: OrganisationFacts, now: datetime) -> None:
    """Keep ``facts`` (``XeroBooks.organisation_facts``) as read at ``now``, in Xero's own
    field names, so recalling them is the same parse as reading them."""
    stored = session.get(ContextRead, connection_id)
    if stored is None:
        stored = ContextRead(xero_connection_id=connection_id)
        session.add(stored)
    stored.read_at = now
    stored.body = facts.model_dump_json(by_alias=True)


def recall(
    session: Session, connection_id: int, now: datetime, max_age: timedelta = CONTEXT_MAX_AGE
) -> OrganisationFacts | None:
    """The stored read if it is young enough, else None (also for a read kept in an older
    shape, which a fresh read then replaces)."""
    stored = session.get(ContextRead, connection_id)
    if stored is None or now - stored.read_at >= max_age or stored.read_at > now:
        return None
    try:
        return OrganisationFacts.model_validate_json(stored.body)
    except ValidationError:
        return None


def forget(session: Session, connection_id: int) -> None:
    """Drop the stored read: the next run reads Xero again."""
    session.execute(delete(ContextRead).where(ContextRead.xero_connection_id == connection_id))
