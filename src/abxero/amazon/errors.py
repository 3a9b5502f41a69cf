"""Errors of the Amazon Business client, named by what the caller should do.

::

    AmazonError
    ├── RetriableError          try again later (429, 5xx, timeouts, dropped connections);
    │                           ``retry_after`` says how long Amazon asked us to wait, if it did
    ├── NeedsReconnectError     the consent is gone or gives no data access: show the user the
    │                           "reconnect Amazon Business" remedy, stop syncing this connection
    ├── FatalError              a request we built is wrong or our credentials are (400,
    │                           invalid_client, a pagination loop): fix the code or settings
    └── SkippableRecordError    this one record (a document, an invoice) is unavailable: note it
                                and carry on with the others

A malformed transaction record is not an exception at all: the transaction iterator yields it
as :class:`abxero.domain.transactions.Quarantined` with its raw JSON.
"""

from __future__ import annotations


class AmazonError(Exception):
    """Base of every error this client raises."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RetriableError(AmazonError):
    """A temporary failure; the same call may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class NeedsReconnectError(AmazonError):
    """The authorization no longer works; the business must consent again."""


class FatalError(AmazonError):
    """The request or the configuration is wrong; retrying will not help."""


class SkippableRecordError(AmazonError):
    """One record cannot be fetched (e.g. no PDF for this invoice); skip it and continue."""
