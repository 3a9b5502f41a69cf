"""What planning needs to know about the Xero organisation, as plain immutable values.

The engine reads Organisation, Accounts, TaxRates, Currencies and TrackingCategories from Xero
and builds an :class:`OrgContext` with ``sync.xero_books.org_context``; the domain never calls
Xero.
Archived and deleted accounts are kept so that problems can name them, not just miss them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

ACCOUNT_CLASS_BY_TYPE: dict[str, str] = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}
"""Xero's account class for each account type (``Class`` is read-only and may be absent)."""

PURCHASE_ACCOUNT_TYPES = frozenset({"EXPENSE", "OVERHEADS", "DIRECTCOSTS", "FIXED", "CURRENT"})
"""Account types a purchase line may be coded to (INVENTORY is system-restricted)."""


class ContextError(ValueError):
    """The organisation data cannot be turned into a context (e.g. a lock date that is no date)."""


@dataclass(frozen=True)
class Account:
    """One account of the chart of accounts."""

    account_id: str
    code: str
    name: str
    type: str
    status: str = "ACTIVE"
    account_class: str = ""
    bank_account_type: str = ""
    tax_type: str = ""
    enable_payments: bool = False
    currency: str = ""
    system_account: str = ""

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"

    @property
    def is_bank(self) -> bool:
        """A bank, credit-card or PayPal account (all ``Type=BANK`` in Xero)."""
        return self.type == "BANK"

    @property
    def accepts_payments(self) -> bool:
        return self.is_bank or self.enable_payments

    @property
    def takes_purchases(self) -> bool:
        return self.type in PURCHASE_ACCOUNT_TYPES and not self.system_account

    @property
    def effective_class(self) -> str:
        return self.account_class or ACCOUNT_CLASS_BY_TYPE.get(self.type, "")

    @property
    def reference(self) -> dict[str, str]:
        """How a payload points at this account: by code when it has one, else by id."""
        return {"Code": self.code} if self.code else {"AccountID": self.account_id}

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip()


@dataclass(frozen=True)
class TaxRate:
    """One tax rate; ``applies_to`` holds the account classes it may be used with."""

    tax_type: str
    name: str
    status: str = "ACTIVE"
    report_tax_type: str = ""
    effective_rate: Decimal | None = None
    applies_to: frozenset[str] = frozenset()

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"

    @property
    def is_sales_side(self) -> bool:
        """A rate for sales (output tax), never right on a purchase."""
        if self.report_tax_type.upper() in {"OUTPUT", "SALESOUTPUT", "MOSSSALES"}:
            return True
        return "OUTPUT" in self.tax_type.upper()

    @property
    def applies_to_purchases(self) -> bool:
        return "EXPENSE" in self.applies_to or "ASSET" in self.applies_to

    def allows(self, account: Account) -> bool:
        return account.effective_class in self.applies_to


@dataclass(frozen=True)
class TrackingOption:
    option_id: str
    name: str
    status: str = "ACTIVE"


@dataclass(frozen=True)
class TrackingCategory:
    category_id: str
    name: str
    status: str = "ACTIVE"
    options: tuple[TrackingOption, ...] = ()

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"

    def option(self, name: str) -> TrackingOption | None:
        """The active option with this name (case and surrounding spaces ignored)."""
        wanted = name.strip().casefold()
        for option in self.options:
            if option.status == "ACTIVE" and option.name.strip().casefold() == wanted:
                return option
        return None


@dataclass(frozen=True)
class OrgContext:
    """The Xero facts planning depends on, read once per sync."""

    base_currency: str
    country_code: str
    timezone: str
    contact_id: str
    accounts: tuple[Account, ...]
    tax_rates: tuple[TaxRate, ...]
    enabled_currencies: frozenset[str] = frozenset()
    tracking_categories: tuple[TrackingCategory, ...] = ()
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    name: str = ""
    short_code: str = ""
    notes: tuple[str, ...] = ()
    """Things the user should know about how this context was read (e.g. a fallback)."""
    seller_contacts: Mapping[str, str] = field(default_factory=dict)
    """ContactID per seller (key :func:`~abxero.domain.mapping.seller_key`) when the mapping
    posts one contact per seller; the engine creates them before planning."""
    archived_seller_contacts: frozenset[str] = frozenset()
    """Sellers (by key) whose contact is archived in Xero: their purchases are held."""
    planned_seller_contact: str = ""
    """What a seller without a contact yet gets in a dry run (the preview); empty in a sync."""

    def seller_contact(self, key: str) -> str:
        return self.seller_contacts.get(key, "") or self.planned_seller_contact

    def account(self, reference: str) -> Account | None:
        """The account with this code, or else this AccountID, whatever its status."""
        for account in self.accounts:
            if account.code and account.code == reference:
                return account
        for account in self.accounts:
            if account.account_id == reference:
                return account
        return None

    def tax_rate(self, tax_type: str) -> TaxRate | None:
        for rate in self.tax_rates:
            if rate.tax_type == tax_type:
                return rate
        return None

    def tracking_category(self, reference: str) -> TrackingCategory | None:
        """The category with this id, or else this name (case ignored)."""
        for category in self.tracking_categories:
            if category.category_id == reference:
                return category
        wanted = reference.strip().casefold()
        for category in self.tracking_categories:
            if category.name.strip().casefold() == wanted:
                return category
        return None

    def uses_currency(self, code: str) -> bool:
        return code == self.base_currency or code in self.enabled_currencies

    @property
    def lock_date(self) -> date | None:
        """The later of the two lock dates: documents on or before it are refused."""
        dates = [day for day in (self.period_lock_date, self.end_of_year_lock_date) if day]
        return max(dates) if dates else None

    def is_locked(self, day: date) -> bool:
        lock = self.lock_date
        return lock is not None and day <= lock

    def local_date(self, moment: datetime) -> date:
        """The calendar date of ``moment`` in the organisation's time zone."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def is_uk(self) -> bool:
        return self.country_code.upper() in {"GB", "UK"}
