"""Everything the Amazon simulator remembers: consents, codes, tokens, reports, faults."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from abxero_sim.amazon.businesses import DEFAULT_BUSINESSES, Business, Region, scaled
from abxero_sim.amazon.generator import FeedGenerator
from abxero_sim.amazon.shapes import Shapes
from abxero_sim.clock import Clock, SimClock, SystemClock

DEFAULT_APPLICATION_ID = "amzn1.sp.solution.7a3e5c1d-0b9f-4c2e-9d41-5a6b7c8d9e0f"
DEFAULT_CLIENT_ID = "amzn1.application-oa2-client.abxerosimulator0000000001"
DEFAULT_CLIENT_SECRET = "abxero-simulator-client-secret"  # noqa: S105 - a public test value
DEFAULT_REDIRECT_URIS = (
    "http://127.0.0.1/amazon/callback",
    "http://localhost/amazon/callback",
)
ACCESS_TOKEN_SECONDS = 3600
CODE_SECONDS = 300
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class AppRegistration:
    """The one solution registered with the simulated Solution Provider Portal.

    A registered loopback redirect URI (127.0.0.1 / localhost) matches on any port, because test
    servers listen on free ports; everything else must match exactly.
    """

    application_id: str = DEFAULT_APPLICATION_ID
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS

    def allows_redirect(self, uri: str) -> bool:
        return any(_same_redirect(registered, uri) for registered in self.redirect_uris)


def _same_redirect(registered: str, uri: str) -> bool:
    if registered == uri:
        return True
    want, got = urlsplit(registered), urlsplit(uri)
    return (
        want.hostname in LOOPBACK_HOSTS
        and want.port is None
        and (want.scheme, want.hostname, want.path, want.query)
        == (got.scheme, got.hostname, got.path, got.query)
    )


@dataclass
class Consent:
    business_id: str
    refresh_token: str
    revoked: bool = False
    replaced: bool = False  # rotated away by a refresh (``rotate_refresh_tokens``)


@dataclass
class AuthCode:
    business_id: str
    redirect_uri: str
    expires_at: datetime
    used: bool = False


@dataclass
class AccessGrant:
    business_id: str
    refresh_token: str
    expires_at: datetime


@dataclass
class Report:
    """A Document API report request and how it will end."""

    report_id: str
    business_id: str
    created: datetime
    options: dict[str, str]
    marketplace_ids: list[str]
    outcome: str
    invoice_number: str = ""
    cancelled: bool = False

    @property
    def document_id(self) -> str:
        return f"amzn1.tortuga.4.{self.report_id.lower()}"


@dataclass
class Faults:
    """Fault knobs; ``queue`` entries are consumed one per API request, in order.

    Queue entries: ``"429"``, ``"500"``, ``"503"``, ``"504"`` (that status with an ErrorList),
    ``"slow"`` (answer after ``slow_seconds``), ``"drop"`` (produce the response, then drop the
    connection), ``"expired"`` (403 as for an expired access token). ``token_queue`` does the
    same for the LWA token endpoint (``"429"``, ``"500"``, ``"503"``). ``"400"``, ``"404"``,
    ``"413"`` and ``"415"`` answer that status with an ErrorList (a permanent refusal).

    Amazon-intake knobs:

    * ``page_token_seconds`` - a ``nextPageToken`` older than this many seconds of the sim clock
      is refused with 400 (0: tokens never expire);
    * ``page_token_form`` - ``"either"`` accepts a token alone or with its window,
      ``"token_only"`` answers 400 when the window comes with the token, ``"with_window"``
      answers 400 when it does not;
    * ``rate_limit_header`` - False leaves ``x-amzn-RateLimit-Limit`` off 429 answers;
    * ``document_packaging`` - ``"pdf"``, ``"gzip"``, ``"zip"`` or ``"gzip_zip"``: how the
      pre-signed download is wrapped; ``document_member_name`` names the PDF inside a ZIP
      (after a non-PDF ``manifest.xml`` member);
    * ``strict_invoice_lookup`` - 400 for an order line item or invoice id Amazon does not
      know, instead of an empty / ERROR result;
    * ``payment_details`` - False answers SUCCESS without ``paymentDetails`` (as the sandbox
      sample does); ``payment_terms_days`` sets the Pay-by-Invoice due date;
    * ``pbi_invoice_numbers`` - False serves US Pay-by-Invoice charges without
      ``invoiceNumber`` (NA needs getInvoiceDetailsByOrderLineItems for it);
    * ``rotate_refresh_tokens`` - True answers each refresh with a new refresh token and
      revokes the one used (LWA's refresh answer carries a ``refresh_token``; the SDKs keep
      whatever it returns, docs/amazon-business-api.md §2.3, so both behaviours are allowed).
    """

    queue: list[str] = field(default_factory=list)
    slow_seconds: float = 2.0
    malformed_every: int = 0
    malformed_kinds: list[str] = field(
        default_factory=lambda: ["wrong_type", "missing_field", "bad_total", "unknown_currency"]
    )
    rate_limits: bool = True
    page_size: int = 100
    report_seconds: float = 5.0
    report_outcomes: list[str] = field(default_factory=list)
    token_queue: list[str] = field(default_factory=list)
    # Amazon-intake knobs (see reconciliation.py, documents.py and wire.py for the sources).
    page_token_seconds: float = 0.0
    page_token_form: str = "either"  # noqa: S105 - a mode name, not a secret
    rate_limit_header: bool = True
    document_packaging: str = "pdf"
    document_member_name: str = "invoice.pdf"
    strict_invoice_lookup: bool = False
    payment_details: bool = True
    payment_terms_days: int = 30
    pbi_invoice_numbers: bool = True
    rotate_refresh_tokens: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": list(self.queue),
            "slow_seconds": self.slow_seconds,
            "malformed_every": self.malformed_every,
            "malformed_kinds": list(self.malformed_kinds),
            "rate_limits": self.rate_limits,
            "page_size": self.page_size,
            "report_seconds": self.report_seconds,
            "report_outcomes": list(self.report_outcomes),
            "token_queue": list(self.token_queue),
            "page_token_seconds": self.page_token_seconds,
            "page_token_form": self.page_token_form,
            "rate_limit_header": self.rate_limit_header,
            "document_packaging": self.document_packaging,
            "document_member_name": self.document_member_name,
            "strict_invoice_lookup": self.strict_invoice_lookup,
            "payment_details": self.payment_details,
            "payment_terms_days": self.payment_terms_days,
            "pbi_invoice_numbers": self.pbi_invoice_numbers,
            "rotate_refresh_tokens": self.rotate_refresh_tokens,
        }


class TokenBucket:
    """Amazon's per-operation rate plan: ``rate`` requests a second, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class SimulatorState:
    """The whole mutable world of the simulator, rebuilt from a seed by ``reset``."""

    def __init__(
        self,
        seed: int = 0,
        *,
        clock: Clock | None = None,
        businesses: tuple[Business, ...] = DEFAULT_BUSINESSES,
        registration: AppRegistration | None = None,
        orders_per_day: float | None = None,
        shapes: Shapes | None = None,
    ) -> None:
        self.clock = SimClock(clock or SystemClock())
        self.initial_shapes = shapes or Shapes()
        self.businesses = {b.business_id: b for b in scaled(businesses, orders_per_day)}
        self.registration = registration or AppRegistration()
        self.anchor = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Forget consents, tokens, reports, faults and added records; regenerate from the seed.

        The record shapes go back to the ones the state was created with.
        """
        if seed is not None:
            self.seed = seed
        self.rng = random.Random(f"state/{self.seed}")
        self.shapes = Shapes(**self.initial_shapes.as_json())
        self.generators = {
            business_id: FeedGenerator(
                business,
                self.seed,
                self.anchor - timedelta(days=business.history_days),
                self.shapes,
            )
            for business_id, business in self.businesses.items()
        }
        self.added: dict[str, list[tuple[datetime, Any]]] = {key: [] for key in self.businesses}
        self.consents: dict[str, Consent] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, AccessGrant] = {}
        self.reports: dict[str, Report] = {}
        self.faults = Faults()
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self.requests: Counter[str] = Counter()

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def token_text(self, prefix: str, length: int = 48) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(length))

    def request_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def businesses_in(self, region: Region | None) -> list[Business]:
        return [b for b in self.businesses.values() if region is None or b.region is region]

    def consent(self, business_id: str) -> Consent:
        """A fresh consent (a new refresh token) for a business, as Allow on the page makes."""
        consent = Consent(business_id, self.token_text("Atzr|"))
        self.consents[consent.refresh_token] = consent
        return consent

    def issue_code(self, business_id: str, redirect_uri: str) -> str:
        code = self.token_text("ANsim", 20)
        self.codes[code] = AuthCode(
            business_id, redirect_uri, self.now() + timedelta(seconds=CODE_SECONDS)
        )
        return code

    def issue_access(self, consent: Consent) -> tuple[str, AccessGrant]:
        token = self.token_text("Atza|")
        grant = AccessGrant(
            consent.business_id,
            consent.refresh_token,
            self.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
        self.grants[token] = grant
        return token, grant

    def revoke(self, business_id: str) -> int:
        revoked = 0
        for consent in self.consents.values():
            if consent.business_id == business_id and not consent.revoked:
                consent.revoked = True
                revoked += 1
        return revoked

    def expire_tokens(self) -> None:
        for grant in self.grants.values():
            grant.expires_at = min(grant.expires_at, self.now() - timedelta(seconds=1))

    def allow(self, business_id: str, operation: str, rate: float, burst: int) -> bool:
        if not self.faults.rate_limits:
            return True
        key = (business_id, operation)
        now = self.clock.monotonic()
        bucket = self.buckets.setdefault(key, TokenBucket(rate, burst, now))
        return bucket.take(now)
