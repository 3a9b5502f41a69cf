"""Alert email over SMTP: the URL setting, the message (text and HTML) and sending it.

``ABXERO_SMTP_URL`` is ``smtp://user:password@host:port?starttls=1`` (plain SMTP upgraded with
STARTTLS, RFC 3207; port 587 by default) or ``smtps://…`` (TLS from the first byte, port 465).
STARTTLS is on unless the URL says ``starttls=0`` (a relay on the same machine); a server that
does not offer it then fails the delivery rather than receive a password in clear.
The certificate is checked against the system's trust store (``SSL_CERT_FILE`` points
elsewhere). The Message-ID is the delivery's idempotency key, so a message resent after a
crash carries the same id as the first and a mailbox can tell them apart.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 30.0
TRUE = {"1", "true", "yes", "on"}


class SmtpError(RuntimeError):
    """The mail server could not be reached or refused the message."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    implicit_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    implicit = parts.scheme == "smtps"
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    return SmtpTarget(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if implicit else 587),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=not implicit and options.get("starttls", "1") in TRUE,
        implicit_tls=implicit,
    )


def build_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    sent_at: datetime,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(target: SmtpTarget, message: EmailMessage, recipients: list[str]) -> None:
    """Hand the message to the server; raises :class:`SmtpError` with the server's answer."""
    context = ssl.create_default_context()
    try:
        if target.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
        with client:
            if target.starttls:
                client.starttls(context=context)
            if target.username:
                client.login(target.username, target.password)
            client.send_message(message, to_addrs=recipients)
    except (smtplib.SMTPException, OSError) as problem:
        raise SmtpError(f"{type(problem).__name__}: {problem}") from problem
