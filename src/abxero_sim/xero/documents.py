"""Invoices, credit notes and bank transactions: validation against Xero's rules, then totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from abxero_sim.xero.ids import ZERO_GUID, IdSource
from abxero_sim.xero.lines import BuiltLine, LineContext, build_line, money
from abxero_sim.xero.state import Org, Record
from abxero_sim.xero.wire import parse_date


@dataclass(frozen=True)
class DocKind:
    """How one document family is named and stored."""

    plural: str
    id_field: str
    number_field: str | None
    types: frozenset[str]
    default_status: str
    label: str


INVOICES = DocKind(
    "Invoices", "InvoiceID", "InvoiceNumber", frozenset({"ACCPAY", "ACCREC"}), "DRAFT", "Invoice"
)
CREDIT_NOTES = DocKind(
    "CreditNotes",
    "CreditNoteID",
    "CreditNoteNumber",
    frozenset({"ACCPAYCREDIT", "ACCRECCREDIT"}),
    "DRAFT",
    "Credit Note",
)
BANK_TRANSACTIONS = DocKind(
    "BankTransactions",
    "BankTransactionID",
    None,
    frozenset({"SPEND", "RECEIVE"}),
    "AUTHORISED",
    "Bank Transaction",
)
CREATABLE_STATUSES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
AMOUNT_TYPES = frozenset({"Exclusive", "Inclusive", "NoTax"})


@dataclass(frozen=True)
class BuildContext:
    """The organisation, clock reading and id source one request works with."""

    org: Org
    now: datetime
    ids: IdSource
    unit_places: int = 2
    accept_bank_tax_overrides: bool = False


def store_of(org: Org, kind: DocKind) -> dict[str, Record]:
    """Where documents of ``kind`` live in ``org``."""
    return {
        "Invoices": org.invoices,
        "CreditNotes": org.credit_notes,
        "BankTransactions": org.bank_transactions,
    }[kind.plural]


def lock_date_error(org: Org, when: date) -> str | None:
    """Xero's message when ``when`` falls in a locked period, else None."""
    end_of_year = org.info.get("EndOfYearLockDate")
    period = org.info.get("PeriodLockDate")
    if isinstance(end_of_year, date) and when <= end_of_year:
        return (
            "The document date cannot be before the end of year lock date, "
            f"currently set at {end_of_year:%d-%b-%Y}"
        )
    if isinstance(period, date) and when <= period:
        return (
            "The document date cannot be before the period lock date, "
            f"currently set at {period:%d-%b-%Y}"
        )
    return None


def resolve_contact(ctx: BuildContext, raw: Any, errors: list[str]) -> Record | None:
    """The contact a document names, by ContactID or (creating it if new) by Name."""
    if not isinstance(raw, dict) or not (raw.get("ContactID") or raw.get("Name")):
        errors.append("A Contact must be specified for this type of transaction")
        return None
    if raw.get("ContactID"):
        contact = ctx.org.contacts.get(str(raw["ContactID"]).lower())
        if contact is None:
            errors.append(f"The contact with ContactID '{raw['ContactID']}' could not be found.")
            return None
    else:
        contact = _contact_by_name(ctx, str(raw["Name"]))
    if contact["ContactStatus"] != "ACTIVE":
        errors.append(
            "The contact with the specified contact details has been archived. The contact "
            "must be un-archived before creating new invoices or credit notes."
        )
    return contact


def _contact_by_name(ctx: BuildContext, name: str) -> Record:
    found = next((c for c in ctx.org.contacts.values() if c["Name"] == name), None)
    if found is not None:
        return found
    contact_id = ctx.ids.guid("contact")
    contact: Record = {
        "ContactID": contact_id,
        "Name": name,
        "ContactStatus": "ACTIVE",
        "IsSupplier": False,
        "IsCustomer": False,
        "HasAttachments": False,
        "UpdatedDateUTC": ctx.now,
    }
    ctx.org.contacts[contact_id] = contact
    return contact


def _ignored(doc_type: str) -> frozenset[str]:
    """Fields Xero drops on this document type. ``Reference`` is "ACCREC only" on Invoice and
    "ACCRECCREDIT only" on CreditNote (xero_accounting.yaml); on a bill Xero ignores it and
    shows ``InvoiceNumber`` as the reference (XeroAPI/Xero-NetStandard#249). The CreditNote
    schema has no ``Url`` at all."""
    if doc_type == "ACCPAY":
        return frozenset({"Reference"})
    if doc_type == "ACCPAYCREDIT":
        return frozenset({"Reference", "Url"})
    if doc_type == "ACCRECCREDIT":
        return frozenset({"Url"})
    return frozenset()


def build_document(ctx: BuildContext, kind: DocKind, raw: Record) -> tuple[Record, list[str]]:
    """Validate one submitted document and compute what Xero would store."""
    errors: list[str] = []
    doc_type = str(raw.get("Type") or "")
    if doc_type not in kind.types:
        errors.append(f"{kind.label} Type must be one of {', '.join(sorted(kind.types))}.")
    status = str(raw.get("Status") or kind.default_status)
    if status not in CREATABLE_STATUSES:
        errors.append(f"{kind.label} status '{status}' cannot be used when creating a document.")
    amount_types = str(raw.get("LineAmountTypes") or "Exclusive")
    if amount_types not in AMOUNT_TYPES:
        errors.append(f"LineAmountTypes '{amount_types}' is not valid.")
        amount_types = "Exclusive"
    contact = resolve_contact(ctx, raw.get("Contact"), errors)
    when = _document_date(ctx, raw.get("Date"), errors)
    record: Record = {name: value for name, value in raw.items() if name not in _ignored(doc_type)}
    record.update(Type=doc_type, Status=status, LineAmountTypes=amount_types, Date=when)
    if contact is not None:
        record["Contact"] = {"ContactID": contact["ContactID"], "Name": contact["Name"]}
    if kind is BANK_TRANSACTIONS:
        _bank_account(ctx, raw, record, errors)
    else:
        record["DueDate"] = parse_date(raw.get("DueDate")) or when
        _currency(ctx, raw, record, errors)
    line_ctx = LineContext(
        ctx.org,
        doc_type,
        amount_types,
        status == "AUTHORISED",
        ctx.unit_places,
        tax_override_allowed=kind is not BANK_TRANSACTIONS or ctx.accept_bank_tax_overrides,
    )
    lines = _lines(line_ctx, raw.get("LineItems"), errors, status)
    _totals(record, lines, kind, errors)
    return record, errors


def _document_date(ctx: BuildContext, raw: Any, errors: list[str]) -> date:
    if raw in (None, ""):
        when = ctx.org.today(ctx.now)
    else:
        parsed = parse_date(raw)
        if parsed is None:
            errors.append(f"The date '{raw}' is not a valid date.")
        when = parsed or ctx.org.today(ctx.now)
    locked = lock_date_error(ctx.org, when)
    if locked:
        errors.append(locked)
    return when


def _currency(ctx: BuildContext, raw: Record, record: Record, errors: list[str]) -> None:
    code = str(raw.get("CurrencyCode") or ctx.org.base_currency)
    if code not in {c["Code"] for c in ctx.org.currencies}:
        errors.append(f"Organisation is not subscribed to currency {code}")
    record["CurrencyCode"] = code
    record.setdefault(
        "CurrencyRate", Decimal("1.000000") if code == ctx.org.base_currency else None
    )
    if record["CurrencyRate"] is None:
        record["CurrencyRate"] = Decimal("1.250000")


def _bank_account(ctx: BuildContext, raw: Record, record: Record, errors: list[str]) -> None:
    ref = raw.get("BankAccount") or {}
    account = None
    if isinstance(ref, dict) and ref.get("AccountID"):
        account = ctx.org.account_by_id(str(ref["AccountID"]))
    elif isinstance(ref, dict) and ref.get("Code"):
        account = ctx.org.account_by_code(str(ref["Code"]))
    if account is None or account["Type"] != "BANK":
        errors.append("A valid BankAccount must be specified for this type of transaction.")
        record["CurrencyCode"] = ctx.org.base_currency
        return
    if account["Status"] != "ACTIVE":
        errors.append(f"The bank account '{account['Name']}' has been archived.")
    record["BankAccount"] = {
        "AccountID": account["AccountID"],
        "Code": account.get("Code"),
        "Name": account["Name"],
    }
    record["CurrencyCode"] = account.get("CurrencyCode") or ctx.org.base_currency
    record["IsReconciled"] = bool(raw.get("IsReconciled", False))


def _lines(ctx: LineContext, raw: Any, errors: list[str], status: str) -> list[BuiltLine]:
    items = raw if isinstance(raw, list) else []
    if not items and status == "AUTHORISED":
        errors.append("A document must contain at least one line item.")
    return [build_line(ctx, item, errors) for item in items if isinstance(item, dict)]


def _totals(record: Record, lines: list[BuiltLine], kind: DocKind, errors: list[str]) -> None:
    subtotal = money(sum((line.net for line in lines), Decimal(0)))
    total_tax = money(sum((line.tax for line in lines), Decimal(0)))
    total = subtotal + total_tax
    if total < 0:
        errors.append(f"{kind.label} total cannot be negative.")
    record["LineItems"] = [line.record for line in lines]
    record.update(SubTotal=subtotal, TotalTax=total_tax, Total=total)


def finish_created(ctx: BuildContext, kind: DocKind, record: Record) -> None:
    """Give a valid new document its id, balances and bookkeeping fields."""
    record[kind.id_field] = ctx.ids.guid(kind.plural)
    for line in record["LineItems"]:
        line["LineItemID"] = ctx.ids.guid("line")
    record.update(
        HasAttachments=False,
        HasErrors=False,
        StatusAttributeString="OK",
        UpdatedDateUTC=ctx.now,
    )
    if kind is INVOICES:
        record.update(AmountDue=record["Total"], AmountPaid=Decimal("0.00"))
        record.update(AmountCredited=Decimal("0.00"), Payments=[], CreditNotes=[])
    elif kind is CREDIT_NOTES:
        record.update(RemainingCredit=record["Total"], Allocations=[], Payments=[])
    if kind.number_field and not record.get(kind.number_field) and record["Type"] == "ACCREC":
        record[kind.number_field] = f"INV-{len(store_of(ctx.org, kind)) + 1:04d}"
    contact = ctx.org.contacts.get(record.get("Contact", {}).get("ContactID", ""))
    if contact is not None and record["Type"] in {"ACCPAY", "ACCPAYCREDIT"}:
        contact["IsSupplier"] = True


def failed_element(kind: DocKind, record: Record, errors: list[str]) -> Record:
    """The echoed element Xero returns for a document it refused."""
    failed = dict(record)
    failed[kind.id_field] = ZERO_GUID
    failed.update(
        HasErrors=True,
        StatusAttributeString="ERROR",
        ValidationErrors=[{"Message": message} for message in errors],
    )
    return failed
