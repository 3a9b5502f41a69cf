"""Both simulators on loopback, abxero's runtime on a real database, two organisations paired."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.runtime import Runtime
from abxero.store.db import transaction
from abxero.store.migrate import upgrade
from abxero.store.models import (
    AmazonConnection,
    OutboxDocument,
    SellerContact,
    SourceTransaction,
    XeroConnection,
)
from abxero.sync.mappings import save_mapping
from abxero.xero import Pacer
from abxero_sim.cli import simulator_environment
from abxero_sim.demo import (
    World,
    connect_demo_organisations,
    demo_mapping,
    settings_for,
    simulators,
)
from abxero_sim.xero import LimitSettings

FAST_LIMITS = LimitSettings(
    concurrent=5, per_minute=100_000, per_day=1_000_000, app_per_minute=1_000_000
)
MAIN_ROLES = {"bill", "credit_note", "spend", "receive"}


@dataclass
class Harness:
    world: World
    runtime: Runtime
    connections: dict[str, int]
    data_dir: Path

    def xero_admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.world.xero_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return jsontext.loads(response.content)

    def amazon_admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.world.amazon_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def organisation_state(self, region: str) -> dict[str, Any]:
        tenant = self.tenant_id(region)
        for organisation in self.xero_admin("GET", "/_sim/state")["organisations"]:
            if organisation["tenant_id"] == tenant:
                return dict(organisation)
        raise LookupError(tenant)

    def tenant_id(self, region: str) -> str:
        with self.runtime.sessions() as session:
            return session.get_one(XeroConnection, self.connections[region]).tenant_id

    def map_and_finish(self, region: str, *, leave_unmapped: tuple[str, ...] = ()) -> None:
        connection_id = self.connections[region]
        mapping = demo_mapping(self.runtime, connection_id)
        methods = {k: v for k, v in mapping.payment_methods.items() if k not in leave_unmapped}
        mapping = mapping.model_copy(update={"payment_methods": methods})
        with transaction(self.runtime.sessions) as session:
            save_mapping(session, connection_id, mapping)
            session.get_one(XeroConnection, connection_id).setup_step = "done"

    def sources(self, region: str) -> list[SourceTransaction]:
        with self.runtime.sessions() as session:
            return list(
                session.scalars(
                    select(SourceTransaction).where(
                        SourceTransaction.xero_connection_id == self.connections[region]
                    )
                )
            )

    def documents(self, region: str) -> list[OutboxDocument]:
        with self.runtime.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxDocument).where(
                        OutboxDocument.xero_connection_id == self.connections[region]
                    )
                )
            )


@contextmanager
def running_harness(
    tmp_path: Path,
    database_url: str,
    *,
    seed: int = 11,
    orders_per_day: float = 1.0,
    xero_options: dict[str, Any] | None = None,
) -> Iterator[Harness]:
    options = {"limits": FAST_LIMITS, **(xero_options or {})}
    with simulators(
        seed, xero_options=options, amazon_options={"orders_per_day": orders_per_day}
    ) as world:
        settings = settings_for(world, tmp_path, database_url=database_url)
        upgrade(settings.resolved_database_url)
        runtime = Runtime(settings, pacer=Pacer(per_minute=100_000))
        try:
            ids = connect_demo_organisations(runtime)
            with runtime.sessions() as session:
                regions = {
                    amazon.xero_connection_id: amazon.region
                    for amazon in session.scalars(select(AmazonConnection))
                }
            yield Harness(world, runtime, {regions[i]: i for i in ids}, tmp_path)
        finally:
            runtime.close()


def exactly_once_report(harness: Harness, region: str) -> dict[str, Any]:
    """Compare the ledger with what the Xero simulator holds for our contacts (the default
    one and, when the mapping posts one contact per seller, the sellers')."""
    state = harness.organisation_state(region)
    connection_id = harness.connections[region]
    with harness.runtime.sessions() as session:
        contacts = {session.get_one(XeroConnection, connection_id).contact_id}
        contacts |= set(
            session.scalars(
                select(SellerContact.contact_id).where(
                    SellerContact.xero_connection_id == connection_id
                )
            )
        )
    ours = [
        doc
        for kind in ("invoices", "credit_notes", "bank_transactions")
        for doc in state[kind]
        if doc.get("Contact", {}).get("ContactID") in contacts and doc["Status"] != "DELETED"
    ]
    by_id = {
        doc.get("InvoiceID") or doc.get("CreditNoteID") or doc.get("BankTransactionID"): doc
        for doc in ours
    }
    documents = harness.documents(region)
    sources = {source.transaction_id: source for source in harness.sources(region)}
    main = [d for d in documents if d.role in MAIN_ROLES and d.status == "posted"]
    mismatched = [d.doc_key for d in main if Decimal(str(by_id[d.xero_id]["Total"])) != d.amount]
    per_instrument: dict[str, Decimal] = defaultdict(Decimal)
    xero_per_instrument: dict[str, Decimal] = defaultdict(Decimal)
    for document in main:
        source = sources[document.transaction_id]
        per_instrument[source.instrument_key] += source.amount or Decimal(0)
        sign = -1 if document.role in {"credit_note", "receive"} else 1
        xero_per_instrument[source.instrument_key] += sign * Decimal(
            str(by_id[document.xero_id]["Total"])
        )
    payments = [p for p in state["payments"] if p["Status"] != "DELETED"]
    our_payment_ids = {d.xero_id for d in documents if d.role in {"payment", "refund"}}
    return {
        "xero_documents": len(ours),
        "ledger_documents": len(main),
        "unknown_in_xero": sorted(set(by_id) - {d.xero_id for d in main}),
        "mismatched_totals": mismatched,
        "per_instrument_equal": per_instrument == xero_per_instrument,
        "payments_in_xero": len([p for p in payments if p["PaymentID"] in our_payment_ids]),
        "ledger_payments": len(our_payment_ids),
        "all_payments": len(payments),
        "trial_balance_total": Decimal(str(state["trial_balance"]["total"])),
        "sources_posted": sum(1 for s in sources.values() if s.status == "posted"),
    }


def abxero_environment(harness: Harness) -> dict[str, str]:
    """The variables that point an abxero process (a CLI call, a worker) at this harness: the
    simulators, the database and the data directory."""
    found: dict[str, str] = {}
    for line in simulator_environment(harness.world.xero_url, harness.world.amazon_url):
        name, _, value = line.partition("=")
        found[name] = value
    found["ABXERO_DATABASE_URL"] = harness.runtime.settings.resolved_database_url
    found["ABXERO_DATA_DIR"] = str(harness.data_dir)
    return found
