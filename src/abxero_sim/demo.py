"""The demo world: both simulators on loopback, two organisations connected like a person would.

``run_headless`` does the whole journey without a browser — it signs in with Xero and consents
on Amazon by fetching the simulators' real pages and submitting their forms — then imports 90
days, syncs, and measures what landed in Xero against what Amazon charged.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from abxero.domain import jsontext
from abxero.domain.defaults import default_mapping
from abxero.domain.lifecycles import DocumentStatus, SetupStep, SourceStatus
from abxero.domain.mapping import AccountPayment, MappingConfig
from abxero.domain.transactions import Instrument
from abxero.runtime import Runtime
from abxero.services.amazon_link import amazon_consent_url, connect_amazon
from abxero.services.connections import organisations_for
from abxero.services.setup import organisation_context
from abxero.services.signin import complete_sign_in, sign_in_request
from abxero.settings import Settings, load_settings
from abxero.store.db import transaction
from abxero.store.migrate import upgrade
from abxero.store.models import AmazonConnection, OutboxDocument, SourceTransaction, XeroConnection
from abxero.sync.engine import SyncReport
from abxero.sync.mappings import save_mapping
from abxero.web.serving import ServedApp, start_server
from abxero_sim import amazon as amazon_sim
from abxero_sim import xero as xero_sim
from abxero_sim.forms import submit

IMPORT_DAYS = 90
PAIRS = (("Demo Company (US)", "US", "us-acme"), ("Demo Company (UK)", "UK", "uk-harbour"))
SIM_XERO_CLIENT = ("abxero-sim-client", "abxero-sim-secret")


@dataclass(frozen=True)
class World:
    xero_url: str
    amazon_url: str


@contextmanager
def simulators(
    seed: int,
    host: str = "127.0.0.1",
    xero_port: int = 0,
    amazon_port: int = 0,
    *,
    xero_options: dict[str, Any] | None = None,
    amazon_options: dict[str, Any] | None = None,
    with_specs: bool = True,
) -> Iterator[World]:
    """Both simulators (with their admin routes) on loopback for the life of the block.

    ``with_specs`` False serves them without the published API descriptions (no OpenAPI
    validation, no static sandbox samples); the command line chooses it only after saying so.
    """
    servers: list[ServedApp] = []
    xero_extra: dict[str, Any] = {} if with_specs else {"validate_spec": False}
    amazon_extra: dict[str, Any] = {} if with_specs else {"specs_dir": None}
    xero_extra.update(xero_options or {})
    amazon_extra.update(amazon_options or {})
    xero_app = xero_sim.create_app(seed=seed, admin=True, **xero_extra)
    amazon_app = amazon_sim.create_app(seed, admin=True, **amazon_extra)
    try:
        servers.append(start_server(xero_app, host, xero_port))
        servers.append(start_server(amazon_app, host, amazon_port))
        yield World(servers[0].url, servers[1].url)
    finally:
        for server in servers:
            server.stop()


def settings_for(world: World, data_dir: Path, **extra: Any) -> Settings:
    """Settings that point every outside URL at the simulators."""
    return load_settings(
        data_dir=data_dir,
        xero_client_id=SIM_XERO_CLIENT[0],
        xero_client_secret=SIM_XERO_CLIENT[1],
        xero_login_url=world.xero_url,
        xero_identity_url=world.xero_url,
        xero_api_url=world.xero_url,
        amazon_application_id=amazon_sim.DEFAULT_APPLICATION_ID,
        amazon_client_id=amazon_sim.DEFAULT_CLIENT_ID,
        amazon_client_secret=amazon_sim.DEFAULT_CLIENT_SECRET,
        amazon_consent_url_us=world.amazon_url,
        amazon_consent_url_uk=world.amazon_url,
        amazon_token_url=f"{world.amazon_url}/auth/o2/token",
        amazon_api_url_na=world.amazon_url,
        amazon_api_url_eu=world.amazon_url,
        **extra,
    )


def running_world(settings: Settings) -> World | None:
    """The simulators the settings already point at, if they do."""
    if settings.xero_api_url == "https://api.xero.com":
        return None
    return World(settings.xero_api_url, settings.amazon_api_url_na)


def demo_data_dir(settings: Settings) -> Path:
    """Where the demo keeps its world: a sub-folder, so it never touches a real ledger."""
    return settings.data_dir / "demo"


def fresh_data_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# -- connecting, the way a browser would ------------------------------------------------------


def sign_in_with_xero(runtime: Runtime, browser: httpx.Client) -> int:
    """Consent on the Xero simulator's page for every organisation; returns the user id."""
    request = sign_in_request(runtime)
    page = browser.get(request.url)
    page.raise_for_status()
    query = _redirect_query(submit(browser, page, button="allow"))
    if query.get("state") != request.state:
        raise RuntimeError("the Xero simulator returned another state")
    return complete_sign_in(runtime, query["code"], request.code_verifier, request.nonce).user_id


def consent_on_amazon(
    runtime: Runtime, browser: httpx.Client, connection_id: int, region: str, business_id: str
) -> None:
    """Choose ``business_id`` on the Amazon simulator's consent page and pair it."""
    state = f"demo-{connection_id}"
    page = browser.get(amazon_consent_url(runtime, region, state))
    page.raise_for_status()
    choice = {"business_id": business_id}
    query = _redirect_query(submit(browser, page, button="allow", choose=choice))
    if query.get("state") != state or "code" not in query:
        raise RuntimeError(f"Amazon consent failed: {query}")
    connect_amazon(runtime, connection_id, region, query["code"])


def _redirect_query(response: httpx.Response) -> dict[str, str]:
    if response.status_code not in (302, 303):
        raise RuntimeError(
            f"expected a redirect, got {response.status_code}: {response.text[:200]}"
        )
    location = response.headers["location"]
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


# -- mapping and summary ---------------------------------------------------------------------


def demo_mapping(runtime: Runtime, connection_id: int) -> MappingConfig:
    """The suggested defaults, with every card spread over the organisation's card accounts."""
    with runtime.sessions() as session:
        keys = session.scalars(
            select(SourceTransaction.instrument_key)
            .where(SourceTransaction.xero_connection_id == connection_id)
            .distinct()
        ).all()
    instruments = [Instrument.from_key(key) for key in keys if key]
    context = organisation_context(runtime, connection_id)
    mapping = default_mapping(context, instruments)
    cards = [account for account in context.accounts if account.is_active and account.is_bank]
    card_accounts = [a for a in cards if "CREDIT" in (a.bank_account_type or "").upper()] or cards
    methods = dict(mapping.payment_methods)
    for index, instrument in enumerate(i for i in instruments if not i.looks_like_pay_by_invoice):
        if instrument.key not in methods and card_accounts:
            account = card_accounts[index % len(card_accounts)]
            methods[instrument.key] = AccountPayment(account=account.code or account.account_id)
    return mapping.model_copy(update={"payment_methods": methods})


def ledger_summary(runtime: Runtime, connection_id: int) -> dict[str, Any]:
    """Everything Amazon sent (the source table) against what Xero holds, for one organisation.

    ``amazon_total`` is every stored record, signed as the books see it (refunds negative, read
    from the raw JSON whatever sign Amazon used); ``posted_total``, ``held_total``,
    ``quarantined_total`` and ``skipped_total`` split it by status. ``unaccounted`` counts records
    whose amount cannot be read or that are still on their way. ``totals_match`` is true only
    when every cent is accounted for, nothing is held or quarantined, and Xero holds exactly what
    was posted - so it equals Amazon's total.
    """
    with runtime.sessions() as session:
        sources = session.scalars(
            select(SourceTransaction).where(SourceTransaction.xero_connection_id == connection_id)
        ).all()
        documents = session.scalars(
            select(OutboxDocument).where(OutboxDocument.xero_connection_id == connection_id)
        ).all()
        organisation = session.get_one(XeroConnection, connection_id)
        region = session.scalars(
            select(AmazonConnection.region).where(
                AmazonConnection.xero_connection_id == connection_id
            )
        ).first()
    amazon = amazon_side(sources)
    xero_total, duplicates = _xero_side(runtime, connection_id, organisation.contact_id)
    return {
        "organisation": organisation.tenant_name,
        "region": region or "",
        "fetched": len(sources),
        "documents_posted": sum(
            1 for document in documents if document.status == DocumentStatus.POSTED
        ),
        "documents_failed": sum(
            1 for document in documents if document.status == DocumentStatus.FAILED
        ),
        **amazon.counts(),
        "duplicates": duplicates,
        "currency": amazon.currency,
        "xero_total": str(xero_total),
        "totals_match": amazon.matches(xero_total),
    }


SUMMED_STATUSES = (
    SourceStatus.POSTED,
    SourceStatus.HELD,
    SourceStatus.QUARANTINED,
    SourceStatus.SKIPPED,
)


@dataclass
class AmazonSide:
    """What Amazon sent, split by what became of it."""

    totals: dict[str, Decimal]
    counts_by_status: dict[str, int]
    unaccounted: int
    currency: str

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), Decimal(0))

    def counts(self) -> dict[str, Any]:
        return {
            **{status: self.counts_by_status[status] for status in SUMMED_STATUSES[1:]},
            "unaccounted": self.unaccounted,
            "amazon_total": str(self.total),
            **{f"{status}_total": str(self.totals[status]) for status in SUMMED_STATUSES},
        }

    def matches(self, xero_total: Decimal) -> bool:
        return (
            self.unaccounted == 0
            and self.counts_by_status[SourceStatus.HELD] == 0
            and self.counts_by_status[SourceStatus.QUARANTINED] == 0
            and xero_total == self.totals[SourceStatus.POSTED] == self.total
        )


def amazon_side(sources: Sequence[SourceTransaction]) -> AmazonSide:
    """Sum the stored records by status, reading each amount from its raw JSON."""
    side = AmazonSide(
        {status: Decimal(0) for status in SUMMED_STATUSES},
        dict.fromkeys(SUMMED_STATUSES, 0),
        0,
        "",
    )
    for source in sources:
        amount, currency = signed_amount(source.raw)
        side.currency = side.currency or currency or source.currency
        if amount is None or source.status not in SUMMED_STATUSES:
            side.unaccounted += 1
            continue
        side.totals[source.status] += amount
        side.counts_by_status[source.status] += 1
    return side


def signed_amount(raw: str) -> tuple[Decimal | None, str]:
    """A stored record's amount as the books see it (refunds negative) and its currency."""
    try:
        record = jsontext.loads(raw)
        money = record["amount"]
        amount = Decimal(str(money["amount"]).strip())
        kind = str(record.get("transactionType", "")).strip().upper()
        currency = money.get("currencyCode")
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError):
        return None, ""
    if not amount.is_finite():
        return None, ""
    signed = -abs(amount) if kind in {"REFUND", "OVERREFUND"} else amount
    return signed, currency if isinstance(currency, str) else ""


def _xero_side(runtime: Runtime, connection_id: int, contact_id: str) -> tuple[Decimal, int]:
    """What Xero holds for the Amazon Business contact: signed total and duplicate count."""
    api = runtime.xero_api(connection_id)
    total, seen, duplicates = Decimal(0), set(), 0
    signs = {"ACCPAY": 1, "ACCPAYCREDIT": -1, "SPEND": 1, "RECEIVE": -1}
    for kind in ("Invoices", "CreditNotes", "BankTransactions"):
        for document in api.find_documents(kind, contact_ids=[contact_id]):
            if document.status in {"DELETED", "VOIDED"} or document.type not in signs:
                continue
            identity = (kind, document.number or document.reference, document.total, document.date)
            duplicates += identity in seen
            seen.add(identity)
            total += signs[document.type] * document.total
    return total, duplicates


# -- the whole thing ---------------------------------------------------------------------------


def connect_demo_organisations(runtime: Runtime) -> list[int]:
    """Sign in, then pair each demo organisation with its Amazon Business account."""
    with httpx.Client(timeout=30) as browser:
        user_id = sign_in_with_xero(runtime, browser)
        with runtime.sessions() as session:
            organisations = {
                org.name: org.connection_id for org in organisations_for(session, user_id)
            }
        connected = []
        for name, region, business_id in PAIRS:
            consent_on_amazon(runtime, browser, organisations[name], region, business_id)
            connected.append(organisations[name])
    return connected


def import_and_post(runtime: Runtime, connection_id: int) -> SyncReport:
    """The wizard's path: import history, map, finish (post), then one incremental sync."""
    end = runtime.now()
    runtime.engine_for(connection_id).import_range(end - timedelta(days=IMPORT_DAYS), end)
    mapping = demo_mapping(runtime, connection_id)
    with transaction(runtime.sessions) as session:
        save_mapping(session, connection_id, mapping)
        session.get_one(XeroConnection, connection_id).setup_step = SetupStep.DONE
    runtime.engine_for(connection_id).post_pending()
    return runtime.engine_for(connection_id).sync()


def run_headless(
    settings: Settings | None = None, seed: int = 7, *, with_specs: bool = True
) -> list[dict[str, Any]]:
    """The demo without a browser; returns one summary per organisation."""
    base = settings or load_settings()
    with ExitStack() as stack:
        world = running_world(base)
        if world is None:
            world = stack.enter_context(simulators(seed, with_specs=with_specs))
        data_dir = fresh_data_dir(demo_data_dir(base))
        runtime = Runtime(settings_for(world, data_dir))
        stack.callback(runtime.close)
        upgrade(runtime.settings.resolved_database_url)
        summaries = []
        for connection_id in connect_demo_organisations(runtime):
            import_and_post(runtime, connection_id)
            summaries.append(ledger_summary(runtime, connection_id))
        return summaries
