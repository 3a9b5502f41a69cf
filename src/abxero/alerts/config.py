"""Who hears about an organisation's alerts: checked recipients, webhook URL and its secret."""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from abxero.store.crypto import TokenCipher
from abxero.store.models import AlertSettings

MAX_RECIPIENTS = 20
MAX_URL_LENGTH = 2000
DEFAULT_STALE_HOURS = 6
MAX_STALE_HOURS = 24 * 14
# Deliberately plain: one @, no spaces or angle brackets, a dotted domain. It refuses what
# would let a value add headers or extra recipients; the mail server judges the rest.
_ADDRESS = re.compile(r"^[^@\s<>,;\"()\[\]\\]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SEPARATORS = re.compile(r"[\s,;]+")
LOOPBACK_NAMES = frozenset({"localhost"})


class ConfigInvalid(ValueError):
    """A recipient, the webhook URL or the hours are not acceptable; the message says which."""


@dataclass(frozen=True)
class AlertConfig:
    recipients: tuple[str, ...]
    webhook_url: str
    webhook_secret: str
    stale_hours: int


def parse_recipients(text: str) -> tuple[str, ...]:
    """The addresses in ``text`` (separated by commas, semicolons or white space), checked."""
    found: list[str] = []
    for item in _SEPARATORS.split(text.strip()):
        if not item:
            continue
        if len(item) > 254 or not _ADDRESS.match(item):
            raise ConfigInvalid(f"{item[:80]!r} is not an email address.")
        if item.lower() not in (seen.lower() for seen in found):
            found.append(item)
    if len(found) > MAX_RECIPIENTS:
        raise ConfigInvalid(f"At most {MAX_RECIPIENTS} recipients.")
    return tuple(found)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str) -> str:
    """An https URL (http only to this machine's loopback, for tests and the demo), or ""."""
    url = url.strip()
    if not url:
        return ""
    if len(url) > MAX_URL_LENGTH:
        raise ConfigInvalid("The webhook URL is too long.")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or parts.username or parts.password:
        raise ConfigInvalid("The webhook URL needs a host and no user name or password.")
    if _is_internal_address(host):
        raise ConfigInvalid("The webhook URL may not point at a private or link-local address.")
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return url
    raise ConfigInvalid("The webhook URL must start with https://.")


def _is_internal_address(host: str) -> bool:
    """An IP literal in a private, link-local, multicast or unspecified range (loopback is
    allowed: tests and the demo receive there). Names are not resolved here."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_loopback:
        return False
    return (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
    )


def check_stale_hours(value: str) -> int:
    try:
        hours = int(value.strip() or DEFAULT_STALE_HOURS)
    except ValueError:
        raise ConfigInvalid("Hours without a successful sync must be a whole number.") from None
    if not 1 <= hours <= MAX_STALE_HOURS:
        raise ConfigInvalid(f"Hours without a successful sync must be 1 to {MAX_STALE_HOURS}.")
    return hours


def load(session: Session, cipher: TokenCipher, connection_id: int) -> AlertConfig:
    row = session.get(AlertSettings, connection_id)
    if row is None:
        return AlertConfig((), "", "", DEFAULT_STALE_HOURS)
    secret = str(cipher.decrypt(row.webhook_secret)["secret"]) if row.webhook_secret else ""
    return AlertConfig(tuple(row.recipients), row.webhook_url, secret, row.stale_hours)


def save(
    session: Session,
    cipher: TokenCipher,
    connection_id: int,
    *,
    recipients: tuple[str, ...],
    webhook_url: str,
    stale_hours: int,
) -> AlertConfig:
    """Store the settings; a webhook gets a signing secret the first time one is set."""
    row = session.get(AlertSettings, connection_id)
    if row is None:
        row = AlertSettings(xero_connection_id=connection_id, recipients=[], webhook_url="")
        session.add(row)
    row.recipients = list(recipients)
    row.webhook_url = webhook_url
    row.stale_hours = stale_hours
    if webhook_url and row.webhook_secret is None:
        row.webhook_secret = cipher.encrypt({"secret": secrets.token_urlsafe(32)})
    session.flush()
    return load(session, cipher, connection_id)
