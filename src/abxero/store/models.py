"""The tables of abxero's ledger (design §3) as SQLAlchemy 2 declarative models.

Money columns are ``Numeric(18, 2)`` so both SQLite and PostgreSQL give back ``Decimal``.
JSON bodies are kept as text: what we store is exactly what we sent or received.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from abxero.domain.lifecycles import (
    AlertStatus,
    BatchStatus,
    ConnectionStatus,
    DeliveryStatus,
    DocumentStatus,
    InvoiceDetailStatus,
    RollbackActionStatus,
    RollbackStatus,
    RunStatus,
    SetupStep,
    SourceStatus,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Numeric(18, 2, asdecimal=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person, identified by their Xero user id (Sign in with Xero)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EncryptedTokenSet(Base):
    """OAuth tokens of one grant, encrypted as a whole (never stored in plain text).

    Decrypted, Xero's are a ``XeroTokens`` and Amazon's an ``AmazonTokens``.
    """

    __tablename__ = "token_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    # When the provider last issued these tokens (a grant or a refresh). Xero ends a refresh
    # token unused for 60 days; re-encrypting the row (rotate-keys) moves ``updated_at`` only.
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class XeroConnection(Base):
    """A Xero organisation (tenant); the ledger of its Amazon Business postings hangs off it."""

    __tablename__ = "xero_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_name: Mapped[str] = mapped_column(String(200), default="")
    xero_connection_uid: Mapped[str] = mapped_column(String(64), default="")
    short_code: Mapped[str] = mapped_column(String(32), default="")
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_set_id: Mapped[int | None] = mapped_column(ForeignKey("token_sets.id"), nullable=True)
    contact_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(32), default=ConnectionStatus.CONNECTED)
    setup_step: Mapped[str] = mapped_column(String(32), default=SetupStep.AMAZON)
    sync_interval_minutes: Mapped[int] = mapped_column(Integer, default=15)
    parked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserTenant(Base):
    """Which organisations a user may see: exactly those Xero said they can access."""

    __tablename__ = "user_tenants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(
        ForeignKey("xero_connections.id"), primary_key=True
    )


class AmazonConnection(Base):
    """The Amazon Business account paired with one Xero organisation."""

    __tablename__ = "amazon_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"), unique=True)
    region: Mapped[str] = mapped_column(String(2))
    marketplace_id: Mapped[str] = mapped_column(String(32))
    business_id: Mapped[str] = mapped_column(String(128), unique=True)
    business_name: Mapped[str] = mapped_column(String(200), default="")
    token_set_id: Mapped[int | None] = mapped_column(ForeignKey("token_sets.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default=ConnectionStatus.CONNECTED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MappingVersion(Base):
    """One saved version of a connection's mapping; the highest version is in force."""

    __tablename__ = "mappings"
    __table_args__ = (UniqueConstraint("xero_connection_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SellerContact(Base):
    """The Xero contact of one seller (``merchantLegalName``) when the mapping posts one contact
    per seller: created once, then known by ContactID, so a rename in Xero changes nothing."""

    __tablename__ = "seller_contacts"
    __table_args__ = (UniqueConstraint("xero_connection_id", "seller_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    seller_key: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(255))
    contact_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SourceTransaction(Base):
    """Every Amazon transaction ever fetched, with its raw JSON and content hash."""

    __tablename__ = "source_transactions"
    __table_args__ = (
        UniqueConstraint("xero_connection_id", "transaction_id"),
        Index("ix_source_status", "xero_connection_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    transaction_id: Mapped[str] = mapped_column(String(128))
    raw: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    feed_date: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    transaction_date: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    instrument_key: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3), default="")
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=SourceStatus.NEW)
    reason_code: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    remedy: Mapped[str] = mapped_column(Text, default="")
    order_ids: Mapped[str] = mapped_column(Text, default="")
    needs_review: Mapped[bool] = mapped_column(default=False)
    planned_hash: Mapped[str] = mapped_column(String(64), default="")
    # Legal-entity routing (sync/routing.py): the record's ``legalEntityName``, and in the
    # fetching organisation's ledger the organisation that posts it when that is another one.
    legal_entity: Mapped[str] = mapped_column(String(200), default="", server_default="")
    routed_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OutboxDocument(Base):
    """A planned Xero document, keyed by (connection, transaction, role); posted once."""

    __tablename__ = "outbox_documents"
    __table_args__ = (
        UniqueConstraint("xero_connection_id", "transaction_id", "role"),
        UniqueConstraint("xero_connection_id", "doc_key"),
        Index("ix_outbox_status", "xero_connection_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    transaction_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    doc_key: Mapped[str] = mapped_column(String(160))
    endpoint: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    links: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    depends_on: Mapped[list[str]] = mapped_column(JSON, default=list)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.PLANNED)
    xero_id: Mapped[str] = mapped_column(String(64), default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    attachment: Mapped[str] = mapped_column(String(16), default="")
    attachment_error: Mapped[str] = mapped_column(Text, default="")
    # Amazon refused the PDF (``attachment`` = ``unavailable``) first at ``attachment_refused_at``;
    # it is asked again at ``attachment_next_ask_at``; NULL there means it is asked no more.
    attachment_refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attachment_next_ask_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    summary: Mapped[str] = mapped_column(String(16), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Batch(Base):
    """A request (path, query, body) stored before it is sent, with its Idempotency-Key."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    endpoint: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    query: Mapped[str] = mapped_column(
        String(200), default="summarizeErrors=false", server_default="summarizeErrors=false"
    )
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.SENDING)
    doc_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    path: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Bookmark(Base):
    """Where a connection's Amazon feed has been read up to, and a page token to resume."""

    __tablename__ = "bookmarks"

    xero_connection_id: Mapped[int] = mapped_column(
        ForeignKey("xero_connections.id"), primary_key=True
    )
    feed_cursor: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    window_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    page_token: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Lease(Base):
    """An expiring claim on a named piece of work (one sync or token refresh at a time)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SyncRun(Base):
    """One sync or import of a connection, with what it counted."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING)
    range_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    range_end: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Event(Base):
    """Something a user should know: an error with its remedy, a hold, a finished import."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_recent", "xero_connection_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("xero_connections.id"), nullable=True
    )
    level: Mapped[str] = mapped_column(String(8), default="info")
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    remedy: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InvoiceDetail(Base):
    """What Amazon's invoice and payment details say about one transaction, kept apart from
    its raw JSON (which stays as fetched): the invoice number when the record has none, the
    consolidated invoice (UK), the Pay-by-Invoice due date, or why they could not be read."""

    __tablename__ = "invoice_details"
    __table_args__ = (UniqueConstraint("xero_connection_id", "transaction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    transaction_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=InvoiceDetailStatus.PENDING)
    invoice_number: Mapped[str] = mapped_column(Text, default="")
    consolidated_number: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    payment_status: Mapped[str] = mapped_column(String(32), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class WebSession(Base):
    """A signed-in (or signing-in) browser; the cookie holds only a random id, hashed here.

    Ending a session deletes its row, so a copied cookie stops working at once. ``expires_at``
    is the absolute end; ``last_seen_at`` measures the idle limit.
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """A webhook event already handled, by its identity; a replay of it is refused."""

    __tablename__ = "webhook_deliveries"

    event_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class AmazonAccountKey(Base):
    """One identifier Amazon ties to a paired account (a legal entity, a buyer or payer id).

    Each key belongs to at most one pairing, so an account is recognised by any of them.
    """

    __tablename__ = "amazon_account_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    amazon_connection_id: Mapped[int] = mapped_column(
        ForeignKey("amazon_connections.id", ondelete="CASCADE"), index=True
    )


class ReconciliationResult(Base):
    """One reconciliation check of a period: Σ Amazon against Σ Xero per instrument, and every
    difference. ``body`` is the result as exact-decimal JSON; the newest row is shown."""

    __tablename__ = "reconciliations"
    __table_args__ = (Index("ix_reconciliations_recent", "xero_connection_id", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    differences: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text, default="{}")
    error: Mapped[str] = mapped_column(Text, default="")
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertSettings(Base):
    """Who hears about an organisation's problems: email recipients and an optional webhook.

    The webhook signing secret is encrypted like the tokens (``store/crypto.py``)."""

    __tablename__ = "alert_settings"

    xero_connection_id: Mapped[int] = mapped_column(
        ForeignKey("xero_connections.id"), primary_key=True
    )
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    webhook_url: Mapped[str] = mapped_column(Text, default="")
    webhook_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    stale_hours: Mapped[int] = mapped_column(Integer, default=6)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Alert(Base):
    """One occurrence of a condition (``kind``, ``key``): open until the condition clears.

    At most one open occurrence per (organisation, kind, key)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "uq_alerts_open",
            "xero_connection_id",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN)
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(Text, default="")
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AlertDelivery(Base):
    """One message about an alert (raised or resolved) on one channel, recorded before it is
    sent; ``idempotency_key`` is its Message-ID and webhook delivery id."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "phase", "channel"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    phase: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class EntityRoute(Base):
    """Which organisation posts the transactions of one legal entity of an Amazon account.

    ``home_connection_id`` is the organisation whose Amazon Business pairing fetches the feed
    (its ledger is the feed store); an entity without a row posts there.
    """

    __tablename__ = "entity_routes"

    home_connection_id: Mapped[int] = mapped_column(
        ForeignKey("xero_connections.id"), primary_key=True
    )
    entity_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    entity_name: Mapped[str] = mapped_column(String(200), default="")
    target_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Rollback(Base):
    """One rollback of a period: previewed, then (once confirmed) carried out action by action."""

    __tablename__ = "rollbacks"
    __table_args__ = (Index("ix_rollbacks_connection", "xero_connection_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    xero_connection_id: Mapped[int] = mapped_column(ForeignKey("xero_connections.id"))
    range_start: Mapped[datetime] = mapped_column(UtcDateTime)
    range_end: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default=RollbackStatus.PREVIEWED)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RollbackAction(Base):
    """One thing a rollback removes from Xero (or keeps, with the reason), with its outcome.

    The row is ``sending`` from just before the request until its outcome is written, so a
    crash in between is settled by looking at Xero, never by acting twice.
    """

    __tablename__ = "rollback_actions"
    __table_args__ = (UniqueConstraint("rollback_id", "doc_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rollback_id: Mapped[int] = mapped_column(ForeignKey("rollbacks.id"), index=True)
    transaction_id: Mapped[str] = mapped_column(String(128))
    doc_key: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(String(32))
    xero_id: Mapped[str] = mapped_column(String(64))
    parent_xero_id: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(24))
    phase: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=RollbackActionStatus.PLANNED)
    reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ContextRead(Base):
    """The organisation context as last read from Xero (organisation, accounts, tax rates,
    currencies, tracking), so back-to-back runs need not read it again. ``body`` is the read
    as JSON; the row is deleted when a Xero write suggests it is stale."""

    __tablename__ = "context_reads"

    xero_connection_id: Mapped[int] = mapped_column(
        ForeignKey("xero_connections.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(UtcDateTime)
    body: Mapped[str] = mapped_column(Text)


class PaceCall(Base):
    """One Xero call in the shared per-tenant and app-wide rate windows: counted from its
    start and moved to its end when it finishes (Xero saw it somewhere in between, so the
    windows hold for Xero's clock as well as ours).

    ``scope`` is the tenant id, or ``*app*`` for calls Xero counted that no tenant row shows
    (a correction from ``X-AppMinLimit-Remaining``). Rows older than a day are deleted.
    """

    __tablename__ = "xero_pace_calls"
    __table_args__ = (
        Index("ix_xero_pace_calls_scope_counted_at", "scope", "counted_at"),
        Index("ix_xero_pace_calls_counted_at", "counted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    counted_at: Mapped[float] = mapped_column(Float)


class PaceSlot(Base):
    """One of a tenant's concurrency slots in use; a dead holder's slot lapses at expiry."""

    __tablename__ = "xero_pace_slots"

    slot_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[float] = mapped_column(Float)


class PaceHold(Base):
    """A tenant (or the whole app) parked by a 429 until ``until``; also the row every
    start locks, so checking the windows and counting the call is one atomic step."""

    __tablename__ = "xero_pace_holds"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[float] = mapped_column(Float, default=0.0)
