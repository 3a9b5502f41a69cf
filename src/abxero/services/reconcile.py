"""The reconciliation check of one organisation and period: read the stored feed and the
ledger, read back what Xero holds now, compare, store the result and raise an event on a gap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.alerts.reconciliation import record_ok
from abxero.domain import jsontext
from abxero.domain.lifecycles import ConnectionStatus, ReconciliationStatus, SetupStep
from abxero.domain.reconciliation import (
    AmazonTransaction,
    Difference,
    OurDocument,
    Reconciliation,
    reconcile,
)
from abxero.runtime import Runtime
from abxero.services.links import deep_link
from abxero.store.db import transaction
from abxero.store.models import (
    AmazonConnection,
    Event,
    OutboxDocument,
    ReconciliationResult,
    SourceTransaction,
    XeroConnection,
)
from abxero.sync.leases import LeaseBusy, held
from abxero.sync.ports import SideError
from abxero.sync.xero_readback import read_back
from abxero.xero import XeroError

UNREADABLE = "(unreadable record)"
IDS_PER_QUERY = 500
CLEAN, GAPS = ReconciliationStatus.CLEAN, ReconciliationStatus.GAPS
FAILED = ReconciliationStatus.FAILED


@dataclass(frozen=True)
class Period:
    """Days ``since`` to ``until`` inclusive, by the Amazon transaction date (UTC)."""

    since: date
    until: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time(), UTC)

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def default_period(today: date, days: int = 90) -> Period:
    """The daily job's period: the last ``days`` days up to today."""
    return Period(today - timedelta(days=days - 1), today)


@dataclass(frozen=True)
class Ledger:
    """The period's side of abxero: transactions, their documents, every Xero id ever held."""

    transactions: list[AmazonTransaction]
    documents: list[OurDocument]
    known_ids: set[str]
    contact_id: str
    short_code: str


def period_sources(session: Session, connection_id: int, period: Period) -> list[SourceTransaction]:
    """The stored Amazon transactions of the period, by transaction date (a record too broken
    to have one counts by the date in its raw JSON, else the day it was fetched)."""
    dated = SourceTransaction.transaction_date
    rows = session.scalars(
        select(SourceTransaction)
        .where(
            SourceTransaction.xero_connection_id == connection_id,
            (dated.is_(None)) | ((dated >= period.start) & (dated < period.end)),
        )
        .order_by(SourceTransaction.transaction_id)
    )
    return [row for row in rows if period.holds(source_moment(row))]


def source_moment(row: SourceTransaction) -> datetime | None:
    if row.transaction_date is not None:
        return row.transaction_date
    raw = _raw(row)
    text = raw.get("transactionDate")
    if isinstance(text, str):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return row.feed_date or row.first_seen_at


def _raw(row: SourceTransaction) -> dict[str, Any]:
    try:
        raw = jsontext.loads(row.raw)
    except ValueError:
        return {}
    return raw if isinstance(raw, dict) else {}


def amazon_transaction(row: SourceTransaction) -> AmazonTransaction:
    """The ledger's view of a stored record; a quarantined one keeps what can be read of it."""
    amount, currency = row.amount, row.currency
    if amount is None:
        amount, currency = _raw_amount(_raw(row))
    moment = source_moment(row)
    return AmazonTransaction(
        transaction_id=row.transaction_id,
        instrument=row.instrument_key or UNREADABLE,
        currency=currency or "",
        amount=amount,
        status=row.status,
        reason=row.reason,
        day=moment.date() if moment else None,
        changed_after_posting=row.needs_review,
    )


def _raw_amount(raw: dict[str, Any]) -> tuple[Decimal | None, str]:
    money = raw.get("amount")
    if not isinstance(money, dict):
        return None, ""
    currency = str(money.get("currencyCode") or "").strip().upper()[:3]
    try:
        return Decimal(str(money.get("amount"))), currency
    except (InvalidOperation, ValueError):
        return None, currency


def load_ledger(session: Session, connection_id: int, period: Period) -> Ledger:
    connection = session.get_one(XeroConnection, connection_id)
    sources = period_sources(session, connection_id, period)
    documents = documents_of(session, connection_id, [s.transaction_id for s in sources])
    known = session.scalars(
        select(OutboxDocument.xero_id).where(
            OutboxDocument.xero_connection_id == connection_id, OutboxDocument.xero_id != ""
        )
    )
    return Ledger(
        transactions=[amazon_transaction(source) for source in sources],
        documents=[
            OurDocument(d.transaction_id, d.role, d.xero_id, d.amount, d.status, d.error)
            for d in documents
        ],
        known_ids=set(known),
        contact_id=connection.contact_id,
        short_code=connection.short_code,
    )


def documents_of(
    session: Session, connection_id: int, transaction_ids: list[str]
) -> list[OutboxDocument]:
    """The outbox rows of these transactions (asked for a few hundred at a time)."""
    found: list[OutboxDocument] = []
    for start in range(0, len(transaction_ids), IDS_PER_QUERY):
        found += session.scalars(
            select(OutboxDocument).where(
                OutboxDocument.xero_connection_id == connection_id,
                OutboxDocument.transaction_id.in_(transaction_ids[start : start + IDS_PER_QUERY]),
            )
        )
    return found


def check(runtime: Runtime, connection_id: int, period: Period) -> tuple[Reconciliation, Ledger]:
    """Compare without storing anything (raises on a Xero failure)."""
    with runtime.sessions() as session:
        ledger = load_ledger(session, connection_id, period)
    wanted = {d.xero_id: d.role for d in ledger.documents if d.xero_id}
    found = read_back(
        runtime.xero_api(connection_id),
        ledger.contact_id,
        period.since,
        period.until,
        wanted,
        ledger.known_ids,
    )
    shown = {  # Xero's ids compared without regard to case, as Xero treats GUIDs
        d.xero_id: found.by_id[d.xero_id.lower()]
        for d in ledger.documents
        if d.xero_id and d.xero_id.lower() in found.by_id
    }
    result = reconcile(
        period.since, period.until, ledger.transactions, ledger.documents, shown, found.unknown
    )
    return result, ledger


def run_check(
    runtime: Runtime, connection_id: int, period: Period, trigger: str = "manual"
) -> ReconciliationResult:
    """Check, store the result (a failure too, with its cause) and raise an event on a gap."""
    try:
        result, ledger = check(runtime, connection_id, period)
    except (SideError, XeroError) as problem:
        return _store_failure(runtime, connection_id, period, trigger, str(problem))
    except Exception as problem:  # any other failure is stored with its cause too, then raised
        _store_failure(
            runtime, connection_id, period, trigger, f"{type(problem).__name__}: {problem}"
        )
        raise
    body = as_json(result, ledger.short_code)
    with transaction(runtime.sessions) as session:
        before = latest(session, connection_id)
        row = ReconciliationResult(
            xero_connection_id=connection_id,
            since=period.since,
            until=period.until,
            status=CLEAN if result.clean else GAPS,
            differences=len(result.differences),
            body=jsontext.dumps(body),
            trigger=trigger,
            finished_at=runtime.now(),
        )
        session.add(row)
        session.flush()
        if not result.clean and not _same_gaps(before, body):
            session.add(_gap_event(connection_id, row.id, result))
        elif result.clean and before is not None and before.status == GAPS:
            record_ok(
                session,
                connection_id,
                message=f"Xero holds what Amazon charged from {result.since} to {result.until}.",
                now=runtime.now(),
            )
        session.expunge(row)
    return row


def _same_gaps(before: ReconciliationResult | None, body: dict[str, Any]) -> bool:
    """Whether the previous check found exactly these differences (no new event then)."""
    if before is None or before.status != GAPS:
        return False
    previous = jsontext.loads(before.body)
    return bool(
        previous.get("since") == body["since"]
        and previous.get("differences") == jsontext.loads(jsontext.dumps(body["differences"]))
    )


def _store_failure(
    runtime: Runtime, connection_id: int, period: Period, trigger: str, cause: str
) -> ReconciliationResult:
    with transaction(runtime.sessions) as session:
        row = ReconciliationResult(
            xero_connection_id=connection_id,
            since=period.since,
            until=period.until,
            status=FAILED,
            error=cause,
            trigger=trigger,
            finished_at=runtime.now(),
        )
        session.add(row)
        session.flush()
        session.add(
            Event(
                xero_connection_id=connection_id,
                level="error",
                code="reconciliation_failed",
                message=f"The reconciliation check could not read Xero: {cause}",
                remedy="It runs again tomorrow; reconnect Xero if the cause is our access.",
                data={"reconciliation_id": row.id},
            )
        )
        session.expunge(row)
    return row


def _gap_event(connection_id: int, row_id: int, result: Reconciliation) -> Event:
    red = [line for line in result.lines if not line.clean]
    names = ", ".join(f"{line.instrument} ({line.currency})" for line in red)
    return Event(
        xero_connection_id=connection_id,
        level="warning",
        code="reconciliation_gap",
        message=(
            f"Xero does not hold exactly what Amazon charged from {result.since} to "
            f"{result.until}: {len(result.differences)} difference(s) on {names}."
        ),
        remedy="Open the reconciliation detail: each difference says what happened and where.",
        # One alert occurrence while Xero and Amazon disagree, however the rolling daily
        # period moves; a clean check closes it (``record_ok``).
        data={"reconciliation_id": row_id, "key": "xero-vs-amazon"},
    )


def latest(session: Session, connection_id: int) -> ReconciliationResult | None:
    return session.scalars(
        select(ReconciliationResult)
        .where(ReconciliationResult.xero_connection_id == connection_id)
        .order_by(ReconciliationResult.id.desc())
        .limit(1)
    ).first()


def as_json(result: Reconciliation, short_code: str) -> dict[str, Any]:
    """The result as plain data with exact decimals (stored, shown, and printed as JSON)."""
    return {
        "since": result.since.isoformat(),
        "until": result.until.isoformat(),
        "clean": result.clean,
        "instruments": [
            {
                "instrument": line.instrument,
                "currency": line.currency,
                "transactions": line.transactions,
                "amazon_total": line.amazon_total,
                "xero_total": line.xero_total,
                "difference": line.difference,
                "paid_expected": line.paid_expected,
                "paid_in_xero": line.paid_in_xero,
                "differences": line.differences,
                "unexplained": result.unexplained(line),
                "clean": line.clean,
            }
            for line in result.lines
        ],
        "differences": [difference_json(d, short_code) for d in result.differences],
    }


def difference_json(difference: Difference, short_code: str) -> dict[str, Any]:
    return {
        "kind": difference.kind.value,
        "instrument": difference.instrument,
        "currency": difference.currency,
        "transaction_id": difference.transaction_id,
        "reason": difference.reason,
        "amazon_amount": difference.amazon_amount,
        "xero_amount": difference.xero_amount,
        "effect": difference.effect,
        "role": difference.role,
        "xero_id": difference.xero_id,
        "xero_status": difference.xero_status,
        "xero_link": deep_link(short_code, difference.role, difference.xero_id) or "",
    }


DAILY = timedelta(days=1)
LEASE = timedelta(minutes=30)


def reconciliation_due(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    """Organisations that are set up and connected and whose last daily check is a day old
    (or that have none): the tick queues one check each."""
    with sessions() as session:
        ready = session.scalars(
            select(XeroConnection.id)
            .join(AmazonConnection, AmazonConnection.xero_connection_id == XeroConnection.id)
            .where(
                XeroConnection.setup_step == SetupStep.DONE,
                XeroConnection.status == ConnectionStatus.CONNECTED,
            )
            .order_by(XeroConnection.id)
        ).all()
        last = _last_daily(session)
    return [cid for cid in ready if cid not in last or last[cid] + DAILY <= now]


def _last_daily(session: Session) -> dict[int, datetime]:
    rows = session.execute(
        select(ReconciliationResult.xero_connection_id, ReconciliationResult.finished_at).where(
            ReconciliationResult.trigger == "daily"
        )
    ).all()
    last: dict[int, datetime] = {}
    for connection_id, finished in rows:
        last[connection_id] = max(finished, last.get(connection_id, finished))
    return last


def run_daily(runtime: Runtime, connection_id: int) -> ReconciliationResult | None:
    """The daily check, unless another worker holds it or it already ran today (the tick may
    queue it more than once before the first one finishes)."""
    name = f"reconcile:{connection_id}"
    try:
        with held(runtime.sessions, name, runtime.work_holder(), LEASE, runtime.now):
            if connection_id not in reconciliation_due(runtime.sessions, runtime.now()):
                return None
            return run_check(runtime, connection_id, default_period(runtime.now().date()), "daily")
    except LeaseBusy:
        return None


@dataclass(frozen=True)
class Shown:
    """The last check as pages show it."""

    id: int
    status: str
    since: date
    until: date
    finished_at: datetime
    error: str
    instruments: list[dict[str, Any]]
    differences: list[dict[str, Any]]


def last_result(sessions: sessionmaker[Session], connection_id: int) -> Shown | None:
    with sessions() as session:
        row = latest(session, connection_id)
    if row is None:
        return None
    body = jsontext.loads(row.body) if row.body else {}
    return Shown(
        row.id,
        row.status,
        row.since,
        row.until,
        row.finished_at,
        row.error,
        list(body.get("instruments", [])),
        list(body.get("differences", [])),
    )


def parse_period(since: str, until: str, today: date) -> Period:
    """A period from a form's two dates (default: the last 90 days); ValueError when unusable."""
    if not since and not until:
        return default_period(today)
    first, last = date.fromisoformat(since), date.fromisoformat(until)
    if last < first:
        raise ValueError("The last day must not be before the first.")
    if last > today:
        raise ValueError("The last day cannot be in the future.")
    return Period(first, last)
