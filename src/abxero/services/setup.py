"""What the setup wizard needs: import ranges and progress, the instruments seen, the choices of
the mapping step, saving a checked mapping, the dry-run preview, and finishing.

Nothing here posts to Xero: an organisation only posts once its ``setup_step`` is ``done``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import httpx
from pydantic import ValidationError as PydanticError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain import jsontext
from abxero.domain.context import ContextError, OrgContext
from abxero.domain.defaults import NoExpenseAccount, default_mapping
from abxero.domain.history import (
    CallModel,
    ImportEstimate,
    PostingProgress,
    estimate_import,
    posting_progress,
)
from abxero.domain.lifecycles import (
    FINISHED_RUN_STATUSES,
    DocumentStatus,
    SetupStep,
    SourceStatus,
)
from abxero.domain.lookup import BillLookup, OriginalBill, line_refs
from abxero.domain.mapping import AccountPayment, MappingConfig, PayByInvoice, PaymentPolicy
from abxero.domain.mapping_checks import MappingProblem, check_mapping
from abxero.domain.plan import Held, Planned, Role, Skipped
from abxero.domain.planner import plan_record
from abxero.domain.sellers import SellerSeen
from abxero.domain.transactions import Instrument, Quarantined, Transaction, parse_transaction
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services.activity import run_line
from abxero.services.connections import NotFound
from abxero.store import tallies
from abxero.store.db import transaction
from abxero.store.models import (
    AmazonConnection,
    OutboxDocument,
    SourceTransaction,
    SyncRun,
    XeroConnection,
)
from abxero.sync import context_reads
from abxero.sync.batches import BATCH_SIZE
from abxero.sync.bills import LedgerBills
from abxero.sync.ledger import REPLANNABLE
from abxero.sync.mappings import latest_mapping, save_mapping
from abxero.sync.ports import SideError
from abxero.sync.xero_books import XeroBooksClient, org_context
from abxero.xero import XeroError
from abxero.xero.models import OrganisationFacts

STEPS = tuple(SetupStep)  # in order
DEFAULT_IMPORT_DAYS = 90
MAX_IMPORT_DAYS = 730
"""How far back an import may reach. Amazon does not document how far back the
Reconciliation feed goes nor a maximum range per call (amazon-business-api.md §3.2 and §7:
"How far back data goes: not documented"); its own example request spans about 16 months
(2023-01-01 to 2024-04-24, RECON-TXN), and the Reporting API keeps orders for two years. So
abxero offers two years; whatever Amazon returns for the range is what is imported, in
31-day windows (``sync/windows.py``)."""
ZERO = Decimal("0")
PENDING_CONTACT = "contact-created-on-finish"
POSTABLE = (SourceStatus.NEW, SourceStatus.PLANNED)
"""Statuses of transactions that post on the next runs without anyone acting."""


class RangeInvalid(ValueError):
    """The import range cannot be used; the message says why, for the user."""


# -- steps -----


def step_index(step: str) -> int:
    return STEPS.index(step) if step in STEPS else 0


def advance_to(sessions: sessionmaker[Session], connection_id: int, step: str) -> None:
    """Move the wizard forward to ``step``; never backwards."""
    with transaction(sessions) as session:
        connection = session.get_one(XeroConnection, connection_id)
        if step_index(step) > step_index(connection.setup_step):
            connection.setup_step = step


# -- import history -----


@dataclass(frozen=True)
class ImportRange:
    """Calendar days ``first`` to ``last``, both included."""

    first: date
    last: date

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """``[start, end)`` in UTC, never past ``now``."""
        start = datetime.combine(self.first, time(), UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), UTC)
        return start, min(end, now)


def default_import_range(today: date) -> ImportRange:
    return ImportRange(today - timedelta(days=DEFAULT_IMPORT_DAYS), today)


def earliest_import_day(today: date) -> date:
    return today - timedelta(days=MAX_IMPORT_DAYS)


def parse_import_range(first_text: str, last_text: str, today: date) -> ImportRange:
    """The range the user typed, or :class:`RangeInvalid` saying what to change."""
    try:
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
    except ValueError as problem:
        raise RangeInvalid("Enter both dates as YYYY-MM-DD.") from problem
    if last < first:
        raise RangeInvalid("The end date is before the start date.")
    if last > today:
        raise RangeInvalid("The end date is in the future.")
    if first < today - timedelta(days=MAX_IMPORT_DAYS):
        raise RangeInvalid(
            f"abxero imports at most {MAX_IMPORT_DAYS} days (two years) of history; "
            "choose a later start date."
        )
    return ImportRange(first, last)


def needs_confirmation(chosen: ImportRange) -> bool:
    """A range beyond the default 90 days starts only once its Xero estimate was shown."""
    return (chosen.last - chosen.first).days > DEFAULT_IMPORT_DAYS


def start_import(jobs: Jobs, connection_id: int, chosen: ImportRange, now: datetime) -> int:
    """Queue the import; the run id is what the progress bar follows."""
    start, end = chosen.bounds(now)
    return jobs.enqueue_import(connection_id, start, end)


# -- planning a long history against Xero's limits -----


def call_model(sessions: sessionmaker[Session], connection_id: int) -> CallModel:
    """The calls-per-transaction model for this organisation: which share of its stored
    transactions post a separate payment (bill + payment on a card) and which get an invoice
    PDF (every UK order, US Pay by Invoice only — sync/attachments.py)."""
    mapping = saved_mapping(sessions, connection_id)
    seen = instruments_seen(sessions, connection_id)
    total = sum(item.count for item in seen)
    if not total:
        return CallModel(BATCH_SIZE)
    paid = invoiced = 0
    for item in seen:
        method = mapping.payment_method(item.instrument) if mapping else None
        pay_by_invoice = isinstance(method, PayByInvoice) or (
            method is None and item.instrument.looks_like_pay_by_invoice
        )
        spend = isinstance(method, AccountPayment) and method.policy is PaymentPolicy.SPEND_MONEY
        paid += 0 if pay_by_invoice or spend else item.count
        invoiced += item.count if pay_by_invoice else 0
    with sessions() as session:
        region = session.scalar(
            select(AmazonConnection.region).where(
                AmazonConnection.xero_connection_id == connection_id
            )
        )
    pdfs = total if region == "UK" else invoiced
    return CallModel(BATCH_SIZE, Decimal(paid) / total, Decimal(pdfs) / total)


def transactions_per_day(sessions: sessionmaker[Session], connection_id: int) -> Decimal | None:
    """Amazon transactions a day over the span of what is stored, ``None`` when nothing is."""
    with sessions() as session:
        count, first, last = session.execute(
            select(
                func.count(),
                func.min(SourceTransaction.transaction_date),
                func.max(SourceTransaction.transaction_date),
            ).where(SourceTransaction.xero_connection_id == connection_id)
        ).one()
    if not count or first is None or last is None:
        return None
    days = max(1, (last - first).days + 1)
    return (Decimal(int(count)) / days).quantize(Decimal("0.01"))


def import_estimate(
    sessions: sessionmaker[Session], connection_id: int, chosen: ImportRange, now: datetime
) -> ImportEstimate:
    start, end = chosen.bounds(now)
    with sessions() as session:
        in_range = (
            SourceTransaction.xero_connection_id == connection_id,
            SourceTransaction.transaction_date >= start,
            SourceTransaction.transaction_date < end,
        )
        stored = session.scalar(select(func.count()).where(*in_range)) or 0
        posted = (
            session.scalar(
                select(func.count()).where(
                    *in_range, SourceTransaction.status == SourceStatus.POSTED
                )
            )
            or 0
        )
    return estimate_import(
        (chosen.last - chosen.first).days + 1,
        transactions_per_day(sessions, connection_id),
        call_model(sessions, connection_id),
        stored_in_range=int(stored),
        posted_in_range=int(posted),
    )


def posting_state(runtime: Runtime, connection_id: int) -> PostingProgress:
    """Transactions in Xero, waiting to post, and when they should all be there (today's
    remaining Xero calls as this process last saw them, when it did)."""
    with runtime.sessions() as session:
        counts = tallies.status_counts(session, connection_id)
        connection = session.get_one(XeroConnection, connection_id)
        parked, tenant = connection.parked_until, connection.tenant_id
    done = int(counts.get(SourceStatus.POSTED, 0))
    left = sum(int(counts.get(status, 0)) for status in POSTABLE)
    return posting_progress(
        done,
        left,
        call_model(runtime.sessions, connection_id),
        runtime.now(),
        parked_until=parked,
        left_today=runtime.pacer.day_remaining(tenant),
    )


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    kind: str
    status: str
    progress: int
    counts: dict[str, int]
    error: str
    range_start: datetime | None
    range_end: datetime | None
    started_at: datetime | None = None

    @property
    def windows_done(self) -> int:
        return self.counts.get("windows_done", 0)

    @property
    def windows_left(self) -> int:
        return max(0, self.counts.get("windows_total", 0) - self.windows_done)

    def time_left(self, now: datetime) -> timedelta | None:
        """Remaining fetch time at the pace so far (``None`` before the first window)."""
        if self.finished or not self.windows_done or self.started_at is None:
            return None
        elapsed = now - self.started_at
        return elapsed / self.windows_done * self.windows_left

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES

    @property
    def line(self) -> str:
        """Queued, running (what and how far), done or failed, in one line."""
        return run_line(self.status, self.kind, self.counts, self.started_at)

    @property
    def new(self) -> int:
        return self.counts.get("new", 0)

    @property
    def already_known(self) -> int:
        return self.counts.get("unchanged", 0) + self.counts.get("updated", 0)


def _progress_of(run: SyncRun) -> RunProgress:
    return RunProgress(
        run.id,
        run.kind,
        run.status,
        100 if run.status in FINISHED_RUN_STATUSES else run.progress,
        dict(run.counts or {}),
        run.error,
        run.range_start,
        run.range_end,
        run.started_at,
    )


def run_progress(sessions: sessionmaker[Session], connection_id: int, run_id: int) -> RunProgress:
    with sessions() as session:
        run = session.get(SyncRun, run_id)
        if run is None or run.xero_connection_id != connection_id:
            raise NotFound(run_id)
        return _progress_of(run)


def latest_run(
    sessions: sessionmaker[Session], connection_id: int, kind: str
) -> RunProgress | None:
    with sessions() as session:
        run = session.scalars(
            select(SyncRun)
            .where(SyncRun.xero_connection_id == connection_id, SyncRun.kind == kind)
            .order_by(SyncRun.id.desc())
            .limit(1)
        ).first()
        return _progress_of(run) if run else None


# -- instruments -----


@dataclass(frozen=True)
class InstrumentSeen:
    """A payment instrument in the imported data, with how much was paid with it."""

    instrument: Instrument
    count: int
    total: Decimal
    currency: str
    waiting: int

    @property
    def key(self) -> str:
        return self.instrument.key

    @property
    def label(self) -> str:
        return self.instrument.label


def instruments_seen(sessions: sessionmaker[Session], connection_id: int) -> list[InstrumentSeen]:
    """Every instrument of the stored transactions, by label, with count, total and waiting
    (from the ledger tallies, ``store/tallies.py``)."""
    with sessions() as session:
        found = tallies.instrument_tallies(session, connection_id)
    counts: Counter[tuple[str, str]] = Counter()
    waiting: Counter[tuple[str, str]] = Counter()
    totals: dict[tuple[str, str], Decimal] = {}
    for (key, currency, status), tally in found.items():
        if not key or status == SourceStatus.ROUTED:  # routed: posted by another organisation
            continue
        counts[key, currency] += tally.count
        waiting[key, currency] += tally.count if status in REPLANNABLE else 0
        totals[key, currency] = totals.get((key, currency), Decimal(0)) + tally.total
    seen = [
        InstrumentSeen(
            Instrument.from_key(key),
            counts[key, currency],
            total,
            currency,
            waiting[key, currency],
        )
        for (key, currency), total in totals.items()
    ]
    return sorted(seen, key=lambda item: item.label)


def sellers_seen(sessions: sessionmaker[Session], connection_id: int) -> list[SellerSeen]:
    """Every seller in the stored transactions, flagged ones first (for the mapping page)."""
    with sessions() as session:
        return tallies.sellers(session, connection_id)


def instrument_currencies(
    sessions: sessionmaker[Session], connection_id: int
) -> dict[str, frozenset[str]]:
    """The currencies each instrument's stored transactions are in, by instrument key."""
    found: dict[str, set[str]] = {}
    for item in instruments_seen(sessions, connection_id):
        if item.currency:
            found.setdefault(item.key, set()).add(item.currency.upper())
    return {key: frozenset(codes) for key, codes in found.items()}


# -- the organisation, live from Xero -----


class XeroUnreadable(SideError):
    """Xero answered, but not with an organisation abxero can read (e.g. a 400)."""


def read_organisation(runtime: Runtime, connection_id: int, contact_id: str) -> OrgContext:
    """The organisation from Xero; every failure becomes a :class:`SideError` with Xero's words.

    Pages show it with its remedy instead of failing; nothing here is retried.
    """
    return _read_facts(runtime, connection_id, contact_id)[1]


def _read_facts(
    runtime: Runtime, connection_id: int, contact_id: str
) -> tuple[OrganisationFacts, OrgContext]:
    books = XeroBooksClient(runtime.xero_api(connection_id))
    try:
        facts = books.organisation_facts()
        return facts, org_context(facts, contact_id)
    except SideError:
        raise
    except (XeroError, ContextError, PydanticError, httpx.HTTPError) as problem:
        raise XeroUnreadable("xero", f"Xero could not be read: {problem}") from problem


def organisation_context(runtime: Runtime, connection_id: int) -> OrgContext:
    """Accounts, tax rates and tracking read live from Xero (raises the engine's SideError)."""
    with runtime.sessions() as session:
        contact_id = session.get_one(XeroConnection, connection_id).contact_id
    facts, context = _read_facts(runtime, connection_id, contact_id)
    with transaction(runtime.sessions) as session:
        context_reads.remember(session, connection_id, facts, runtime.now())
        connection = session.get_one(XeroConnection, connection_id)
        connection.short_code = context.short_code or connection.short_code
        connection.tenant_name = context.name or connection.tenant_name
    return context


class ContextCache:
    """Recently read organisation contexts, so page views stay inside Xero's rate limits.

    Pages that only show choices may use a context up to ``max_age`` old; saving a mapping
    always reads Xero again.
    """

    def __init__(self, max_age: timedelta = timedelta(seconds=60)) -> None:
        self.max_age = max_age
        self._entries: dict[int, tuple[datetime, OrgContext]] = {}

    def get(self, runtime: Runtime, connection_id: int, *, fresh: bool = False) -> OrgContext:
        now = runtime.now()
        entry = self._entries.get(connection_id)
        if entry is not None and not fresh and now - entry[0] < self.max_age:
            return entry[1]
        context = organisation_context(runtime, connection_id)
        self._entries[connection_id] = (now, context)
        return context

    def forget(self, connection_id: int) -> None:
        self._entries.pop(connection_id, None)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class MappingChoices:
    """What each select of the mapping step may offer: only active, fitting entries."""

    expense_accounts: tuple[Choice, ...]
    payment_accounts: tuple[Choice, ...]
    bank_accounts: tuple[Choice, ...]
    purchase_tax_types: tuple[Choice, ...]
    is_uk: bool
    currency: str
    tracking_categories: tuple[Choice, ...] = ()
    """Active tracking categories by name (Xero allows two active, xero-api.md §4.10)."""
    zero_tax_types: tuple[Choice, ...] = ()
    """Purchase tax rates at 0 %: what a seller's VAT that cannot be reclaimed may post at."""


def mapping_choices(context: OrgContext) -> MappingChoices:
    def by_code(accounts: Sequence[Choice]) -> tuple[Choice, ...]:
        return tuple(sorted(accounts, key=lambda choice: choice.label))

    active = [account for account in context.accounts if account.is_active]
    expense = [
        Choice(account.code or account.account_id, account.label)
        for account in active
        if account.takes_purchases
    ]
    paying = [
        Choice(account.code or account.account_id, account.label)
        for account in active
        if account.accepts_payments and not account.system_account
    ]
    banks = [
        Choice(account.code or account.account_id, account.label)
        for account in active
        if account.is_bank
    ]
    taxes = tuple(
        Choice(rate.tax_type, _rate_label(rate.name, rate.effective_rate))
        for rate in context.tax_rates
        if rate.is_active and rate.applies_to_purchases and not rate.is_sales_side
    )
    zero = tuple(
        Choice(rate.tax_type, _rate_label(rate.name, rate.effective_rate))
        for rate in context.tax_rates
        if rate.is_active
        and rate.applies_to_purchases
        and not rate.is_sales_side
        and not rate.effective_rate
    )
    tracking = tuple(
        Choice(category.name, category.name)
        for category in context.tracking_categories
        if category.is_active
    )
    return MappingChoices(
        by_code(expense),
        by_code(paying),
        by_code(banks),
        taxes,
        context.is_uk,
        context.base_currency,
        tracking,
        zero,
    )


def _rate_label(name: str, rate: Decimal | None) -> str:
    return f"{name} ({rate.normalize():f}%)" if rate is not None else name


def current_mapping(
    sessions: sessionmaker[Session], connection_id: int, context: OrgContext
) -> tuple[MappingConfig | None, bool]:
    """The saved mapping, or the proposed default; the flag says whether it was saved."""
    with sessions() as session:
        found = latest_mapping(session, connection_id)
    if found is not None:
        return found[1], True
    instruments = [item.instrument for item in instruments_seen(sessions, connection_id)]
    currencies = instrument_currencies(sessions, connection_id)
    try:
        return default_mapping(context, instruments, currencies), False
    except NoExpenseAccount:
        return None, False


def save_checked_mapping(
    sessions: sessionmaker[Session], connection_id: int, mapping: MappingConfig, context: OrgContext
) -> tuple[MappingProblem, ...]:
    """Save ``mapping`` as a new version when it fits the organisation; else its problems."""
    problems = check_mapping(mapping, context, instrument_currencies(sessions, connection_id))
    if problems:
        return problems
    with transaction(sessions) as session:
        save_mapping(session, connection_id, mapping)
    return ()


def saved_mapping(sessions: sessionmaker[Session], connection_id: int) -> MappingConfig | None:
    with sessions() as session:
        found = latest_mapping(session, connection_id)
    return found[1] if found else None


# -- the dry run -----


@dataclass(frozen=True)
class HeldReason:
    reason: str
    remedy: str
    count: int


@dataclass
class Preview:
    """What Finish would do with the stored transactions, computed without writing anything."""

    documents_to_create: int = 0
    transactions_to_post: int = 0
    already_in_xero: int = 0
    held: list[HeldReason] = field(default_factory=list)
    skipped: int = 0
    unreadable: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    """Documents Finish would create, by kind (bill, payment, credit note, refund, allocation,
    spend, receive); they add up to ``documents_to_create``."""

    @property
    def held_count(self) -> int:
        return sum(reason.count for reason in self.held)


def preview(
    sessions: sessionmaker[Session], connection_id: int, mapping: MappingConfig, context: OrgContext
) -> Preview:
    """Plan every waiting transaction in memory; count what is already posted.

    Before the first sync the "Amazon Business" contact (and, when chosen, each seller's)
    does not exist yet; the sync creates it, so the preview plans as if it did.
    """
    if not context.contact_id:
        context = replace(context, contact_id=PENDING_CONTACT)
    context = replace(context, planned_seller_contact=PENDING_CONTACT)
    result = Preview()
    reasons: Counter[tuple[str, str]] = Counter()
    roles: Counter[str] = Counter()
    with sessions() as session:
        sources = session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.status.in_(REPLANNABLE),
            )
            .order_by(SourceTransaction.id)
        ).all()
        bills = PreviewBills(LedgerBills(session, connection_id))
        for source in sources:
            raw = jsontext.loads(source.raw)
            plan = plan_record(raw, mapping, context, bills)
            if isinstance(plan, Planned):
                bills.note(parse_transaction(raw), plan)
                result.transactions_to_post += 1
                result.documents_to_create += len(plan.documents)
                roles.update(document.role.value for document in plan.documents)
            elif isinstance(plan, Held):
                reasons[(plan.message, plan.remedy)] += 1
            elif isinstance(plan, Skipped):
                result.skipped += 1
            else:
                result.unreadable += 1
        outbox = session.execute(
            select(OutboxDocument.status, OutboxDocument.role, func.count())
            .where(OutboxDocument.xero_connection_id == connection_id)
            .group_by(OutboxDocument.status, OutboxDocument.role)
        ).all()
    for status, role, count in outbox:
        if status == DocumentStatus.POSTED:
            result.already_in_xero += int(count)
        else:
            result.documents_to_create += int(count)
            roles[str(role)] += int(count)
    result.held = [
        HeldReason(message, remedy, count) for (message, remedy), count in reasons.most_common()
    ]
    result.roles = dict(roles)
    return result


class PreviewBills:
    """The ledger's bills, plus the Pay-by-Invoice bills this preview has planned so far.

    Before Finish nothing is in the outbox yet, so a refund imported with its charge would find
    no bill and the preview would miss its allocation; the engine plans the charge first and
    finds it.
    """

    def __init__(self, ledger: BillLookup) -> None:
        self._ledger = ledger
        self._planned: dict[str, OriginalBill] = {}

    def bills_of_orders(self, order_ids: tuple[str, ...]) -> Sequence[OriginalBill]:
        known = list(self._ledger.bills_of_orders(order_ids))
        keys = {bill.key for bill in known}
        wanted = set(order_ids)
        planned = [
            bill
            for bill in self._planned.values()
            if bill.key not in keys and wanted & set(bill.order_ids)
        ]
        return known + planned

    def note(self, charge: Transaction | Quarantined, plan: Planned) -> None:
        """Remember an unpaid bill of ``plan`` with the lines it charged; lower what
        allocations used."""
        roles = {document.role for document in plan.documents}
        for document in plan.documents:
            if document.role is Role.BILL and Role.PAYMENT not in roles:
                lines = line_refs(charge) if isinstance(charge, Transaction) else frozenset()
                orders = charge.order_ids if isinstance(charge, Transaction) else ()
                self._planned[document.key] = OriginalBill(
                    document.key, document.amount, document.currency, lines=lines, order_ids=orders
                )
            if document.role is Role.ALLOCATION:
                for key, bill in list(self._planned.items()):
                    if key in document.depends_on:
                        due = bill.amount_due - document.amount
                        self._planned[key] = replace(bill, amount_due=due)


def finish_setup(sessions: sessionmaker[Session], jobs: Jobs, connection_id: int) -> None:
    """Let the organisation post, and start posting what was imported."""
    advance_to(sessions, connection_id, SetupStep.DONE)
    jobs.enqueue_sync(connection_id)
