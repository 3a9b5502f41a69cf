"""Tokens are encrypted at rest, keys rotate, and the generated key file is private."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from abxero.store.crypto import DecryptionError, TokenCipher
from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.migrate import upgrade
from abxero.store.models import EncryptedTokenSet
from abxero.store.tokens import read_token_set, rotate_all, save_token_set

SECRET_TOKENS = {
    "access_token": "eyJhbGciOiJSUzI1NiJ9.plain-access-token-value",
    "refresh_token": "refresh-token-that-must-never-be-readable",
}


def test_no_token_is_readable_in_the_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "abxero.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    cipher = TokenCipher.from_secret(None, tmp_path / "secret.key")
    with transaction(session_factory(engine)) as session:
        save_token_set(session, cipher, "xero", SECRET_TOKENS, datetime.now(UTC))
    engine.dispose()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("abxero.db*"))
    for value in SECRET_TOKENS.values():
        assert value.encode() not in raw
    assert b"refresh_token" not in raw


def test_token_sets_round_trip_on_each_backend(database_url: str, tmp_path: Path) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = session_factory(engine)
    cipher = TokenCipher([Fernet.generate_key().decode()])
    with transaction(factory) as session:
        row = save_token_set(session, cipher, "amazon", SECRET_TOKENS, None)
        row_id = row.id
    with transaction(factory) as session:
        stored = session.get_one(EncryptedTokenSet, row_id)
        assert read_token_set(cipher, stored) == SECRET_TOKENS
        save_token_set(session, cipher, "amazon", {"access_token": "new"}, None, existing=stored)
        assert stored.generation == 2
    engine.dispose()


def test_key_rotation_keeps_old_ciphertext_readable_and_rewrites_it(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = session_factory(engine)
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with transaction(factory) as session:
        row_id = save_token_set(session, TokenCipher([old_key]), "xero", SECRET_TOKENS, None).id
    rotating = TokenCipher([new_key, old_key])
    with transaction(factory) as session:
        assert rotate_all(session, rotating) == 1
    with factory() as session:
        stored = session.get_one(EncryptedTokenSet, row_id)
        assert read_token_set(TokenCipher([new_key]), stored) == SECRET_TOKENS
        with pytest.raises(DecryptionError):
            read_token_set(TokenCipher([old_key]), stored)
    engine.dispose()


def test_generated_key_file_is_private_and_stable(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "secret.key"
    first = TokenCipher.from_secret(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = TokenCipher.from_secret(None, key_file)
    assert second.decrypt(first.encrypt({"a": 1})) == {"a": 1}


def test_a_passphrase_secret_is_stretched_into_a_working_key(tmp_path: Path) -> None:
    cipher = TokenCipher.from_secret("correct horse battery staple", tmp_path / "unused.key")
    assert cipher.decrypt(cipher.encrypt({"k": "v"})) == {"k": "v"}
    assert not (tmp_path / "unused.key").exists()
