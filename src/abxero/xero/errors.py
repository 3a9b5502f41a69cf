"""Errors named by what the caller should do next."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class XeroError(Exception):
    """Anything that went wrong talking to Xero."""


class RetriableError(XeroError):
    """Try again later (timeouts, 5xx, a minute limit that outlasted our patience).

    ``may_have_applied`` is True when the request might have reached Xero (resend it with the
    same Idempotency-Key, or reconcile).
    """

    def __init__(
        self, message: str, *, may_have_applied: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.may_have_applied = may_have_applied
        self.retry_after = retry_after


class DayLimitError(XeroError):
    """The organisation used up its daily calls; come back at ``retry_at``."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"daily API limit reached; retry at {retry_at.isoformat()}")
        self.retry_at = retry_at


class NeedsReconnectError(XeroError):
    """The connection is gone (invalid_grant, revoked, tenant disconnected): reconnect."""


class ValidationFailedError(XeroError):
    """Xero refused the request's content (400); fix the data, do not retry as is."""

    def __init__(self, message: str, messages: list[str], body: Any = None) -> None:
        super().__init__(message)
        self.messages = messages
        self.body = body


class NotFoundError(XeroError):
    """The resource does not exist in this organisation."""


class RejectedError(XeroError):
    """Any other refusal (a bug on our side); not retriable."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"Xero answered {status}: {body[:500]}")
        self.status = status
        self.body = body


class IdTokenError(XeroError):
    """The id_token failed verification."""
