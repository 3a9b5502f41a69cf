"""The command line creates the schema and reports bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from abxero import __version__
from abxero.cli import app
from abxero.store.db import make_engine

runner = CliRunner()


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_db_upgrade_creates_the_schema(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABXERO_DATABASE_URL", database_url.replace("+psycopg", ""))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(database_url)
    assert "outbox_documents" in inspect(engine).get_table_names()
    engine.dispose()


def test_db_upgrade_with_a_bad_setting_exits_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ABXERO_DATABASE_URL", "oracle://nowhere")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "ABXERO_DATABASE_URL" in result.output


def test_rotate_keys_rewrites_tokens_under_the_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    from abxero.store.crypto import TokenCipher
    from abxero.store.db import session_factory, transaction
    from abxero.store.models import EncryptedTokenSet
    from abxero.store.tokens import save_token_set

    url = f"sqlite:///{tmp_path / 'abxero.db'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("ABXERO_DATABASE_URL", url)
    monkeypatch.setenv("ABXERO_SECRET_KEY", old)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        save_token_set(session, TokenCipher([old]), "xero", {"refresh_token": "r"}, None)
    monkeypatch.setenv("ABXERO_SECRET_KEY", f"{new},{old}")
    result = runner.invoke(app, ["db", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "1 token sets" in result.output
    with session_factory(engine)() as session:
        row = session.query(EncryptedTokenSet).one()
        assert TokenCipher([new]).decrypt(row.ciphertext) == {"refresh_token": "r"}
    engine.dispose()
