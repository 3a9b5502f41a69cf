"""What ``abxero rollback`` does and prints: a preview with counts and totals, the documents
kept in Xero with the reason, then (without ``--dry-run``) the rollback itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from abxero.domain.lifecycles import RollbackActionStatus
from abxero.runtime import Runtime
from abxero.services import rollback
from abxero.sync.rollback import Summary

_PLAIN: dict[str, Any] = {"highlight": False, "markup": False, "soft_wrap": True}
ACTION_NAMES = {
    "void": "bills and credit notes voided",
    "delete": "documents deleted (drafts, spend/receive money)",
    "delete_payment": "payments removed",
    "remove_allocation": "credit note allocations removed",
    "already_gone": "already voided or deleted in Xero",
}


def summary_table(summary: Summary, title: str) -> Table:
    """Counts and totals per action and currency."""
    table = Table(title=title)
    for column in ("what", "count", "total"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for action, count in sorted(summary.counts.items()):
        totals = [
            f"{amount:,.2f} {key.split(' ')[1]}"
            for key, amount in sorted(summary.totals.items())
            if key.split(" ")[0] == action
        ]
        table.add_row(ACTION_NAMES.get(action, action), str(count), ", ".join(totals))
    return table


def kept_lines(summary: Summary) -> list[str]:
    """One line per document kept in Xero, with the reason."""
    return [
        f"kept: {line.role} {line.xero_id} of transaction {line.transaction_id} "
        f"({line.amount:,.2f} {line.currency}): {line.reason}"
        for line in summary.kept
    ]


Chooser = Callable[[Runtime, int], Summary]
"""Makes the preview of one organisation's rollback."""


def for_period(start: datetime, end: datetime) -> Chooser:
    """The rollback of the transactions dated in ``[start, end)``."""
    return lambda runtime, connection_id: rollback.preview(runtime, connection_id, start, end)


def for_run(run_id: int) -> Chooser:
    """The rollback of what import run ``run_id`` read."""
    return lambda runtime, connection_id: rollback.preview_run(runtime, connection_id, run_id)


def run_rollback(
    console: Console,
    runtime: Runtime,
    connection_ids: list[int],
    choose: Chooser,
    dry_run: bool,
) -> bool:
    """Preview (and unless ``dry_run`` carry out) the rollback for each organisation; an
    interrupted rollback is finished first. True when nothing failed."""
    all_ok = True
    for connection_id in connection_ids:
        label = f"organisation {connection_id}"
        try:
            all_ok = _one(console, runtime, connection_id, label, choose, dry_run) and all_ok
        except rollback.LeaseBusy:
            console.print(f"{label}: a sync is running; try again when it has finished.", **_PLAIN)
            all_ok = False
        except rollback.NotThisOrganisation:
            console.print(f"{label}: that import run is not this organisation's", **_PLAIN)
            all_ok = False
        except (rollback.RollbackBlocked, rollback.SideError) as problem:
            console.print(f"{label}: {problem}", **_PLAIN)
            all_ok = False
    return all_ok


def _one(
    console: Console,
    runtime: Runtime,
    connection_id: int,
    label: str,
    choose: Chooser,
    dry_run: bool,
) -> bool:
    waiting = rollback.unfinished(runtime.sessions, connection_id)
    if waiting is not None and not dry_run:
        console.print(f"{label}: finishing interrupted rollback {waiting} first", **_PLAIN)
        _show(console, rollback.carry_out(runtime, connection_id, waiting), label, "finished")
    preview = choose(runtime, connection_id)
    _show(console, preview, label, "would remove" if dry_run else "removing")
    if dry_run:
        return True
    done = rollback.carry_out(runtime, connection_id, preview.rollback_id)
    _show(console, done, label, "removed")
    return not any(line.status == RollbackActionStatus.FAILED for line in done.kept)


def _show(console: Console, summary: Summary, label: str, verb: str) -> None:
    period = f"{summary.range_start:%Y-%m-%d} to {summary.range_end:%Y-%m-%d}"
    title = f"{label}: rollback {summary.rollback_id} of {period}, {verb}"
    console.print(summary_table(summary, title))
    for line in kept_lines(summary):
        console.print(line, **_PLAIN)
