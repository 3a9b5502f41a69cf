"""The simulator's in-memory world: organisations, their ledgers, the identity records."""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from abxero_sim.clock import Clock
from abxero_sim.xero.ids import IdSource
from abxero_sim.xero.seed import OrgSeed, demo_organisations

Record = dict[str, Any]


@dataclass
class Org:
    """One Xero organisation (tenant) and everything posted to it."""

    key: str
    tenant_id: str
    info: Record
    accounts: list[Record]
    tax_rates: list[Record]
    currencies: list[Record]
    tracking: list[Record]
    contacts: dict[str, Record]
    timezone: str
    invoices: dict[str, Record] = field(default_factory=dict)
    credit_notes: dict[str, Record] = field(default_factory=dict)
    payments: dict[str, Record] = field(default_factory=dict)
    bank_transactions: dict[str, Record] = field(default_factory=dict)
    allocations: list[Record] = field(default_factory=list)
    attachments: dict[str, list[Record]] = field(default_factory=dict)
    history: dict[str, list[Record]] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, seed: OrgSeed, tenant_id: str) -> Org:
        """A fresh organisation built from its seed (deep-copied, so resets start clean)."""
        return cls(
            key=seed.key,
            tenant_id=tenant_id,
            info=copy.deepcopy(seed.organisation),
            accounts=copy.deepcopy(seed.accounts),
            tax_rates=copy.deepcopy(seed.tax_rates),
            currencies=copy.deepcopy(seed.currencies),
            tracking=copy.deepcopy(seed.tracking),
            contacts={c["ContactID"]: copy.deepcopy(c) for c in seed.contacts},
            timezone=seed.iana_timezone,
        )

    @property
    def name(self) -> str:
        return str(self.info["Name"])

    @property
    def base_currency(self) -> str:
        return str(self.info["BaseCurrency"])

    def today(self, now: datetime) -> date:
        """The calendar date in the organisation's timezone."""
        try:
            return now.astimezone(ZoneInfo(self.timezone)).date()
        except ZoneInfoNotFoundError:
            return now.date()

    def account_by_code(self, code: str) -> Record | None:
        return next((a for a in self.accounts if a.get("Code") == code), None)

    def account_by_id(self, account_id: str) -> Record | None:
        wanted = account_id.lower()
        return next((a for a in self.accounts if a["AccountID"].lower() == wanted), None)

    def tax_rate(self, tax_type: str) -> Record | None:
        return next((t for t in self.tax_rates if t["TaxType"] == tax_type), None)

    def system_account(self, name: str) -> Record:
        return next(a for a in self.accounts if a.get("SystemAccount") == name)

    def document(self, document_id: str) -> Record | None:
        """Any posted document (invoice, credit note, bank transaction, payment) by id."""
        key = document_id.lower()
        for store in (self.invoices, self.credit_notes, self.bank_transactions, self.payments):
            if key in store:
                return store[key]
        return None


@dataclass
class AuthCode:
    """An authorization code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    tenant_ids: tuple[str, ...]
    code_challenge: str | None
    nonce: str | None
    issued_at: datetime
    used: bool = False
    user_id: str = ""


@dataclass
class Grant:
    """One user's consent to one app: the family every rotated token belongs to."""

    grant_id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    auth_event_id: str
    revoked: bool = False


@dataclass
class RefreshToken:
    """A refresh token; rotated ones stay usable for the grace window."""

    grant_id: str
    issued_at: datetime
    rotated_at: datetime | None = None


@dataclass
class AccessToken:
    """A bearer token for the Accounting API."""

    grant_id: str
    expires_at: datetime


@dataclass
class Connection:
    """A tenant an app may act on for a user (what ``/connections`` lists)."""

    connection_id: str
    tenant_id: str
    client_id: str
    user_id: str
    auth_event_id: str
    created: datetime
    updated: datetime


RECENT_REQUESTS_KEPT = 2000
"""How many of the latest Accounting API requests ``/_sim/stats`` lists (memory stays flat)."""


@dataclass
class Stats:
    """What the simulator saw, for tests to assert on."""

    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    spec_rejections: list[Record] = field(default_factory=list)
    rate_limited: dict[str, int] = field(default_factory=dict)
    idempotent_replays: int = 0
    tenant_requests: dict[str, int] = field(default_factory=dict)
    ignored_read_only: set[str] = field(default_factory=set)
    recent_requests: deque[Record] = field(
        default_factory=lambda: deque(maxlen=RECENT_REQUESTS_KEPT)
    )

    def note_request(
        self, endpoint: str, path: str, query: list[tuple[str, str]], status: int
    ) -> None:
        """Remember one request's path, query parameters (in order) and status."""
        self.recent_requests.append(
            {
                "endpoint": endpoint,
                "path": path,
                "query": [[name, value] for name, value in query],
                "status": status,
            }
        )

    def count(self, endpoint: str, status: int, tenant_id: str = "") -> None:
        self.requests[endpoint] = self.requests.get(endpoint, 0) + 1
        if tenant_id:
            self.tenant_requests[tenant_id] = self.tenant_requests.get(tenant_id, 0) + 1
        per = self.statuses.setdefault(endpoint, {})
        per[str(status)] = per.get(str(status), 0) + 1

    def as_json(self) -> Record:
        return {
            "requests": dict(self.requests),
            "statuses": copy.deepcopy(self.statuses),
            "spec_rejections": list(self.spec_rejections),
            "spec_validation_failures": len(self.spec_rejections),
            "rate_limited": dict(self.rate_limited),
            "idempotent_replays": self.idempotent_replays,
            "tenant_requests": dict(self.tenant_requests),
            "recent_requests": list(self.recent_requests),
            "ignored_read_only": sorted(self.ignored_read_only),
        }


@dataclass
class World:
    """Everything the simulator remembers, guarded by one lock."""

    seed: int
    clock: Clock
    ids: IdSource
    orgs: dict[str, Org]
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    lock: threading.RLock = field(default_factory=threading.RLock)
    copies: int = 1
    extra_timezones: tuple[str, ...] = ()

    @classmethod
    def fresh(
        cls, seed: int, clock: Clock, copies: int = 1, extra_timezones: tuple[str, ...] = ()
    ) -> World:
        """The seeded organisations: the demo pair ``copies`` times, plus one per extra zone."""
        from abxero_sim.xero.seed import tenant_id_for, zoned_organisations

        orgs = {}
        for org_seed in demo_organisations(seed, copies) + zoned_organisations(
            seed, extra_timezones
        ):
            tenant = tenant_id_for(seed, org_seed.key)
            orgs[tenant] = Org.from_seed(org_seed, tenant)
        return cls(
            seed=seed,
            clock=clock,
            ids=IdSource(seed),
            orgs=orgs,
            copies=copies,
            extra_timezones=extra_timezones,
        )

    def org_by_key_or_id(self, ref: str) -> Org | None:
        if ref in self.orgs:
            return self.orgs[ref]
        return next((o for o in self.orgs.values() if o.key == ref), None)


MONEY = Decimal("0.01")
