"""What ``abxero reconcile`` and ``abxero export`` do, apart from parsing their options."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console
from rich.table import Table

from abxero.domain import jsontext
from abxero.domain.lifecycles import ReconciliationStatus
from abxero.runtime import Runtime
from abxero.services import export, reconcile
from abxero.store.models import ReconciliationResult

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = (
    "record",
    "instrument",
    "currency",
    "amazon_total",
    "xero_total",
    "difference",
    "paid_expected",
    "paid_in_xero",
    "clean",
    "kind",
    "transaction_id",
    "reason",
    "amazon_amount",
    "xero_amount",
    "effect",
    "role",
    "xero_id",
    "xero_status",
    "xero_link",
)
_PLAIN: dict[str, Any] = {"highlight": False, "markup": False, "soft_wrap": True}


def reconcile_all(
    console: Console, runtime: Runtime, ids: list[int], period: reconcile.Period, fmt: str
) -> int:
    """Check each organisation and print the results; the exit code is 0 when every one is
    clean, 1 when one has differences, 2 when one could not be checked."""
    results: list[tuple[int, ReconciliationResult]] = []
    for connection_id in ids:
        results.append((connection_id, reconcile.run_check(runtime, connection_id, period)))
    bodies = {cid: jsontext.loads(row.body) if row.body else {} for cid, row in results}
    if fmt == "json":
        print(jsontext.dumps([_json_entry(cid, row, bodies[cid]) for cid, row in results]))
    elif fmt == "csv":
        print(reconciliation_csv([(cid, bodies[cid]) for cid, _ in results]), end="")
    else:
        for connection_id, row in results:
            _print_table(console, connection_id, row, bodies[connection_id])
    statuses = {row.status for _, row in results}
    failed, gaps = ReconciliationStatus.FAILED, ReconciliationStatus.GAPS
    return 2 if failed in statuses else 1 if gaps in statuses else 0


def _json_entry(connection_id: int, row: ReconciliationResult, body: Any) -> dict[str, Any]:
    return {"organisation": connection_id, "status": row.status, "error": row.error, **body}


def reconciliation_csv(entries: list[tuple[int, Any]]) -> str:
    """One row per instrument line and one per difference, under ``CSV_COLUMNS``."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=("organisation", *CSV_COLUMNS), lineterminator="\r\n", restval=""
    )
    writer.writeheader()
    for connection_id, body in entries:
        for line in body.get("instruments", []):
            writer.writerow(_csv_row(connection_id, "instrument", line))
        for difference in body.get("differences", []):
            writer.writerow(_csv_row(connection_id, "difference", difference))
    return out.getvalue()


def _csv_row(connection_id: int, record: str, values: dict[str, Any]) -> dict[str, str]:
    row = {"organisation": str(connection_id), "record": record}
    for column in CSV_COLUMNS[1:]:
        if column in values and values[column] is not None:
            value = values[column]
            row[column] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return row


def _print_table(
    console: Console, connection_id: int, row: ReconciliationResult, body: Any
) -> None:
    label = f"organisation {connection_id}, {row.since} to {row.until}"
    if row.status == ReconciliationStatus.FAILED:
        console.print(f"{label}: could not be checked: {row.error}", **_PLAIN)
        return
    table = Table(
        title=f"{label}: {'clean' if row.status == ReconciliationStatus.CLEAN else 'differences'}"
    )
    for heading in ("Instrument", "Currency", "Amazon", "Xero", "Difference", "Paid", "Status"):
        table.add_column(heading)
    for line in body["instruments"]:
        table.add_row(
            line["instrument"],
            line["currency"],
            str(line["amazon_total"]),
            str(line["xero_total"]),
            str(line["difference"]),
            f"{line['paid_in_xero']} of {line['paid_expected']}",
            "ok" if line["clean"] else "GAP",
        )
    console.print(table)
    for difference in body["differences"]:
        where = f" {difference['xero_link']}" if difference["xero_link"] else ""
        console.print(
            f"  {difference['kind']}: {difference['instrument']} {difference['currency']} "
            f"{difference['transaction_id'] or difference['xero_id']}: {difference['reason']}"
            f"{where}",
            **_PLAIN,
        )


def export_all(runtime: Runtime, ids: list[int], period: reconcile.Period, fmt: str) -> str:
    """The export of each organisation; CSV has one header for all of them."""
    with runtime.sessions() as session:
        exports = [export.build_export(session, cid, period) for cid in ids]
    if fmt == "json":
        if len(exports) == 1:
            return export.as_json(exports[0])
        return "[" + ",".join(export.as_json(e).rstrip("\n") for e in exports) + "]\n"
    merged = export.Export("", "", period.since.isoformat(), period.until.isoformat(), [])
    for each in exports:
        merged.rows.extend(each.rows)
    return export.as_csv(merged)
