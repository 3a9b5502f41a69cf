"""The ``abxero`` command line."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from abxero import __version__
from abxero.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from abxero.runtime import Runtime

app = typer.Typer(
    help="Amazon Business purchases posted in Xero, exactly once.", no_args_is_help=True
)
db_app = typer.Typer(help="The database: schema and keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as problem:
        console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2) from problem
    from abxero.logs import configure_from

    configure_from(settings)
    return settings


@app.command()
def version() -> None:
    """Print the abxero version."""
    console.print(f"abxero {__version__}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from abxero.store.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.resolved_database_url)
    console.print(f"schema is up to date at {_display_url(settings.resolved_database_url)}")


@db_app.command("rotate-keys")
def db_rotate_keys() -> None:
    """Re-encrypt every stored token under the first key of ABXERO_SECRET_KEY."""
    from abxero.store.crypto import TokenCipher
    from abxero.store.db import make_engine, session_factory, transaction
    from abxero.store.tokens import rotate_all

    settings = settings_or_exit()
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    cipher = TokenCipher.from_secret(secret, settings.key_file)
    engine = make_engine(settings.resolved_database_url)
    with transaction(session_factory(engine)) as session:
        count = rotate_all(session, cipher)
    engine.dispose()
    console.print(f"re-encrypted {count} token sets under the newest key")


def runtime_or_exit() -> Runtime:
    """The runtime, on a database whose schema is current (see ``prepare_schema``)."""
    from sqlalchemy.exc import OperationalError

    from abxero.commands import SchemaNotReady, prepare_schema
    from abxero.runtime import Runtime

    settings = settings_or_exit()
    shown = _display_url(settings.resolved_database_url)
    try:
        note = prepare_schema(settings.resolved_database_url, shown)
    except SchemaNotReady as problem:
        console.print(str(problem), style="red", highlight=False, markup=False)
        raise typer.Exit(2) from problem
    except OperationalError as problem:
        console.print(
            f"Cannot open the database at {shown}: {problem.orig}. Check ABXERO_DATABASE_URL "
            "(or ABXERO_DATA_DIR for the default SQLite file).",
            style="red",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(2) from problem
    if note:
        console.print(note, highlight=False, markup=False)
    return Runtime(settings)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the web app (run `abxero worker` beside it for the background jobs)."""
    from abxero.web.server import serve as serve_app

    serve_app(settings_or_exit(), host, port)


@app.command()
def sync(
    organisation: int | None = typer.Option(None, help="Only this organisation id."),
) -> None:
    """Sync every connected organisation now (fetch, plan, post)."""
    from abxero.commands import ready_connections, run_each

    runtime = runtime_or_exit()
    ids = ready_connections(runtime, organisation)
    all_ok = run_each(console, runtime, ids, lambda engine: engine.sync())
    runtime.close()
    if not all_ok:
        raise typer.Exit(1)


@app.command(name="import")
def import_range(
    since: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="First day (UTC)."),
    until: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="Last day (UTC), inclusive."),
    organisation: int | None = typer.Option(None, help="Only this organisation id."),
    yes: bool = typer.Option(
        False, "--yes", help="Start a range of more than 90 days without asking."
    ),
) -> None:
    """Import a date range of Amazon transactions; nothing already in Xero is posted again.

    First shows, per organisation, the Xero calls the range should take and how long; a range
    of more than 90 days (up to two years) asks before it starts unless --yes is given."""
    from datetime import UTC, timedelta

    from abxero.commands import estimate_line, ready_connections, run_each
    from abxero.services import setup

    start = since.replace(tzinfo=UTC)
    end = until.replace(tzinfo=UTC) + timedelta(days=1)
    if end <= start:
        console.print("[red]--until must not be before --since[/red]")
        raise typer.Exit(2)
    runtime = runtime_or_exit()
    if since.date() < setup.earliest_import_day(runtime.now().date()):
        console.print(f"[red]abxero imports at most {setup.MAX_IMPORT_DAYS} days back[/red]")
        runtime.close()
        raise typer.Exit(2)
    ids = ready_connections(runtime, organisation)
    chosen = setup.ImportRange(since.date(), until.date())
    for identifier in ids:
        estimate = setup.import_estimate(runtime.sessions, identifier, chosen, runtime.now())
        console.print(estimate_line(f"Organisation {identifier}", estimate), highlight=False)
    if setup.needs_confirmation(chosen) and not yes and not typer.confirm("Start the import?"):
        runtime.close()
        raise typer.Exit(1)
    all_ok = run_each(console, runtime, ids, lambda engine: engine.import_range(start, end))
    runtime.close()
    if not all_ok:
        raise typer.Exit(1)


@app.command()
def rollback(
    since: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="First day (UTC)."),
    until: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Last day (UTC), inclusive."
    ),
    run: int | None = typer.Option(None, help="Instead of a period: what this import run read."),
    dry_run: bool = typer.Option(False, help="Only show what would be removed from Xero."),
    organisation: int | None = typer.Option(None, help="Only this organisation id."),
) -> None:
    """Take what abxero posted for the period (or one import run) back out of Xero; reconciled
    items stay. A later import of the period posts it again, once."""
    from datetime import UTC, timedelta

    from abxero.commands import ready_connections
    from abxero.rollback_commands import for_period, for_run, run_rollback

    if run is not None:
        choose = for_run(run)
    elif since is not None and until is not None:
        start = since.replace(tzinfo=UTC)
        end = until.replace(tzinfo=UTC) + timedelta(days=1)
        if end <= start:
            console.print("[red]--until must not be before --since[/red]")
            raise typer.Exit(2)
        choose = for_period(start, end)
    else:
        console.print("[red]give --since and --until, or --run[/red]")
        raise typer.Exit(2)
    runtime = runtime_or_exit()
    ids = ready_connections(runtime, organisation)
    all_ok = run_rollback(console, runtime, ids, choose, dry_run)
    runtime.close()
    if not all_ok:
        raise typer.Exit(1)


@app.command()
def status() -> None:
    """Show every organisation: setup, last and next sync, ledger counts, a sync in progress
    and batches waiting to be reconciled."""
    from abxero.commands import (
        activity_lines,
        failure_lines,
        organisation_statuses,
        posting_lines,
        status_table,
    )

    runtime = runtime_or_exit()
    statuses = organisation_statuses(runtime)
    console.print(status_table(statuses))
    for line in [*activity_lines(statuses, runtime.now()), *posting_lines(runtime, statuses)]:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    for line in failure_lines(statuses):
        console.print(line, highlight=False, markup=False)
    runtime.close()


def _period_or_exit(since: datetime, until: datetime) -> Any:
    from abxero.services.reconcile import Period

    if until < since:
        console.print("[red]--until must not be before --since[/red]")
        raise typer.Exit(2)
    return Period(since.date(), until.date())


@app.command()
def reconcile(
    since: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="First day (UTC)."),
    until: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="Last day (UTC), inclusive."),
    organisation: int | None = typer.Option(None, help="Only this organisation id."),
    format: str = typer.Option("table", help="table, csv or json."),
) -> None:
    """Check that Xero holds what Amazon charged, per payment method; name every difference.
    Exits 0 when clean, 1 on differences, 2 when Xero could not be read."""
    from abxero.check_commands import FORMATS, reconcile_all
    from abxero.commands import ready_connections

    if format not in FORMATS:
        console.print(f"[red]--format must be one of {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    period = _period_or_exit(since, until)
    runtime = runtime_or_exit()
    code = reconcile_all(console, runtime, ready_connections(runtime, organisation), period, format)
    runtime.close()
    raise typer.Exit(code)


@app.command()
def export(
    since: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="First day (UTC)."),
    until: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="Last day (UTC), inclusive."),
    organisation: int | None = typer.Option(None, help="Only this organisation id."),
    format: str = typer.Option("csv", help="csv or json (columns: docs/export.md)."),
    output: Path | None = typer.Option(None, help="Write to this file instead of stdout."),
) -> None:
    """Everything abxero posted or holds for a period, with Amazon and Xero ids and links."""
    from abxero.check_commands import export_all
    from abxero.commands import ready_connections

    if format not in ("csv", "json"):
        console.print("[red]--format must be csv or json[/red]")
        raise typer.Exit(2)
    period = _period_or_exit(since, until)
    runtime = runtime_or_exit()
    text = export_all(runtime, ready_connections(runtime, organisation), period, format)
    runtime.close()
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8", newline="")


@app.command()
def worker(
    periodic: bool = typer.Option(True, help="Also run the every-minute scheduler."),
    workers: int = typer.Option(2, min=1, help="Threads for syncs, imports and posts."),
    pdf_workers: int = typer.Option(1, min=1, help="Threads for invoice PDFs (their own lane)."),
) -> None:
    """Run a queue consumer (the scheduler too, unless --no-periodic)."""
    from abxero.jobs.worker import run_worker

    run_worker(settings_or_exit(), periodic=periodic, workers=workers, pdf_workers=pdf_workers)


def _display_url(url: str) -> str:
    """``url`` without a password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


EXTRA_COMMANDS = "abxero.cli"
# Where the simulators' distribution (sim/pyproject.toml) lives when its source is on the path
# but the environment was never told about it (no entry point): a checkout run with
# PYTHONPATH=src. Looked up by name at run time only; nothing here imports it.
SIMULATOR_COMMANDS = EntryPoint("simulators", "abxero_sim.cli:register", EXTRA_COMMANDS)


def load_extra_commands(target: typer.Typer) -> None:
    """Add the commands other installed distributions register in the ``abxero.cli`` group
    (``abxero demo`` and ``abxero simulators`` come from abxero-sim, see README)."""
    found = list(entry_points(group=EXTRA_COMMANDS))
    if not any(point.value == SIMULATOR_COMMANDS.value for point in found):
        module = SIMULATOR_COMMANDS.module
        if find_spec(module.partition(".")[0]) is not None and find_spec(module) is not None:
            found.append(SIMULATOR_COMMANDS)
    for point in found:
        point.load()(target)


load_extra_commands(app)

if __name__ == "__main__":  # pragma: no cover
    app()
