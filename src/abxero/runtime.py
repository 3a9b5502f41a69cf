"""Everything a process needs, built once from the settings: database, keys, HTTP, clients.

The web app, the workers, the CLI and the demo all go through a :class:`Runtime`, so each
organisation's clients are wired the same way everywhere: tokens read from and written to the
encrypted token store, refreshes serialised by a database lease, one Xero pacer shared by every
worker (Redis or database).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.amazon import (
    AmazonApi,
    AmazonTokens,
    DocumentClient,
    Endpoints,
    InvoiceClient,
    LwaClient,
    RetryPolicy,
    TokenKeeper,
    endpoints_for,
)
from abxero.settings import Settings
from abxero.store.crypto import TokenCipher
from abxero.store.db import make_engine, session_factory, transaction
from abxero.store.files import prepare_data_files
from abxero.store.models import AmazonConnection, EncryptedTokenSet, XeroConnection, utcnow
from abxero.store.pacing import DatabasePaceBackend
from abxero.store.tokens import read_token_set, save_token_set
from abxero.sync import routing
from abxero.sync.amazon_feed import NO_FEED, AmazonFeedClient
from abxero.sync.attachments import AttachmentLane
from abxero.sync.engine import Engine
from abxero.sync.invoice_details import InvoiceDetailsFetcher
from abxero.sync.leases import new_holder_id, release, try_acquire
from abxero.sync.xero_books import XeroBooksClient
from abxero.xero import (
    Pacing,
    SharedPacer,
    TokenManager,
    XeroAccounting,
    XeroAuth,
    XeroTokens,
    connect_accounting,
)
from abxero.xero.redis_pacing import RedisPaceBackend

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
REFRESH_LEASE = timedelta(seconds=60)
LANE_MAX_SLEEP = 5.0
"""The longest the PDF lane sleeps in a worker thread for Amazon's rate limit."""


class NotConnected(LookupError):
    """The organisation has no usable grant on one side."""


class Runtime:
    """The process-wide parts, and factories for one organisation's clients and engine."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.Client | None = None,
        now: Callable[[], datetime] = utcnow,
        pacer: Pacing | None = None,
    ) -> None:
        self.settings = settings
        self.now = now
        prepare_data_files(
            settings.data_dir, settings.resolved_database_url, settings.resolved_queue_url
        )
        self.db: SqlEngine = make_engine(settings.resolved_database_url)
        self.sessions: sessionmaker[Session] = session_factory(self.db)
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.cipher = TokenCipher.from_secret(secret, settings.key_file)
        self.http = http or httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)
        self.pacer: Pacing = pacer or self._shared_pacer()
        self.holder = new_holder_id()

    def _shared_pacer(self) -> SharedPacer:
        """Xero's limits counted for every worker: in Redis when the queue is Redis, else in
        the database (see :mod:`abxero.xero.shared_pacing`)."""
        queue_url = self.settings.resolved_queue_url
        if queue_url.startswith(("redis://", "rediss://")):
            return SharedPacer(RedisPaceBackend.from_url(queue_url))
        return SharedPacer(DatabasePaceBackend(self.sessions))

    def close(self) -> None:
        self.http.close()
        self.db.dispose()

    # -- Xero ------------------------------------------------------------------------------

    def xero_auth(self) -> XeroAuth:
        settings = self.settings
        return XeroAuth(
            self.http,
            settings.xero_client_id,
            settings.xero_client_secret.get_secret_value() or None,
            settings.xero_redirect_uri,
            login_url=settings.xero_login_url,
            identity_url=settings.xero_identity_url,
            api_url=settings.xero_api_url,
            now=self.now,
        )

    def xero_tokens(self, token_set_id: int) -> TokenManager:
        """Fresh access tokens of one Xero grant; a refresh is written before it is used."""

        def load() -> XeroTokens:
            with self.sessions() as session:
                data = read_token_set(self.cipher, session.get_one(EncryptedTokenSet, token_set_id))
            return xero_tokens_from(data)

        def save(tokens: XeroTokens) -> None:
            with transaction(self.sessions) as session:
                row = session.get_one(EncryptedTokenSet, token_set_id)
                save_token_set(
                    session,
                    self.cipher,
                    "xero",
                    xero_tokens_as_dict(tokens),
                    tokens.expires_at,
                    row,
                    issued_at=self.now(),
                )

        return TokenManager(
            self.xero_auth(),
            load,
            save,
            lock=lambda: self.serialised(f"refresh:{token_set_id}"),
            now=self.now,
        )

    def xero_api(self, connection_id: int) -> XeroAccounting:
        with self.sessions() as session:
            connection = session.get_one(XeroConnection, connection_id)
        if connection.token_set_id is None:
            raise NotConnected("xero")
        return connect_accounting(
            self.http,
            connection.tenant_id,
            self.xero_tokens(connection.token_set_id),
            api_url=self.settings.xero_api_url,
            pacer=self.pacer,
        )

    # -- Amazon ----------------------------------------------------------------------------

    def amazon_endpoints(self, region: str) -> Endpoints:
        settings = self.settings
        store = settings.amazon_consent_url_us if region == "US" else settings.amazon_consent_url_uk
        api = settings.amazon_api_url_na if region == "US" else settings.amazon_api_url_eu
        return endpoints_for(
            region, store_url=store, api_url=api, token_url=settings.amazon_token_url
        )

    def lwa(self, region: str) -> LwaClient:
        return LwaClient(
            self.http,
            client_id=self.settings.amazon_client_id,
            client_secret=self.settings.amazon_client_secret.get_secret_value(),
            token_url=self.amazon_endpoints(region).token_url,
            now=self.now,
        )

    def amazon_pairing(self, connection_id: int) -> AmazonConnection:
        """The Amazon Business pairing that feeds the organisation: its own, else that of the
        organisation whose feed routes legal entities to it (``sync/routing.py``)."""
        with self.sessions() as session:
            amazon = session.scalars(
                select(AmazonConnection).where(AmazonConnection.xero_connection_id == connection_id)
            ).first()
            home = routing.home_of(session, connection_id) if amazon is None else None
            if home is not None:
                amazon = session.scalars(
                    select(AmazonConnection).where(AmazonConnection.xero_connection_id == home)
                ).first()
            if amazon is None or amazon.token_set_id is None:
                raise NotConnected("amazon")
            session.expunge(amazon)
            return amazon

    def fetches_own_feed(self, connection_id: int) -> bool:
        """Whether the organisation reads an Amazon feed itself (it has its own pairing)."""
        with self.sessions() as session:
            return (
                session.scalars(
                    select(AmazonConnection.id).where(
                        AmazonConnection.xero_connection_id == connection_id
                    )
                ).first()
                is not None
            )

    def amazon_api(self, connection_id: int) -> AmazonApi:
        """Amazon's API with the grant feeding the organisation. Every keeper of a grant
        refreshes under one lease and reads the stored tokens first, so organisations sharing
        an account never refresh twice with the same refresh token."""
        amazon = self.amazon_pairing(connection_id)
        token_set_id, region = amazon.token_set_id, amazon.region
        assert token_set_id is not None

        def load() -> AmazonTokens:
            with self.sessions() as session:
                stored = read_token_set(
                    self.cipher, session.get_one(EncryptedTokenSet, token_set_id)
                )
            return AmazonTokens.from_dict(stored)

        def save(tokens: AmazonTokens) -> None:
            with transaction(self.sessions) as session:
                row = session.get_one(EncryptedTokenSet, token_set_id)
                save_token_set(
                    session,
                    self.cipher,
                    "amazon",
                    tokens.as_dict(),
                    tokens.expires_at,
                    row,
                    issued_at=self.now(),
                )

        keeper = TokenKeeper(
            self.lwa(region),
            load(),
            on_refresh=save,
            now=self.now,
            lock=lambda: self.serialised(f"refresh:{token_set_id}"),
            reload=load,
        )
        return AmazonApi(self.http, self.amazon_endpoints(region).api_url, keeper)

    def attachment_lane(self, connection_id: int, poll_seconds: float = 5.0) -> AttachmentLane:
        """The PDF-attaching lane of one organisation."""
        amazon = self.amazon_pairing(connection_id)
        region, marketplace = amazon.region, amazon.marketplace_id
        return AttachmentLane(
            self.sessions,
            connection_id,
            region,
            marketplace,
            DocumentClient(self._paced_lane_api(connection_id)),
            self.xero_api(connection_id),
            holder=self.work_holder(),
            now=self.now,
            poll_seconds=poll_seconds,
        )

    def _paced_lane_api(self, connection_id: int) -> AmazonApi:
        """Amazon for the PDF lane: a rate-limit wait longer than a few seconds is not slept in
        the worker thread; it ends the run, whose task comes back when Amazon asked."""
        api = self.amazon_api(connection_id)
        api.retry = RetryPolicy(attempts=api.retry.attempts, max_delay=LANE_MAX_SLEEP)
        return api

    # -- the engine ----------------------------------------------------------------------------

    def engine_for(self, connection_id: int, **options: object) -> Engine:
        """The sync engine of one organisation, wired to both sides."""
        if not self.fetches_own_feed(connection_id):
            return self._fed_engine(connection_id, **options)
        amazon = self.amazon_api(connection_id)
        return Engine(
            self.sessions,
            connection_id,
            AmazonFeedClient(amazon),
            XeroBooksClient(self.xero_api(connection_id)),
            now=self.now,
            holder=self.work_holder(),
            details=self.invoice_details(connection_id, amazon),
            **options,  # type: ignore[arg-type]
        )

    def _fed_engine(self, connection_id: int, **options: object) -> Engine:
        """An organisation fed by another's feed through legal-entity routing: it reads no
        feed; invoice details come with the feeding grant, and what is stored still posts
        when that grant is gone."""
        try:
            amazon: AmazonApi | None = self.amazon_api(connection_id)
        except NotConnected:
            amazon = None
        return Engine(
            self.sessions,
            connection_id,
            NO_FEED,
            XeroBooksClient(self.xero_api(connection_id)),
            now=self.now,
            holder=self.work_holder(),
            details=self.invoice_details(connection_id, amazon) if amazon else None,
            **options,  # type: ignore[arg-type]
        )

    def invoice_details(self, connection_id: int, api: AmazonApi) -> InvoiceDetailsFetcher:
        """Invoice numbers, consolidated invoices and due dates of one organisation."""
        region = self.amazon_pairing(connection_id).region
        return InvoiceDetailsFetcher(
            self.sessions, connection_id, region, InvoiceClient(api), now=self.now
        )

    def work_holder(self) -> str:
        """A lease holder name of its own for one piece of work: two threads of this process
        running syncs are two holders, so the lease keeps them apart too."""
        return f"{self.holder}/{uuid.uuid4().hex[:8]}"

    @contextmanager
    def serialised(self, name: str, wait_seconds: float = 30.0) -> Iterator[None]:
        """Hold the lease ``name`` for the block, waiting for another holder to finish."""
        deadline = time.monotonic() + wait_seconds
        holder = self.work_holder()  # its own name, so two threads of this process wait too
        while not try_acquire(self.sessions, name, holder, REFRESH_LEASE, self.now):
            if time.monotonic() > deadline:
                raise TimeoutError(f"lease {name} stayed busy")
            time.sleep(0.1)
        try:
            yield
        finally:
            release(self.sessions, name, holder)


def xero_tokens_as_dict(tokens: XeroTokens) -> dict[str, object]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at.isoformat(),
        "scope": list(tokens.scope),
        "id_token": tokens.id_token,
        "token_type": tokens.token_type,
    }


def xero_tokens_from(data: dict[str, object]) -> XeroTokens:
    return XeroTokens(
        access_token=str(data["access_token"]),
        refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
        expires_at=datetime.fromisoformat(str(data["expires_at"])),
        scope=tuple(str(item) for item in data.get("scope") or ()),  # type: ignore[attr-defined]
        id_token=str(data["id_token"]) if data.get("id_token") else None,
        token_type=str(data.get("token_type") or "Bearer"),
    )
