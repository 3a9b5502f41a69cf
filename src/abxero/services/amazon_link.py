"""Connecting Amazon Business: the consent URL, the code exchange and a first access check.

Amazon's consent callback carries only ``code`` and ``state``; nothing in it says which Amazon
Business account consented. So right after the exchange we read one short feed window: it proves
the grant gives data access (a 403 here means the consenting user does not administer every
legal entity), and its records name the account's legal entities, which identify the account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from abxero.amazon import (
    AmazonApi,
    AmazonError,
    NeedsReconnectError,
    StaticToken,
    TransactionFeed,
    consent_url,
)
from abxero.amazon import TokenSet as AmazonTokens
from abxero.runtime import Runtime
from abxero.services.connections import pair_amazon

REGIONS = {"US": "United States (amazon.com)", "UK": "United Kingdom (amazon.co.uk)"}
STORES = {"US": "https://www.amazon.com", "UK": "https://www.amazon.co.uk"}
PROBE_WINDOW = timedelta(days=30)
PROBE_PAGES = 5
NO_ACCESS_REMEDY = (
    "Sign in to Amazon Business with an administrator of all legal entities of the account "
    "(Business Settings → People), then connect again."
)


class AmazonConnectFailed(RuntimeError):
    """The consent did not give a usable connection; ``message`` and ``remedy`` are for users."""

    def __init__(self, message: str, remedy: str) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy


@dataclass(frozen=True)
class AmazonAccount:
    business_id: str
    business_name: str


def amazon_consent_url(runtime: Runtime, region: str, state: str) -> str:
    """The store's consent page for ``region``, coming back to our callback with ``state``."""
    return consent_url(
        runtime.amazon_endpoints(region),
        application_id=runtime.settings.amazon_application_id,
        redirect_uri=runtime.settings.amazon_redirect_uri,
        state=state,
    )


def connect_amazon(runtime: Runtime, connection_id: int, region: str, code: str) -> AmazonAccount:
    """Exchange the consent code, check data access, and pair the account with the organisation.

    Raises :class:`AmazonConnectFailed` or
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
    pair_amazon(runtime, connection_id, region, account.business_id, account.business_name, tokens)
    return account


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
    entities = sorted(
        {
            str(record.raw.get("legalEntityName") or "").strip()
            for page in pages
            for record in page.records
        }
        - {""}
    )
    return account_identity(region, entities, tokens.refresh_token)


def account_identity(region: str, entities: list[str], refresh_token: str) -> AmazonAccount:
    """A stable id from the legal entity names; the grant itself when the feed was empty."""
    if entities:
        digest = hashlib.sha256("\n".join(entities).encode()).hexdigest()[:24]
        return AmazonAccount(f"{region}:entities:{digest}", entities[0])
    digest = hashlib.sha256(refresh_token.encode()).hexdigest()[:24]
    return AmazonAccount(f"{region}:grant:{digest}", f"Amazon Business ({region})")
