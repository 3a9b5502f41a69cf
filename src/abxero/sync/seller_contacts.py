"""One Xero contact per seller: which sellers waiting transactions post to, and their stored
ContactIDs (a contact is created once and then known by id, like the default contact)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.domain import jsontext
from abxero.domain.mapping import seller_key
from abxero.domain.sellers import document_seller
from abxero.domain.transactions import Transaction, parse_transaction
from abxero.store.models import SellerContact, SourceTransaction
from abxero.sync.ledger import REPLANNABLE

NAME_LIMIT = 255
"""Xero's longest contact ``Name`` (xero-api.md §4.7, from the Contact schema)."""


def sellers_waiting(session: Session, connection_id: int) -> dict[str, str]:
    """Seller key → name for every transaction still to plan that names one seller."""
    raws = session.scalars(
        select(SourceTransaction.raw).where(
            SourceTransaction.xero_connection_id == connection_id,
            SourceTransaction.status.in_(REPLANNABLE),
        )
    )
    wanted: dict[str, str] = {}
    for raw in raws:
        parsed = parse_transaction(jsontext.loads(raw))
        seller = document_seller(parsed) if isinstance(parsed, Transaction) else ""
        if seller:
            wanted.setdefault(seller_key(seller), " ".join(seller.split())[:NAME_LIMIT])
    return wanted


def known(session: Session, connection_id: int) -> dict[str, str]:
    rows = session.execute(
        select(SellerContact.seller_key, SellerContact.contact_id).where(
            SellerContact.xero_connection_id == connection_id
        )
    )
    return {str(key): str(contact_id) for key, contact_id in rows}


def key_suffix(key: str) -> str:
    """Each seller's create request gets its own Idempotency-Key."""
    return "-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def remember(session: Session, connection_id: int, key: str, name: str, contact_id: str) -> None:
    stored = session.scalar(
        select(SellerContact).where(
            SellerContact.xero_connection_id == connection_id, SellerContact.seller_key == key
        )
    )
    if stored is None:
        session.add(
            SellerContact(
                xero_connection_id=connection_id,
                seller_key=key,
                name=name,
                contact_id=contact_id,
            )
        )
