"""What the operational CLI commands do, kept apart from argument parsing in ``cli.py``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table
from sqlalchemy import func, select

from abxero.domain.history import ImportEstimate, describe_duration
from abxero.domain.lifecycles import (
    BatchStatus,
    ConnectionStatus,
    DocumentStatus,
    RunStatus,
    SetupStep,
    SourceStatus,
)
from abxero.runtime import Runtime
from abxero.services.activity import CurrentRun, current_activity, next_sync_note
from abxero.services.manage import LastRun, last_run
from abxero.store.models import (
    AmazonConnection,
    Batch,
    Lease,
    OutboxDocument,
    SourceTransaction,
    SyncRun,
    XeroConnection,
)
from abxero.sync import due
from abxero.sync.engine import Engine, SyncReport
from abxero.sync.leases import LeaseBusy


class SchemaNotReady(Exception):
    """The database has no abxero schema, or an older one, and is not ours to upgrade."""


def schema_revisions(database_url: str) -> tuple[str | None, str]:
    """The schema revision the database is at (None: no schema) and the one abxero needs."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from abxero.store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head() or ""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return current, head


def prepare_schema(database_url: str, shown_url: str) -> str:
    """Make sure the schema is current before a command reads the ledger.

    A SQLite file belongs to this one installation, so it is created or upgraded on the spot
    (what ``abxero db upgrade`` does) and a note says so. A PostgreSQL database is shared by a
    team and its workers, so migrating it stays a deliberate step: the exact command is named.
    """
    current, head = schema_revisions(database_url)
    if current == head:
        return ""
    state = "has no abxero schema yet" if current is None else f"is at schema {current}"
    if database_url.startswith("sqlite"):
        from abxero.store.migrate import upgrade

        upgrade(database_url)
        return f"The database at {shown_url} {state}; upgraded it to {head} (abxero db upgrade)."
    raise SchemaNotReady(
        f"The database at {shown_url} {state}; this abxero needs {head}. Run `abxero db upgrade` "
        "once (with the same ABXERO_DATABASE_URL), then this command again."
    )


@dataclass(frozen=True)
class OrganisationStatus:
    connection_id: int
    name: str
    region: str
    setup_step: str
    status: str
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    parked_until: datetime | None
    counts: dict[str, int]
    last_run: LastRun | None = None
    lease: BusyLease | None = None
    recovering_batches: int = 0
    recovering_documents: int = 0
    current: CurrentRun | None = None
    next_note: str = ""


def organisation_statuses(runtime: Runtime) -> list[OrganisationStatus]:
    """Every organisation with its sync times and ledger counts."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(XeroConnection, AmazonConnection.region)
            .outerjoin(AmazonConnection, AmazonConnection.xero_connection_id == XeroConnection.id)
            .order_by(XeroConnection.id)
        ).all()
        counts = _source_counts(
            session.execute(
                select(
                    SourceTransaction.xero_connection_id,
                    SourceTransaction.status,
                    func.count(),
                ).group_by(SourceTransaction.xero_connection_id, SourceTransaction.status)
            ).all()
        )
        failed = dict(
            session.execute(
                select(OutboxDocument.xero_connection_id, func.count())
                .where(OutboxDocument.status == DocumentStatus.FAILED)
                .group_by(OutboxDocument.xero_connection_id)
            ).all()
        )
        runs = {organisation.id: last_run(session, organisation.id) for organisation, _ in rows}
        leases = {organisation.id: sync_lease(session, organisation.id) for organisation, _ in rows}
        recovering = _recovering(session)
        now = runtime.now()
        current = {o.id: current_activity(session, o.id, now) for o, _ in rows}
        next_at = due.next_syncs(session, [o for o, _ in rows], now)
        notes = {
            o.id: next_sync_note(o, next_at[o.id], now, current[o.id], due.retry_until(session, o))
            for o, _ in rows
        }
    result = []
    for organisation, region in rows:
        tally = counts.get(organisation.id, {})
        tally["documents_failed"] = int(failed.get(organisation.id, 0))
        result.append(
            OrganisationStatus(
                organisation.id,
                organisation.tenant_name,
                region or "",
                organisation.setup_step,
                organisation.status,
                organisation.last_sync_at,
                next_at[organisation.id],
                organisation.parked_until,
                tally,
                runs[organisation.id],
                leases[organisation.id],
                *recovering.get(organisation.id, (0, 0)),
                current[organisation.id],
                notes[organisation.id],
            )
        )
    return result


def _recovering(session: Any) -> dict[int, tuple[int, int]]:
    """Per organisation: batches left ``sending`` (by a crash or a lost answer) and the
    documents still waiting on them; the next run reconciles them with Xero."""
    sending = session.scalars(select(Batch).where(Batch.status == BatchStatus.SENDING)).all()
    waiting = dict(
        session.execute(
            select(OutboxDocument.batch_id, func.count())
            .where(OutboxDocument.status == DocumentStatus.SENDING)
            .group_by(OutboxDocument.batch_id)
        ).all()
    )
    result: dict[int, tuple[int, int]] = {}
    for batch in sending:
        batches, documents = result.get(batch.xero_connection_id, (0, 0))
        result[batch.xero_connection_id] = (batches + 1, documents + int(waiting.get(batch.id, 0)))
    return result


def _source_counts(rows: Iterable[Any]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for connection_id, status, count in rows:
        counts.setdefault(connection_id, {})[status] = int(count)
    return counts


def status_table(statuses: list[OrganisationStatus]) -> Table:
    table = Table(title="Organisations")
    for heading in (
        "id",
        "organisation",
        "region",
        "setup",
        "last successful sync",
        "last run",
        "next sync",
        "posted",
        "held",
        "quarantined",
        "failed docs",
    ):
        table.add_column(heading)
    for item in statuses:
        table.add_row(
            str(item.connection_id),
            item.name,
            item.region or "—",
            item.setup_step if item.status == ConnectionStatus.CONNECTED else item.status,
            _when(item.last_sync_at),
            _run_cell(item.last_run),
            _next_cell(item),
            str(item.counts.get(SourceStatus.POSTED, 0)),
            str(item.counts.get(SourceStatus.HELD, 0)),
            str(item.counts.get(SourceStatus.QUARANTINED, 0)),
            str(item.counts.get("documents_failed", 0)),
        )
    return table


def _next_cell(item: OrganisationStatus) -> str:
    """The next sync as the manage page shows it (sync/due.py decides both), marked when it
    waits for the pause after Xero's daily limit."""
    parked = item.parked_until is not None and item.next_sync_at == item.parked_until
    return _when(item.next_sync_at) + (" (parked)" if parked else "")


def _run_cell(run: LastRun | None) -> str:
    if run is None:
        return "—"
    return f"{run.status} {_when(run.finished_at)}" if run.failed else "ok"


def activity_lines(statuses: list[OrganisationStatus], now: datetime) -> list[str]:
    """For each organisation: its queued or running work (what it is doing, counts so far), a
    held sync lease, batches waiting to be reconciled, and why the next sync is when it is."""
    lines = []
    for item in statuses:
        label = f"organisation {item.connection_id}"
        if item.current is not None:
            lines.append(f"{label}: {item.current.line}")
        if item.next_note:
            lines.append(f"{label}: next sync {item.next_note}")
        lease = item.lease
        if lease is not None and lease.expires_at > now:
            since = f"since {_when(lease.since)}, " if lease.since else ""
            lines.append(
                f"{label}: being synced by {lease.holder} ({since}lease expires "
                f"{_when(lease.expires_at)})"
            )
        if item.recovering_batches:
            lines.append(
                f"{label}: {item.recovering_batches} batches ({item.recovering_documents} "
                "documents) left sending by an interrupted run; the next sync reconciles them "
                "with Xero"
            )
    return lines


def failure_lines(statuses: list[OrganisationStatus]) -> list[str]:
    """For each organisation whose last run failed or was interrupted: the cause and what to
    do."""
    lines = []
    for item in statuses:
        if item.last_run is None or not item.last_run.failed:
            continue
        lines.append(
            f"organisation {item.connection_id}: last run {item.last_run.status}: "
            f"{item.last_run.error}"
        )
        if item.last_run.remedy:
            lines.append(f"  what to do: {item.last_run.remedy}")
    return lines


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "—"


def ready_connections(runtime: Runtime, only: int | None) -> list[int]:
    """Organisations connected on both sides (optionally just one of them)."""
    with runtime.sessions() as session:
        ids = session.scalars(
            select(XeroConnection.id)
            .join(AmazonConnection, AmazonConnection.xero_connection_id == XeroConnection.id)
            .order_by(XeroConnection.id)
        ).all()
    return [identifier for identifier in ids if only is None or identifier == only]


def run_with_progress(console: Console, label: str, work: Any) -> SyncReport:
    """Run ``work(progress_callback)`` under a rich progress bar of feed windows, or with plain
    progress lines when the output is not a terminal (a log file, a pipe, cron)."""
    if not console.is_terminal:
        return _run_with_lines(console, label, work)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=None, detail="")

        def update(report: SyncReport) -> None:
            progress.update(
                task,
                total=max(report.windows_total, 1),
                completed=report.windows_done,
                detail=f"{report.fetched} fetched, {report.documents_posted} posted",
            )

        report: SyncReport = work(update)
        progress.update(task, completed=max(report.windows_total, 1))
    return report


def _run_with_lines(console: Console, label: str, work: Any) -> SyncReport:
    """One plain line each time a feed window finishes or documents are posted."""
    shown: list[tuple[int, int]] = []

    def update(report: SyncReport) -> None:
        step = (report.windows_done, report.documents_posted)
        if shown and shown[-1] == step:
            return
        shown.append(step)
        console.print(
            f"{label}: {progress_line(report)}", highlight=False, markup=False, soft_wrap=True
        )

    result: SyncReport = work(update)
    return result


def progress_line(report: SyncReport) -> str:
    """Where a run is, in words."""
    return (
        f"window {report.windows_done}/{report.windows_total}, {report.fetched} fetched, "
        f"{report.documents_posted} posted"
    )


@dataclass(frozen=True)
class BusyLease:
    """Who holds an organisation's sync lease, since when, until when."""

    holder: str
    since: datetime | None
    expires_at: datetime


def sync_lease(session: Any, connection_id: int) -> BusyLease | None:
    """The organisation's sync lease if one is recorded, with its run's start as "since"."""
    lease = session.get(Lease, f"sync:{connection_id}")
    if lease is None:
        return None
    since = session.scalar(
        select(func.max(SyncRun.started_at)).where(
            SyncRun.xero_connection_id == connection_id, SyncRun.status == RunStatus.RUNNING
        )
    )
    return BusyLease(lease.holder, since, lease.expires_at)


def busy_line(runtime: Runtime, connection_id: int) -> str:
    """What to say about an organisation another worker is syncing."""
    with runtime.sessions() as session:
        lease = sync_lease(session, connection_id)
    if lease is None:
        return "busy: another worker was syncing it; try again in a moment"
    since = f"since {_when(lease.since)}" if lease.since else f"until {_when(lease.expires_at)}"
    return f"busy: another worker is syncing it, {since} ({lease.holder})"


def run_each(
    console: Console,
    runtime: Runtime,
    connection_ids: list[int],
    work: Callable[[Engine], SyncReport],
) -> bool:
    """Run ``work`` for each organisation on its own: a busy one is reported and skipped, a
    failing one is reported, and the rest go on. True when none failed."""
    all_ok = True
    for connection_id in connection_ids:
        label = f"organisation {connection_id}"
        try:
            report = run_with_progress(
                console,
                label,
                lambda update, cid=connection_id: work(runtime.engine_for(cid, progress=update)),
            )
        except LeaseBusy:
            console.print(f"{label}: {busy_line(runtime, connection_id)}", **_PLAIN)
            continue
        except Exception as problem:  # one organisation's failure never stops the others
            console.print(f"{label}: failed: {problem}", **_PLAIN)
            all_ok = False
            continue
        console.print(f"{label}: {report_line(report)}", **_PLAIN)
        if report.error:
            remedy = failure_remedy(runtime, connection_id)
            if remedy:
                console.print(f"  what to do: {remedy}", **_PLAIN)
        all_ok = all_ok and not report.error
    return all_ok


def failure_remedy(runtime: Runtime, connection_id: int) -> str:
    """What to do about the organisation's latest failed run, as recorded with it."""
    with runtime.sessions() as session:
        run = last_run(session, connection_id)
    return run.remedy if run is not None and run.failed else ""


_PLAIN: dict[str, Any] = {"highlight": False, "markup": False, "soft_wrap": True}


def report_line(report: SyncReport) -> str:
    text = (
        f"{report.new} new, {report.unchanged} already stored, {report.documents_posted} "
        f"documents posted, {report.held} held, {report.quarantined} quarantined"
    )
    return f"{text}; error: {report.error}" if report.error else text


def demo_json(summaries: list[dict[str, Any]]) -> str:
    """The demo's last line: one object, keyed by organisation region/currency."""
    keyed = {f"{item['region']}/{item['currency']}": item for item in summaries}
    keyed["totals_match"] = all(item["totals_match"] for item in summaries)  # type: ignore[assignment]
    return json.dumps(keyed, sort_keys=True)


def estimate_line(name: str, estimate: ImportEstimate) -> str:
    """What importing costs in Xero, in one line for the ``import`` command."""
    if estimate.calls is None:
        return (
            f"{name}: no purchases stored yet, so the Xero cost is not known; every 100 "
            f"purchases take about {estimate.calls_per_hundred} Xero calls (5,000 a day)."
        )
    line = (
        f"{name}: about {estimate.transactions} purchases to post, {estimate.calls} Xero calls, "
        f"about {describe_duration(estimate.duration or timedelta(0))}"
    )
    if estimate.spreads_over_days:
        line += (
            f"; more than one day of Xero's 5,000 calls: posting spreads over about "
            f"{estimate.posting_days} days, pausing at the day limit and resuming by itself"
        )
    return line + "."


def posting_lines(runtime: Runtime, statuses: list[OrganisationStatus]) -> list[str]:
    """For each organisation still posting a history: done / left / expected finish."""
    from abxero.services.setup import posting_state

    lines = []
    for item in statuses:
        if item.setup_step != SetupStep.DONE:
            continue
        progress = posting_state(runtime, item.connection_id)
        if not progress.left:
            continue
        pause = " (after the pause for Xero's daily limit)" if item.parked_until else ""
        lines.append(
            f"organisation {item.connection_id}: posting {progress.done} of {progress.total} "
            f"done, {progress.left} left (about {progress.calls_left} Xero calls); expected "
            f"to finish {_when(progress.finish_at)}{pause}"
        )
    return lines
