"""Saving, reading and re-keying encrypted token sets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from abxero.store.crypto import TokenCipher
from abxero.store.models import AlertSettings, EncryptedTokenSet, utcnow


def save_token_set(
    session: Session,
    cipher: TokenCipher,
    provider: str,
    tokens: dict[str, Any],
    expires_at: datetime | None,
    existing: EncryptedTokenSet | None = None,
    *,
    issued_at: datetime | None = None,
) -> EncryptedTokenSet:
    """Store ``tokens`` the provider just issued (``issued_at``, default now) encrypted, as a
    new row or over ``existing`` (bumping its generation)."""
    issued = issued_at or utcnow()
    if existing is None:
        row = EncryptedTokenSet(
            provider=provider,
            ciphertext=cipher.encrypt(tokens),
            expires_at=expires_at,
            issued_at=issued,
        )
        session.add(row)
    else:
        row = existing
        row.ciphertext = cipher.encrypt(tokens)
        row.expires_at = expires_at
        row.issued_at = issued
        row.generation += 1
    session.flush()
    return row


def read_token_set(cipher: TokenCipher, row: EncryptedTokenSet) -> dict[str, Any]:
    return cipher.decrypt(row.ciphertext)


def rotate_all(session: Session, cipher: TokenCipher) -> int:
    """Re-encrypt every token set and alert webhook secret under the newest key; returns how
    many rows changed. ``issued_at`` is left alone: the tokens themselves are unchanged."""
    rows = session.scalars(select(EncryptedTokenSet)).all()
    for row in rows:
        row.ciphertext = cipher.rotate(row.ciphertext)
    secrets = session.scalars(
        select(AlertSettings).where(AlertSettings.webhook_secret.is_not(None))
    ).all()
    for setting in secrets:
        assert setting.webhook_secret is not None
        setting.webhook_secret = cipher.rotate(setting.webhook_secret)
    session.flush()
    return len(rows) + len(secrets)
