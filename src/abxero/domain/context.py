"""What planning needs to know about the Xero organisation, as plain immutable values.

The engine reads Organisation, Accounts, TaxRates, Currencies and TrackingCategories from Xero
and builds an :class:`OrgContext` with :meth:`OrgContext.from_xero`; the domain never calls Xero.
Archived and deleted accounts are kept so that problems can name them, not just miss them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from abxero.domain.timezones import resolve_timezone

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

    @classmethod
    def from_xero(
        cls,
        organisation: Mapping[str, Any],
        accounts: Sequence[Mapping[str, Any]],
        tax_rates: Sequence[Mapping[str, Any]],
        currencies: Sequence[Mapping[str, Any]],
        tracking: Sequence[Mapping[str, Any]],
        contact_id: str,
    ) -> OrgContext:
        """Build the context from Xero's JSON objects (the items of each response's list)."""
        timezone = resolve_timezone(str(organisation.get("Timezone") or "UTC"))
        base = str(organisation.get("BaseCurrency") or "")
        return cls(
            base_currency=base,
            country_code=str(organisation.get("CountryCode") or ""),
            timezone=timezone.zone,
            contact_id=contact_id,
            accounts=tuple(_account(item) for item in accounts),
            tax_rates=tuple(_tax_rate(item) for item in tax_rates),
            enabled_currencies=frozenset(str(item.get("Code")) for item in currencies) | {base},
            tracking_categories=tuple(_tracking_category(item) for item in tracking),
            period_lock_date=xero_date(organisation.get("PeriodLockDate")),
            end_of_year_lock_date=xero_date(organisation.get("EndOfYearLockDate")),
            name=str(organisation.get("Name") or ""),
            short_code=str(organisation.get("ShortCode") or ""),
            notes=(timezone.note,) if timezone.note else (),
        )


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    return "" if value is None else str(value)


def _account(item: Mapping[str, Any]) -> Account:
    return Account(
        account_id=_text(item, "AccountID"),
        code=_text(item, "Code"),
        name=_text(item, "Name"),
        type=_text(item, "Type"),
        status=_text(item, "Status") or "ACTIVE",
        account_class=_text(item, "Class"),
        bank_account_type=_text(item, "BankAccountType"),
        tax_type=_text(item, "TaxType"),
        enable_payments=item.get("EnablePaymentsToAccount") is True,
        currency=_text(item, "CurrencyCode"),
        system_account=_text(item, "SystemAccount"),
    )


APPLIES_TO_FLAGS = {
    "CanApplyToAssets": "ASSET",
    "CanApplyToEquity": "EQUITY",
    "CanApplyToExpenses": "EXPENSE",
    "CanApplyToLiabilities": "LIABILITY",
    "CanApplyToRevenue": "REVENUE",
}


def _tax_rate(item: Mapping[str, Any]) -> TaxRate:
    return TaxRate(
        tax_type=_text(item, "TaxType"),
        name=_text(item, "Name"),
        status=_text(item, "Status") or "ACTIVE",
        report_tax_type=_text(item, "ReportTaxType"),
        effective_rate=_decimal_or_none(item.get("EffectiveRate")),
        applies_to=frozenset(
            account_class for flag, account_class in APPLIES_TO_FLAGS.items() if item.get(flag)
        ),
    )


def _tracking_category(item: Mapping[str, Any]) -> TrackingCategory:
    options = item.get("Options") or []
    return TrackingCategory(
        category_id=_text(item, "TrackingCategoryID"),
        name=_text(item, "Name"),
        status=_text(item, "Status") or "ACTIVE",
        options=tuple(
            TrackingOption(
                option_id=_text(option, "TrackingOptionID"),
                name=_text(option, "Name"),
                status=_text(option, "Status") or "ACTIVE",
            )
            for option in options
        ),
    )


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def xero_date(value: Any) -> date | None:
    """A date from Xero JSON: ``/Date(ms+0000)/``, ``YYYY-MM-DD`` or an ISO date-time."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    match = MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as problem:
        raise ContextError(f"date {value!r} is not a Xero date") from problem
