"""The Amazon Business client: LWA auth, Reconciliation (+ invoice and payment details) and
the Document API.

Clients get their ``httpx.Client`` and base URLs from the caller and read no settings::

    endpoints = endpoints_for("UK")                       # or point the URLs at a simulator
    lwa = LwaClient(http, client_id=..., client_secret=..., token_url=endpoints.token_url)
    tokens = TokenKeeper(lwa, stored_tokens, on_refresh=save_tokens)
    api = AmazonApi(http, endpoints.api_url, tokens)
    for record in TransactionFeed(api).transactions(start, end):
        store(record.raw, record.item, record.position)
"""

from abxero.amazon.api import AmazonApi
from abxero.amazon.auth import (
    AmazonTokens,
    LwaClient,
    StaticToken,
    TokenKeeper,
    TokenSource,
    consent_url,
)
from abxero.amazon.documents import DocumentClient, ReportDocument, ReportStatus, unpack_pdf
from abxero.amazon.errors import (
    AmazonError,
    FatalError,
    NeedsReconnectError,
    RetriableError,
    SkippableRecordError,
)
from abxero.amazon.invoices import (
    InvoiceClient,
    InvoiceInfo,
    InvoicePayment,
    LineInvoices,
    OrderLineRef,
)
from abxero.amazon.regions import LWA_TOKEN_URL, Endpoints, Region, endpoints_for
from abxero.amazon.retry import RetryPolicy
from abxero.amazon.transactions import (
    FeedPosition,
    FetchedTransaction,
    TransactionFeed,
    TransactionPage,
    windows,
)

__all__ = [
    "LWA_TOKEN_URL",
    "AmazonApi",
    "AmazonError",
    "AmazonTokens",
    "DocumentClient",
    "Endpoints",
    "FatalError",
    "FeedPosition",
    "FetchedTransaction",
    "InvoiceClient",
    "InvoiceInfo",
    "InvoicePayment",
    "LineInvoices",
    "LwaClient",
    "NeedsReconnectError",
    "OrderLineRef",
    "Region",
    "ReportDocument",
    "ReportStatus",
    "RetriableError",
    "RetryPolicy",
    "SkippableRecordError",
    "StaticToken",
    "TokenKeeper",
    "TokenSource",
    "TransactionFeed",
    "TransactionPage",
    "consent_url",
    "endpoints_for",
    "unpack_pdf",
    "windows",
]
