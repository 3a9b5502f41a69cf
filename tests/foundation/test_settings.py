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
