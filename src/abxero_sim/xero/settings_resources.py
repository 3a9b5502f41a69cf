"""Read-only settings: Organisation, Actions, Accounts, TaxRates, TrackingCategories, Currencies."""

from __future__ import annotations

from abxero_sim.xero.call import Call, Reply, not_found, validation_exception
from abxero_sim.xero.filters import WhereError, parse_where
from abxero_sim.xero.state import Record


def filtered(call: Call, items: list[Record]) -> list[Record] | Reply:
    """``items`` matching the call's ``where``, or a 400 for an unreadable expression."""
    try:
        keep = parse_where(call.query.get("where"))
    except WhereError as error:
        return validation_exception(message=str(error))
    return [item for item in items if keep(item)]


def organisation(call: Call) -> Reply:
    return call.envelope("Organisations", [call.org.info])


def organisation_actions(call: Call) -> Reply:
    multi = len(call.org.currencies) > 1
    actions = [
        ("CreateApprovedBill", True),
        ("CreateDraftBill", True),
        ("CreateApprovedInvoice", True),
        ("CreateInvoicePayment", True),
        ("CreateSpendMoney", True),
        ("CreateReceiveMoney", True),
        ("AttachFilesIntoBill", True),
        ("UseMulticurrency", multi),
    ]
    items: list[Record] = [
        {"Name": name, "Status": "ALLOWED" if ok else "NOT-ALLOWED"} for name, ok in actions
    ]
    return call.envelope("Actions", items)


def _listing(call: Call, plural: str, items: list[Record], id_field: str) -> Reply:
    if len(call.parts) > 1:
        wanted = call.parts[1].lower()
        found = [item for item in items if str(item.get(id_field, "")).lower() == wanted]
        return call.envelope(plural, found) if found else not_found(plural)
    result = filtered(call, items)
    return result if isinstance(result, Reply) else call.envelope(plural, result)


def accounts(call: Call) -> Reply:
    return _listing(call, "Accounts", call.org.accounts, "AccountID")


def tax_rates(call: Call) -> Reply:
    return _listing(call, "TaxRates", call.org.tax_rates, "TaxType")


def currencies(call: Call) -> Reply:
    return _listing(call, "Currencies", call.org.currencies, "Code")


def tracking_categories(call: Call) -> Reply:
    include_archived = call.flag("includeArchived")
    items = [c for c in call.org.tracking if include_archived or c["Status"] == "ACTIVE"]
    return _listing(call, "TrackingCategories", items, "TrackingCategoryID")
