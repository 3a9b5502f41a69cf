"""Which query parameters Xero honours on each read: those the official spec lists, no others.

Xero ignores a query parameter its endpoint does not define, so e.g. ``ContactIDs`` filters
``GET /Invoices`` but not ``GET /CreditNotes`` or ``GET /BankTransactions`` (their operations in
xero_accounting.yaml list only ``where``, ``order``, ``page``, ``pageSize`` and ``unitdp``). The
table below restates the spec's ``parameters`` (``in: query``) of each GET operation the
simulator serves; tests/sim/xero/test_simulator_realism.py checks it against the spec file.
Writes keep every parameter. Names match case-insensitively and take the spec's spelling: a
Xero SDK maintainer's own example spells it ``?SummarizeErrors=false``
(https://stackoverflow.com/questions/52706101).
"""

from __future__ import annotations

from collections.abc import Iterable

_DOCUMENT_LIST = ("where", "order", "page", "unitdp", "pageSize")
_SETTINGS_LIST = ("where", "order")

# (resource, "list" | "one") -> the query parameters its GET operation lists in the spec
GET_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Invoices", "list"): (
        "where",
        "order",
        "IDs",
        "InvoiceNumbers",
        "ContactIDs",
        "Statuses",
        "page",
        "includeArchived",
        "createdByMyApp",
        "unitdp",
        "summaryOnly",
        "pageSize",
        "searchTerm",
    ),
    ("Invoices", "one"): ("unitdp",),
    ("CreditNotes", "list"): _DOCUMENT_LIST,
    ("CreditNotes", "one"): ("unitdp",),
    ("BankTransactions", "list"): _DOCUMENT_LIST,
    ("BankTransactions", "one"): ("unitdp",),
    ("Payments", "list"): ("where", "order", "page", "pageSize"),
    ("Payments", "one"): (),
    ("Contacts", "list"): (
        "where",
        "order",
        "IDs",
        "page",
        "includeArchived",
        "summaryOnly",
        "searchTerm",
        "pageSize",
    ),
    ("Contacts", "one"): (),
    ("Accounts", "list"): _SETTINGS_LIST,
    ("Accounts", "one"): (),
    ("TaxRates", "list"): _SETTINGS_LIST,
    ("TaxRates", "one"): (),
    ("Currencies", "list"): _SETTINGS_LIST,
    ("TrackingCategories", "list"): ("where", "order", "includeArchived"),
    ("TrackingCategories", "one"): (),
    ("Organisation", "list"): (),
}


WRITE_PARAMETERS = ("summarizeErrors", "unitdp")
"""The query parameters the spec lists on the write operations the simulator serves."""


def operation_of(method: str, parts: list[str]) -> tuple[str, str] | None:
    """The table key for a GET of ``parts`` (None for writes and for sub-resources)."""
    if method != "GET" or not parts or len(parts) > 2:
        return None
    if parts[0] == "Organisation":
        return None if len(parts) > 1 else ("Organisation", "list")
    return (parts[0], "list" if len(parts) == 1 else "one")


def honoured_query(
    method: str, parts: list[str], items: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """The query parameters Xero acts on for this request, under the spec's spelling.

    Names match case-insensitively; a parameter the operation does not list is dropped.
    """
    key = operation_of(method, parts)
    allowed = GET_PARAMETERS.get(key) if key else None
    spelling = {name.lower(): name for name in allowed or WRITE_PARAMETERS}
    kept: dict[str, str] = {}
    for name, value in items:
        if name.lower() in spelling:
            kept[spelling[name.lower()]] = value
        elif allowed is None:
            kept[name] = value
    return kept
