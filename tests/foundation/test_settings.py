"""Settings come from ABXERO_* variables and fail loudly, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from abxero.settings import SettingsError, load_settings


def test_defaults_put_both_databases_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABXERO_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'abxero.db'}"
    assert settings.resolved_queue_url == f"sqlite:///{tmp_path / 'queue.db'}"
    assert settings.xero_api_url == "https://api.xero.com"
    assert "offline_access" in settings.xero_scopes.split()


def test_every_outside_url_can_be_pointed_at_a_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABXERO_XERO_API_URL", "http://127.0.0.1:9001/")
    monkeypatch.setenv("ABXERO_AMAZON_API_URL_EU", "http://127.0.0.1:9002")
    settings = load_settings()
    assert settings.xero_api_url == "http://127.0.0.1:9001"
    assert settings.amazon_api_url_eu == "http://127.0.0.1:9002"


def test_postgres_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABXERO_DATABASE_URL", "postgresql://abx@db.internal/abxero")
    assert load_settings().resolved_database_url == "postgresql+psycopg://abx@db.internal/abxero"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ABXERO_XERO_API_URL", "ftp://api.xero.com"),
        ("ABXERO_DATABASE_URL", "mysql://somewhere/db"),
        ("ABXERO_SYNC_INTERVAL_MINUTES", "0"),
        ("ABXERO_LOG_JSON", "perhaps"),
    ],
)
def test_a_bad_setting_names_its_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert variable in str(raised.value)


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ABXERO_XERO_CLIENT_ID=from-dotenv\n")
    assert load_settings().xero_client_id == "from-dotenv"


@pytest.mark.parametrize(
    "value",
    [
        "no-at-sign.example.com",
        "two@@example.com",
        "a@example.com, b@example.com",
        "alerts@example.com\r\nBcc: someone@example.com",
        "Abxero <alerts@example.com",
        "alerts@exa mple.com",
        "",
    ],
)
def test_a_malformed_sender_address_names_abxero_smtp_from(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The From header of every alert email: a bad value would fail each send much later, or
    add a header or a recipient, so it is refused when the settings are read."""
    monkeypatch.setenv("ABXERO_SMTP_FROM", value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "ABXERO_SMTP_FROM" in str(raised.value)
    assert "must be an email address" in str(raised.value)


@pytest.mark.parametrize(
    "value", ["abxero@localhost", "alerts@books.example.co.uk", "Abxero alerts <alerts@x.org>"]
)
def test_a_plain_or_named_sender_address_is_accepted(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABXERO_SMTP_FROM", value)
    settings = load_settings()
    assert settings.smtp_from == value
    bare = value.partition("<")[2].rstrip(">") or value  # the Message-ID domain comes from it
    assert settings.smtp_from_address == bare
