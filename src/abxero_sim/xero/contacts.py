"""Contacts: list, get, create (PUT) and create-or-update (POST)."""

from __future__ import annotations

from typing import Any

from abxero_sim.xero.batch import run_batch
from abxero_sim.xero.call import Call, Reply, not_found
from abxero_sim.xero.ids import ZERO_GUID
from abxero_sim.xero.paging import page_of
from abxero_sim.xero.settings_resources import filtered
from abxero_sim.xero.state import Record

_WRITABLE = (
    "Name",
    "ContactNumber",
    "AccountNumber",
    "ContactStatus",
    "FirstName",
    "LastName",
    "EmailAddress",
    "TaxNumber",
    "DefaultCurrency",
    "PurchasesDefaultAccountCode",
    "AccountsPayableTaxType",
    "Addresses",
    "Phones",
)


def list_or_get(call: Call) -> Reply:
    if len(call.parts) > 1:
        contact = call.org.contacts.get(call.parts[1].lower())
        return call.envelope("Contacts", [contact]) if contact else not_found("Contact")
    items = list(call.org.contacts.values())
    if not call.flag("includeArchived"):
        items = [c for c in items if c["ContactStatus"] == "ACTIVE"]
    if call.query.get("IDs"):
        wanted = {i.strip().lower() for i in call.query["IDs"].split(",")}
        items = [c for c in items if c["ContactID"] in wanted]
    term = (call.query.get("searchTerm") or "").lower()
    if term:
        items = [c for c in items if term in c["Name"].lower()]
    result = filtered(call, items)
    if isinstance(result, Reply):
        return result
    page, extra = page_of(call, result)
    return call.envelope("Contacts", page, **extra)


def _name_taken(call: Call, name: str, own_id: str | None) -> bool:
    return any(
        c["Name"].lower() == name.lower()
        and c["ContactStatus"] == "ACTIVE"
        and c["ContactID"] != own_id
        for c in call.org.contacts.values()
    )


def _save_contact(call: Call, raw: Record) -> tuple[Record, list[str]]:
    contact_id = str(raw.get("ContactID") or "").lower() or None
    existing = call.org.contacts.get(contact_id) if contact_id else None
    if contact_id and existing is None and call.method == "POST":
        return {**raw, "ContactID": ZERO_GUID}, ["The contact could not be found."]
    name = str(raw.get("Name") or (existing or {}).get("Name") or "").strip()
    errors = []
    if not name:
        errors.append("The contact name must be specified.")
    elif _name_taken(call, name, contact_id):
        errors.append(
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    if errors:
        return {**raw, "ContactID": ZERO_GUID}, errors
    contact = existing if existing is not None else _new_contact(call)
    contact.update({k: raw[k] for k in _WRITABLE if k in raw})
    contact.update(Name=name, UpdatedDateUTC=call.ctx.now)
    return contact, []


def _new_contact(call: Call) -> Record:
    contact_id = call.ctx.ids.guid("contact")
    contact: dict[str, Any] = {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "IsSupplier": False,
        "IsCustomer": False,
        "HasAttachments": False,
    }
    call.org.contacts[contact_id] = contact
    return contact


def write(call: Call) -> Reply:
    if len(call.parts) > 1 and isinstance(call.payload, dict):
        for item in call.payload.get("Contacts", []):
            if isinstance(item, dict):
                item.setdefault("ContactID", call.parts[1])
    return run_batch(call, "Contacts", _save_contact)
