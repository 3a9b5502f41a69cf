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

from sqlalchemy import case, func, select

from abxero.domain import jsontext
from abxero.domain.context import OrgContext
from abxero.domain.defaults import NoExpenseAccount, default_mapping
from abxero.domain.mapping import MappingConfig
from abxero.domain.mapping_checks import MappingProblem, check_mapping
from abxero.domain.plan import Held, Planned, Skipped
from abxero.domain.planner import plan_record
from abxero.domain.transactions import Instrument
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services.connections import NotFound
from abxero.store.db import transaction
from abxero.store.models import OutboxDocument, SourceTransaction, SyncRun, XeroConnection
from abxero.sync import context_reads
from abxero.sync.bills import LedgerBills
from abxero.sync.ledger import REPLANNABLE
from abxero.sync.mappings import latest_mapping, save_mapping
from abxero.sync.xero_books import XeroBooksClient

STEPS = ("amazon", "import", "mapping", "review", "done")
MAX_IMPORT_DAYS = 90
ZERO = Decimal("0")
PENDING_CONTACT = "contact-created-on-finish"


class RangeInvalid(ValueError):
    """The import range cannot be used; the message says why, for the user."""


# -- steps -----


def step_index(step: str) -> int:
    return STEPS.index(step) if step in STEPS else 0


def advance_to(runtime: Runtime, connection_id: int, step: str) -> None:
    """Move the wizard forward to ``step``; never backwards."""
    with transaction(runtime.sessions) as session:
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
    return ImportRange(today - timedelta(days=MAX_IMPORT_DAYS), today)


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
        raise RangeInvalid(f"Amazon keeps at most {MAX_IMPORT_DAYS} days of history to import.")
    return ImportRange(first, last)


def start_import(runtime: Runtime, jobs: Jobs, connection_id: int, chosen: ImportRange) -> int:
    """Queue the import; the run id is what the progress bar follows."""
    start, end = chosen.bounds(runtime.now())
    return jobs.enqueue_import(connection_id, start, end)


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

    @property
    def finished(self) -> bool:
        return self.status in {"ok", "failed"}

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
        100 if run.status in {"ok", "failed"} else run.progress,
        dict(run.counts or {}),
        run.error,
        run.range_start,
        run.range_end,
    )


def run_progress(runtime: Runtime, connection_id: int, run_id: int) -> RunProgress:
    with runtime.sessions() as session:
        run = session.get(SyncRun, run_id)
        if run is None or run.xero_connection_id != connection_id:
            raise NotFound(run_id)
        return _progress_of(run)


def latest_run(runtime: Runtime, connection_id: int, kind: str) -> RunProgress | None:
    with runtime.sessions() as session:
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


def instrument_from_key(key: str) -> Instrument:
    kind, _, last4 = key.rpartition("/")
    if kind and last4.isdigit():
        return Instrument(kind, last4)
    return Instrument(key)


def instruments_seen(runtime: Runtime, connection_id: int) -> list[InstrumentSeen]:
    """Every instrument of the stored transactions, by label, with count, total and waiting."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                SourceTransaction.instrument_key,
                SourceTransaction.currency,
                func.count(),
                func.coalesce(func.sum(SourceTransaction.amount), 0),
                func.sum(case((SourceTransaction.status.in_(REPLANNABLE), 1), else_=0)),
            )
            .where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.instrument_key != "",
            )
            .group_by(SourceTransaction.instrument_key, SourceTransaction.currency)
        ).all()
    seen = [
        InstrumentSeen(
            instrument_from_key(key), int(count), Decimal(str(total)), currency, int(waiting or 0)
        )
        for key, currency, count, total, waiting in rows
    ]
    return sorted(seen, key=lambda item: item.label)


# -- the organisation, live from Xero -----


def organisation_context(runtime: Runtime, connection_id: int) -> OrgContext:
    """Accounts, tax rates and tracking read live from Xero (raises the engine's SideError)."""
    with runtime.sessions() as session:
        contact_id = session.get_one(XeroConnection, connection_id).contact_id
    facts = XeroBooksClient(runtime.xero_api(connection_id)).organisation_facts()
    context = OrgContext.from_facts(facts, contact_id)
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
    return MappingChoices(
        by_code(expense),
        by_code(paying),
        by_code(banks),
        taxes,
        context.is_uk,
        context.base_currency,
    )


def _rate_label(name: str, rate: Decimal | None) -> str:
    return f"{name} ({rate.normalize():f}%)" if rate is not None else name


def current_mapping(
    runtime: Runtime, connection_id: int, context: OrgContext
) -> tuple[MappingConfig | None, bool]:
    """The saved mapping, or the proposed default; the flag says whether it was saved."""
    with runtime.sessions() as session:
        found = latest_mapping(session, connection_id)
    if found is not None:
        return found[1], True
    instruments = [item.instrument for item in instruments_seen(runtime, connection_id)]
    try:
        return default_mapping(context, instruments), False
    except NoExpenseAccount:
        return None, False


def save_checked_mapping(
    runtime: Runtime, connection_id: int, mapping: MappingConfig, context: OrgContext
) -> tuple[MappingProblem, ...]:
    """Save ``mapping`` as a new version when it fits the organisation; else its problems."""
    problems = check_mapping(mapping, context)
    if problems:
        return problems
    with transaction(runtime.sessions) as session:
        save_mapping(session, connection_id, mapping)
    return ()


def saved_mapping(runtime: Runtime, connection_id: int) -> MappingConfig | None:
    with runtime.sessions() as session:
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

    @property
    def held_count(self) -> int:
        return sum(reason.count for reason in self.held)


def preview(
    runtime: Runtime, connection_id: int, mapping: MappingConfig, context: OrgContext
) -> Preview:
    """Plan every waiting transaction in memory; count what is already posted.

    Before the first sync the "Amazon Business" contact does not exist yet; Finish creates it,
    so the preview plans as if it did.
    """
    if not context.contact_id:
        context = replace(context, contact_id=PENDING_CONTACT)
    result = Preview()
    reasons: Counter[tuple[str, str]] = Counter()
    roles: Counter[str] = Counter()
    with runtime.sessions() as session:
        sources = session.scalars(
            select(SourceTransaction).where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.status.in_(REPLANNABLE),
            )
        ).all()
        bills = LedgerBills(session, connection_id)
        for source in sources:
            plan = plan_record(jsontext.loads(source.raw), mapping, context, bills)
            if isinstance(plan, Planned):
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
            select(OutboxDocument.status, func.count())
            .where(OutboxDocument.xero_connection_id == connection_id)
            .group_by(OutboxDocument.status)
        ).all()
    for status, count in outbox:
        if status == "posted":
            result.already_in_xero += int(count)
        else:
            result.documents_to_create += int(count)
    result.held = [
        HeldReason(message, remedy, count) for (message, remedy), count in reasons.most_common()
    ]
    result.roles = dict(roles)
    return result


def finish_setup(runtime: Runtime, jobs: Jobs, connection_id: int) -> None:
    """Let the organisation post, and start posting what was imported."""
    advance_to(runtime, connection_id, "done")
    jobs.enqueue_sync(connection_id)
