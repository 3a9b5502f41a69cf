"""Connecting Amazon Business: the consent URL, the code exchange and a first access check.

Amazon's consent callback carries only ``code`` and ``state``; nothing in it says which Amazon
Business account consented. So right after the exchange we read the last 30 days of the feed
from their start (up to ``PROBE_PAGES`` pages): it proves the grant gives data access (a 403
here means the consenting user does not administer every legal entity), and its records carry
what Amazon ties to the account:
every legal entity name (``legalEntityName``) and the ids of the buyer and payer customers
(``Transaction.buyer.id``, ``Transaction.payer.id``, the ``Customer`` model of the
Reconciliation API 2021-01-08). Each becomes an account key; a key belongs to one pairing only,
so the same account is recognised however the feed is paged: two readings of the same
window from the same start share at least their first record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from abxero.amazon import (
    AmazonApi,
    AmazonError,
    AmazonTokens,
    NeedsReconnectError,
    StaticToken,
    TransactionFeed,
    consent_url,
)
from abxero.domain.amazon_fit import FeedFacts, account_mismatch, feed_facts
from abxero.runtime import Runtime
from abxero.services.connections import pair_amazon, refuse_if_paired_elsewhere

REGIONS = {"US": "United States (amazon.com)", "UK": "United Kingdom (amazon.co.uk)"}
STORES = {"US": "https://www.amazon.com", "UK": "https://www.amazon.co.uk"}
PROBE_WINDOW = timedelta(days=30)
PROBE_PAGES = 20
NO_ACCESS_REMEDY = (
    "Sign in to Amazon Business with an administrator of all legal entities of the account "
    "(Business Settings → People), then connect again."
)


class AmazonConnectFailed(RuntimeError):
    """The consent did not give a usable connection; ``message`` and ``remedy`` are for users."""

    title = "Amazon Business was not connected"

    def __init__(self, message: str, remedy: str) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy


class AccountDoesNotFit(AmazonConnectFailed):
    """The account buys on another store or in another currency than the organisation keeps."""

    title = "This Amazon Business account does not fit this organisation"


@dataclass(frozen=True)
class AmazonAccount:
    business_id: str
    business_name: str
    keys: frozenset[str] = field(default_factory=frozenset)
    facts: FeedFacts = field(default_factory=lambda: FeedFacts(frozenset(), frozenset(), ""))


@dataclass(frozen=True)
class Organisation:
    """What the fit check needs of the Xero organisation."""

    name: str
    base_currency: str


def amazon_consent_url(runtime: Runtime, region: str, state: str) -> str:
    """The store's consent page for ``region``, coming back to our callback with ``state``."""
    return consent_url(
        runtime.amazon_endpoints(region),
        application_id=runtime.settings.amazon_application_id,
        redirect_uri=runtime.settings.amazon_redirect_uri,
        state=state,
    )


def connect_amazon(
    runtime: Runtime,
    connection_id: int,
    region: str,
    code: str,
    viewer: int | None = None,
    organisation: Organisation | None = None,
) -> AmazonAccount:
    """Exchange the consent code, check data access and that the account fits the store and
    ``organisation``, then pair the account with the organisation.

    Raises :class:`AmazonConnectFailed` (:class:`AccountDoesNotFit` for a mismatch) or
    :class:`~abxero.services.connections.AlreadyPaired`.
    """
    try:
        tokens = runtime.lwa(region).exchange_code(code, runtime.settings.amazon_redirect_uri)
    except AmazonError as problem:
        raise AmazonConnectFailed(
            "Amazon did not accept the connection (the sign-in may have expired).",
            "Connect again; if it keeps failing, check the Amazon settings of this installation.",
        ) from problem
    account = identify_account(runtime, region, tokens)
    if organisation is not None:
        refuse_if_paired_elsewhere(
            runtime.sessions, connection_id, account.business_id, account.keys, viewer
        )
        check_fit(runtime, region, account, organisation)
    pair_amazon(
        runtime,
        connection_id,
        region,
        account.business_id,
        account.business_name,
        tokens,
        keys=account.keys,
        viewer=viewer,
    )
    return account


def check_fit(
    runtime: Runtime, region: str, account: AmazonAccount, organisation: Organisation
) -> None:
    """Refuse, before anything is stored or imported, an account of another store or currency."""
    regions = {runtime.amazon_endpoints(key).marketplace_id: key for key in REGIONS}
    mismatch = account_mismatch(
        account.facts,
        region=region,
        marketplace_id=runtime.amazon_endpoints(region).marketplace_id,
        marketplace_regions=regions,
        organisation=organisation.name,
        base_currency=organisation.base_currency,
    )
    if mismatch is not None:
        raise AccountDoesNotFit(mismatch.message, mismatch.remedy)


def identify_account(runtime: Runtime, region: str, tokens: AmazonTokens) -> AmazonAccount:
    """Read one recent feed window; name the account after the legal entities it lists."""
    api = AmazonApi(
        runtime.http, runtime.amazon_endpoints(region).api_url, StaticToken(tokens.access_token)
    )
    end = runtime.now().replace(microsecond=0)
    try:
        pages = list(islice(TransactionFeed(api).pages(end - PROBE_WINDOW, end), PROBE_PAGES))
    except NeedsReconnectError as problem:
        raise AmazonConnectFailed(
            "Amazon Business gave this connection no access to purchase data (403).",
            NO_ACCESS_REMEDY,
        ) from problem
    except AmazonError as problem:
        raise AmazonConnectFailed(
            "Amazon Business did not answer the first request.",
            "Wait a minute and connect again.",
        ) from problem
    records = [record.raw for page in pages for record in page.records]
    return account_identity(region, records, tokens.refresh_token)


def account_keys(region: str, records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """What Amazon ties to the account in these records: legal entities, buyer and payer ids."""
    keys: set[str] = set()
    for record in records:
        entity = _text(record.get("legalEntityName")).casefold()
        if entity:
            keys.add(_key(region, "entity", entity))
        for role in ("buyer", "payer"):
            customer = record.get(role)
            ident = _text(customer.get("id")) if isinstance(customer, Mapping) else ""
            if ident:
                keys.add(_key(region, role, ident))
    return frozenset(keys)


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _key(region: str, kind: str, value: str) -> str:
    """A fixed-length key (the column holds 128 characters, Amazon's values may not fit)."""
    return f"{region}:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:48]


def account_identity(
    region: str, records: list[Mapping[str, Any]], refresh_token: str
) -> AmazonAccount:
    """The account's keys, its business name (see :func:`abxero.domain.amazon_fit.business_name`)
    and what its records say about store and currency; the grant itself names it when the feed
    is empty."""
    keys = account_keys(region, records)
    facts = feed_facts(records)
    if keys:
        digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:24]
        return AmazonAccount(f"{region}:keys:{digest}", facts.name[:200], keys, facts)
    digest = hashlib.sha256(refresh_token.encode()).hexdigest()[:24]
    return AmazonAccount(f"{region}:grant:{digest}", f"Amazon Business ({region})", facts=facts)
