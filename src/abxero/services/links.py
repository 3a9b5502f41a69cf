"""Deep links into Xero for every kind of document abxero posts.

Xero's guide "Deep link to Xero" (developer.xero.com/documentation/api-guides/deep-link-xero):
``https://go.xero.com/organisationlogin/default.aspx?shortcode=<ShortCode>&redirecturl=<path>``
with ``/AccountsPayable/Edit.aspx?InvoiceID=`` for a bill and
``/AccountsPayable/ViewCreditNote.aspx?creditNoteID=`` for a credit note; the ShortCode comes
from ``GET /Organisation``. Bank transactions and payments open at
``/Bank/ViewTransaction.aspx?bankTransactionID=`` (the same form XeroAPI/xero-mcp-server uses in
src/consts/deeplinks.ts for payments). An allocation has no page of its own: it has no link.
"""

from __future__ import annotations

from urllib.parse import quote

BANK_PAGE = "/Bank/ViewTransaction.aspx?bankTransactionID={id}"
PAGES = {
    "bill": "/AccountsPayable/Edit.aspx?InvoiceID={id}",
    "credit_note": "/AccountsPayable/ViewCreditNote.aspx?creditNoteID={id}",
    "spend": BANK_PAGE,
    "receive": BANK_PAGE,
    "payment": BANK_PAGE,
    "refund": BANK_PAGE,
}


def deep_link(short_code: str, role: str, xero_id: str) -> str | None:
    """The Xero page of a posted document of ``role``, or None (no id, or no page)."""
    page = PAGES.get(role)
    if page is None or not xero_id:
        return None
    return (
        "https://go.xero.com/organisationlogin/default.aspx"
        f"?shortcode={quote(short_code)}&redirecturl={page.format(id=quote(xero_id))}"
    )
