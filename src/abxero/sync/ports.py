"""What the engine needs from each outside system, independent of the HTTP clients.

``sync/adapters.py`` implements these over ``abxero.amazon`` and ``abxero.xero``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from abxero.domain.plan import Endpoint
from abxero.sync.batches import ElementOutcome, OutgoingBatch
from abxero.sync.ledger import Fetched
from abxero.xero.models import OrganisationFacts


@dataclass(frozen=True)
class FeedPage:
    """One page of ``getTransactions``: parsed records and the token of the next page."""

    records: list[Fetched]
    next_token: str | None


class AmazonFeed(Protocol):
    def pages(self, start: datetime, end: datetime, page_token: str | None) -> Iterator[FeedPage]:
        """The pages of the feed-date window ``[start, end)``, resuming at ``page_token``."""
        ...


@dataclass(frozen=True)
class ContactState:
    """The Amazon Business supplier contact as Xero has it now."""

    contact_id: str
    archived: bool
    name: str


class XeroBooks(Protocol):
    def organisation_facts(self) -> OrganisationFacts:
        """Organisation, accounts, tax rates, currencies and tracking, read fresh, as Xero's
        client parsed them (``xero_books.org_context`` builds the context; the run may keep
        them in ``context_reads``)."""
        ...

    def ensure_contact(
        self, contact_id: str | None, name: str, key_suffix: str = ""
    ) -> ContactState:
        """The stored contact if it still exists (whatever it is called now), else one of that
        name, else a new one (its Idempotency-Key ends in ``key_suffix``)."""
        ...

    def archived_contacts(self, contact_ids: Sequence[str]) -> set[str]:
        """Which of ``contact_ids`` are archived in Xero (one request per 50)."""
        ...

    def send(self, batch: OutgoingBatch) -> list[ElementOutcome]:
        """Send the stored body with its key; one outcome per element, in order."""
        ...

    def find(self, endpoint: Endpoint, payload: Mapping[str, Any]) -> str | None:
        """The Xero id of a document like ``payload`` if Xero already has it."""
        ...

    def find_many(
        self, endpoint: Endpoint, payloads: Sequence[Mapping[str, Any]]
    ) -> list[str | None]:
        """``find`` for each of ``payloads`` (one batch), in bulk where Xero allows it."""
        ...


class SideError(RuntimeError):
    """A failure of one outside system, typed by what the engine should do about it."""

    def __init__(self, side: str, message: str) -> None:
        super().__init__(f"{side}: {message}")
        self.side = side
        self.message = message


class NeedsReconnect(SideError):
    """The grant is gone (revoked, expired, organisation disconnected): a person must act."""


class TryLater(SideError):
    """A passing failure (5xx, timeout, minute limit): the next sync tries again."""


class ComeBackAt(SideError):
    """Xero's day limit: nothing more can be sent to this organisation before ``when``."""

    def __init__(self, side: str, message: str, when: datetime) -> None:
        super().__init__(side, message)
        self.when = when
