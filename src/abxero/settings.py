"""One settings object, read from ``ABXERO_*`` environment variables and ``.env``.

Every outside base URL can be overridden so the simulators can stand in for Xero and Amazon.
``load_settings`` turns a validation failure into a :class:`SettingsError` whose message names
the environment variable to fix.
"""

from __future__ import annotations

import os
import re
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "ABXERO_"
DEFAULT_XERO_SCOPES = (
    "openid profile email offline_access accounting.invoices accounting.payments "
    "accounting.banktransactions accounting.contacts accounting.settings.read "
    "accounting.attachments"
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_http_url)]

# One plain address (the domain may be a bare host such as ``localhost``), optionally after a
# display name: ``alerts@example.com`` or ``Abxero alerts <alerts@example.com>``. Nothing that
# could end the From header or add a second address (line breaks, commas, semicolons).
_MAILBOX = r"[^@\s<>,;\"()\[\]\\]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*"
_SENDER = re.compile(rf"^(?:{_MAILBOX}|[^<>@,;\"\r\n\t]{{1,100}}<{_MAILBOX}>)$")


def _sender_address(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _SENDER.match(value):
        raise ValueError(
            f"must be an email address such as alerts@example.com or "
            f"'Abxero <alerts@example.com>', got {value[:80]!r}"
        )
    return value


SenderAddress = Annotated[str, AfterValidator(_sender_address)]


def default_data_dir() -> Path:
    """``./.abxero`` when it exists in the working directory, else the XDG data home."""
    local = Path.cwd() / ".abxero"
    if local.is_dir():
        return local
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "abxero"


class Settings(BaseSettings):
    """Everything abxero can be configured with. Field ``x`` is read from ``ABXERO_X``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    queue_url: str | None = None
    secret_key: SecretStr | None = None
    public_url: HttpUrl = "http://localhost:8000"
    sync_interval_minutes: int = Field(default=15, ge=1, le=1440)
    log_json: bool = False

    xero_client_id: str = ""
    xero_client_secret: SecretStr = SecretStr("")
    xero_redirect_uri: HttpUrl = "http://localhost:8000/auth/xero/callback"
    xero_scopes: str = DEFAULT_XERO_SCOPES
    xero_login_url: HttpUrl = "https://login.xero.com"
    xero_identity_url: HttpUrl = "https://identity.xero.com"
    xero_api_url: HttpUrl = "https://api.xero.com"
    xero_webhook_key: SecretStr = SecretStr("")

    amazon_application_id: str = ""
    amazon_client_id: str = ""
    amazon_client_secret: SecretStr = SecretStr("")
    amazon_redirect_uri: HttpUrl = "http://localhost:8000/amazon/callback"
    amazon_consent_url_us: HttpUrl = "https://www.amazon.com"
    amazon_consent_url_uk: HttpUrl = "https://www.amazon.co.uk"
    amazon_token_url: HttpUrl = "https://api.amazon.com/auth/o2/token"  # noqa: S105
    amazon_api_url_na: HttpUrl = "https://na.business-api.amazon.com"
    amazon_api_url_eu: HttpUrl = "https://eu.business-api.amazon.com"

    # Alerts by email (see alerts/mail.py): smtp://user:pass@host:587?starttls=1, or smtps://
    # for TLS from the first byte. Unset: no email is sent, and the manage page says so.
    smtp_url: SecretStr | None = None
    smtp_from: SenderAddress = "abxero@localhost"

    @field_validator("database_url", "queue_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        allowed = ("sqlite://", "postgresql://", "postgresql+psycopg://", "redis://", "rediss://")
        if not value.startswith(allowed):
            raise ValueError(f"unsupported URL scheme in {value!r}")
        return value

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _smtp_scheme(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text in (None, ""):
            return None
        if not str(text).startswith(("smtp://", "smtps://")):
            raise ValueError("must be an smtp:// or smtps:// URL")
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'abxero.db'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @cached_property
    def resolved_queue_url(self) -> str:
        """The queue URL, defaulting to a SQLite file in the data directory."""
        return self.queue_url or f"sqlite:///{self.data_dir / 'queue.db'}"

    @property
    def smtp_from_address(self) -> str:
        """The bare address of ``smtp_from``, without a display name."""
        return parseaddr(self.smtp_from)[1] or self.smtp_from

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, failing with a message that names the offending variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as problem:
        raise SettingsError(_describe(problem)) from problem


def _describe(problem: ValidationError) -> str:
    lines = []
    for error in problem.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        lines.append(f"{ENV_PREFIX}{field.upper()}: {error['msg']}")
    return "invalid settings:\n  " + "\n  ".join(lines)
