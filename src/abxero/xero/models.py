"""Typed views of the Xero records the sync engine reads (only the fields it uses).

Lenient where Xero is: a field the spec's own response examples leave out (``Account.Status``,
``Contact.Name``; the spec marks neither required) is optional here, so a real answer shaped
like Xero's examples parses. ``None`` status means "not stated"; the planner's context reads
it as ACTIVE, as the organisation's settings screens do.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from abxero.xero.wire import parse_xero_date, parse_xero_datetime


def _as_date(value: Any) -> Any:
    return parse_xero_date(value) if isinstance(value, str) else value


def _as_datetime(value: Any) -> Any:
    return parse_xero_datetime(value) if isinstance(value, str) else value


XeroDate = Annotated[date | None, BeforeValidator(_as_date)]
XeroDateTime = Annotated[datetime | None, BeforeValidator(_as_datetime)]


class XeroModel(BaseModel):
    """PascalCase on the wire, snake_case in Python; unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="ignore", frozen=True
    )


class Organisation(XeroModel):
    organisation_id: str = Field(alias="OrganisationID")
    name: str
    short_code: str | None = None
    base_currency: str
    country_code: str | None = None
    timezone: str | None = None
    version: str | None = None
    period_lock_date: XeroDate = None
    end_of_year_lock_date: XeroDate = None
    is_demo_company: bool = False


class Account(XeroModel):
    account_id: str = Field(alias="AccountID")
    code: str | None = None
    name: str
    type: str
    status: str | None = None
    class_: str | None = Field(default=None, alias="Class")
    tax_type: str | None = None
    bank_account_type: str | None = None
    currency_code: str | None = None
    enable_payments_to_account: bool = False
    system_account: str | None = None

    @property
    def can_receive_payments(self) -> bool:
        """A BANK account, or one with payments enabled."""
        return self.type == "BANK" or self.enable_payments_to_account


class TaxRate(XeroModel):
    name: str
    tax_type: str
    status: str | None = None
    report_tax_type: str | None = None
    effective_rate: Decimal = Decimal(0)
    can_apply_to_assets: bool = False
    can_apply_to_equity: bool = False
    can_apply_to_expenses: bool = False
    can_apply_to_liabilities: bool = False
    can_apply_to_revenue: bool = False


class Currency(XeroModel):
    code: str
    description: str | None = None


class TrackingOption(XeroModel):
    tracking_option_id: str = Field(alias="TrackingOptionID")
    name: str
    status: str = "ACTIVE"


class TrackingCategory(XeroModel):
    tracking_category_id: str = Field(alias="TrackingCategoryID")
    name: str
    status: str | None = None
    options: tuple[TrackingOption, ...] = ()


class Contact(XeroModel):
    contact_id: str = Field(alias="ContactID")
    name: str = ""
    contact_status: str = "ACTIVE"
    contact_number: str | None = None

    @property
    def is_archived(self) -> bool:
        return self.contact_status != "ACTIVE"


class DocumentSummary(XeroModel):
    """An invoice, credit note or bank transaction as found when reconciling."""

    id: str
    type: str
    status: str
    number: str | None = None
    reference: str | None = None
    contact_id: str | None = None
    date: XeroDate = None
    currency_code: str | None = None
    total: Decimal = Decimal(0)
    amount_due: Decimal | None = None
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)


class PaidDocument(XeroModel):
    """The invoice or credit note a payment is on (the spec's Payment.Invoice/CreditNote)."""

    invoice_id: str | None = Field(default=None, alias="InvoiceID")
    credit_note_id: str | None = Field(default=None, alias="CreditNoteID")


class PaymentSummary(XeroModel):
    payment_id: str = Field(alias="PaymentID")
    status: str | None = None
    amount: Decimal
    date: XeroDate = None
    reference: str | None = None
    payment_type: str | None = None
    invoice: PaidDocument | None = None
    credit_note: PaidDocument | None = None


class Attachment(XeroModel):
    attachment_id: str = Field(alias="AttachmentID")
    file_name: str
    mime_type: str | None = None
    content_length: int | None = None


class HistoryRecord(XeroModel):
    changes: str | None = None
    details: str | None = None
    user: str | None = None
    date_utc: XeroDateTime = Field(default=None, alias="DateUTC")


class OrganisationFacts(BaseModel):
    """Everything the planner needs to know about an organisation, read in one go."""

    model_config = ConfigDict(frozen=True)

    organisation: Organisation
    accounts: tuple[Account, ...]
    tax_rates: tuple[TaxRate, ...]
    currencies: tuple[Currency, ...]
    tracking_categories: tuple[TrackingCategory, ...]


class ElementResult(BaseModel):
    """The outcome of one element of a batch write."""

    model_config = ConfigDict(frozen=True)

    index: int
    ok: bool
    status: str
    xero_id: str | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    data: dict[str, Any]

    @property
    def unconfirmed(self) -> bool:
        """Xero said OK but gave no id, so whether the document exists is unknown.

        Xero has answered a batch element ``OK`` with no ``PaymentID`` for a payment it never
        created (XeroAPI/Xero-NetStandard#324, "Type: Bug - Confirmed"); such an element is
        looked up later, never taken as posted.
        """
        return self.ok and not self.xero_id


class BatchResult(BaseModel):
    """Per-element outcomes of one batch, in the order they were sent."""

    model_config = ConfigDict(frozen=True)

    elements: tuple[ElementResult, ...]

    @property
    def all_ok(self) -> bool:
        return all(e.ok for e in self.elements)

    @property
    def failed(self) -> tuple[ElementResult, ...]:
        return tuple(e for e in self.elements if not e.ok)

    @property
    def succeeded(self) -> tuple[ElementResult, ...]:
        """Elements Xero created and named by id."""
        return tuple(e for e in self.elements if e.ok and e.xero_id)
