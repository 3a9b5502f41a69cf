"""Saved mapping versions of an organisation: each save is a new version; the newest rules."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from abxero.domain.mapping import MappingConfig
from abxero.store.models import MappingVersion


def latest_mapping(session: Session, connection_id: int) -> tuple[int, MappingConfig] | None:
    row = session.scalars(
        select(MappingVersion)
        .where(MappingVersion.xero_connection_id == connection_id)
        .order_by(MappingVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.version, MappingConfig.from_json(row.body)


def save_mapping(session: Session, connection_id: int, mapping: MappingConfig) -> int:
    """Store ``mapping`` as the next version and return that version number."""
    current = session.scalar(
        select(func.max(MappingVersion.version)).where(
            MappingVersion.xero_connection_id == connection_id
        )
    )
    version = (current or 0) + 1
    session.add(
        MappingVersion(xero_connection_id=connection_id, version=version, body=mapping.to_json())
    )
    session.flush()
    return version
