"""Our thin client for Xero: identity (OAuth2 + OIDC) and the Accounting API, on httpx.

Build it from an ``httpx.Client`` and base URLs (real Xero by default, the simulator in tests)::

    auth = XeroAuth(http, client_id, client_secret, redirect_uri,
                    login_url=..., identity_url=..., api_url=...)
    tokens = TokenManager(auth, load=..., save=..., lock=...)
    api = connect_accounting(http, tenant_id, tokens, api_url=..., pacer=shared_pacer)
"""

from __future__ import annotations

import httpx

from abxero.xero.accounting import (
    MAX_BATCH,
    XeroAccounting,
    date_filter,
    guid_filter,
    list_parameter,
    text_filter,
    write_query,
)
from abxero.xero.errors import (
    DayLimitError,
    IdTokenError,
    NeedsReconnectError,
    NotFoundError,
    RejectedError,
    RetriableError,
    ValidationFailedError,
    XeroError,
)
from abxero.xero.models import (
    Account,
    Attachment,
    BatchResult,
    Contact,
    Currency,
    DocumentSummary,
    ElementResult,
    HistoryRecord,
    Organisation,
    OrganisationFacts,
    PaymentSummary,
    TaxRate,
    TrackingCategory,
)
from abxero.xero.oauth import (
    API_URL,
    DEFAULT_TIMEOUT,
    IDENTITY_URL,
    LOGIN_URL,
    AuthorizationRequest,
    IdentityClaims,
    TenantGrant,
    XeroAuth,
    XeroTokens,
)
from abxero.xero.pacing import Pacer, Pacing
from abxero.xero.session import TokenManager
from abxero.xero.shared_pacing import PaceLimits, SharedPacer
from abxero.xero.transport import AccountingTransport, RetryPolicy

DEFAULT_SCOPES = (
    "offline_access",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.contacts",
    "accounting.settings.read",
    "accounting.attachments",
    "openid",
    "profile",
    "email",
)


def connect_accounting(
    http: httpx.Client,
    tenant_id: str,
    tokens: TokenManager,
    *,
    api_url: str = API_URL,
    pacer: Pacing | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
) -> XeroAccounting:
    """An Accounting API client for one tenant whose tokens ``tokens`` keeps fresh."""
    transport = AccountingTransport(
        http,
        f"{api_url.rstrip('/')}/api.xro/2.0",
        tenant_id,
        tokens.access_token,
        refresh_token=tokens.force_refresh,
        pacer=pacer,
        timeout=timeout,
        retry=retry or RetryPolicy(),
    )
    return XeroAccounting(transport)


__all__ = [
    "API_URL",
    "DEFAULT_SCOPES",
    "IDENTITY_URL",
    "LOGIN_URL",
    "MAX_BATCH",
    "Account",
    "AccountingTransport",
    "Attachment",
    "AuthorizationRequest",
    "BatchResult",
    "Contact",
    "Currency",
    "DayLimitError",
    "DocumentSummary",
    "ElementResult",
    "HistoryRecord",
    "IdTokenError",
    "IdentityClaims",
    "NeedsReconnectError",
    "NotFoundError",
    "Organisation",
    "OrganisationFacts",
    "PaceLimits",
    "Pacer",
    "Pacing",
    "PaymentSummary",
    "RejectedError",
    "RetriableError",
    "RetryPolicy",
    "SharedPacer",
    "TaxRate",
    "TenantGrant",
    "TokenManager",
    "TrackingCategory",
    "ValidationFailedError",
    "XeroAccounting",
    "XeroAuth",
    "XeroError",
    "XeroTokens",
    "connect_accounting",
    "date_filter",
    "guid_filter",
    "list_parameter",
    "text_filter",
    "write_query",
]
