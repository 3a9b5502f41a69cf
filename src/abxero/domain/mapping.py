"""The user's mapping: how Amazon Business data becomes Xero accounts, tax types and tracking.

A :class:`MappingConfig` is a versioned pydantic model stored as JSON (:meth:`MappingConfig.to_json`
and :meth:`MappingConfig.from_json`). Accounts are referred to by code, or by AccountID for bank
accounts without a code. Whether the references still make sense for an organisation is checked
by :func:`abxero.domain.mapping_checks.check_mapping`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from abxero.domain.transactions import Instrument

MAPPING_VERSION: Literal[2] = 2
"""Version 2 added ``sellers`` (per-seller VAT and contacts); a version 1 mapping loads as
version 2 with the defaults, which change nothing."""
MAX_TRACKING_CATEGORIES = 2
"""Xero puts at most two tracking categories on a line and allows two active categories per
organisation (xero-api.md §4.10, from the Accounting spec's LineItem.Tracking)."""
RECLAIM = "reclaim"
"""A seller's VAT override meaning "treat as VAT-registered": Amazon's rate maps as usual."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PaymentPolicy(StrEnum):
    BILL_AND_PAYMENT = "bill_and_payment"
    SPEND_MONEY = "spend_money"


class AccountPayment(_Model):
    """Card or bank instrument: paid from a Xero bank / credit-card account."""

    kind: Literal["account"] = "account"
    account: str = Field(min_length=1)
    policy: PaymentPolicy = PaymentPolicy.BILL_AND_PAYMENT


class PayByInvoice(_Model):
    """Pay by Invoice: the bill stays in accounts payable until Amazon is paid."""

    kind: Literal["pay_by_invoice"] = "pay_by_invoice"
    terms_days: int = Field(default=30, ge=0, le=365)


PaymentMethod = Annotated[AccountPayment | PayByInvoice, Field(discriminator="kind")]


class RuleField(StrEnum):
    BUSINESS_ORDER_INFO = "business_order_info"
    UNSPSC_PREFIX = "unspsc_prefix"
    PURCHASING_GROUP = "purchasing_group"
    LEGAL_ENTITY = "legal_entity"
    SELLER = "seller"
    TITLE_KEYWORD = "title_keyword"


class ExpenseRule(_Model):
    """Code a line to ``account`` when its ``match`` field has ``value``.

    Business Order Info rules also name the ``label`` (e.g. ``"GL code"``). Values compare
    without regard to case or surrounding spaces; UNSPSC matches by prefix, title by keyword.
    """

    match: RuleField
    value: str = Field(min_length=1)
    account: str = Field(min_length=1)
    label: str = ""

    @model_validator(mode="after")
    def _label_for_business_order_info(self) -> ExpenseRule:
        if self.match is RuleField.BUSINESS_ORDER_INFO and not self.label.strip():
            raise ValueError("a Business Order Info rule needs the field label")
        return self


class Expenses(_Model):
    default_account: str = Field(min_length=1)
    rules: tuple[ExpenseRule, ...] = ()


class LineTypes(_Model):
    """Accounts for the non-item parts of a line; ``None`` means "same as the item".

    ``adjustment`` takes the "Amazon adjustment" line: what a transaction's amount holds beyond
    its lines (an authorised amount, a line Amazon sent unreadable, or no lines at all). It came
    after version 1 was first stored, so it is optional and older mappings load unchanged.
    """

    shipping: str | None = None
    gift_wrap: str | None = None
    regulatory_fee: str | None = None
    discount: str | None = None
    adjustment: str | None = None


class TaxMode(StrEnum):
    US_SALES_TAX = "us_sales_tax"
    UK_VAT = "uk_vat"


class SalesTaxTarget(StrEnum):
    ITEM_ACCOUNT = "item_account"
    ACCOUNT = "account"


DEFAULT_VAT_RATES: dict[str, str] = {"0.20": "INPUT2", "0.05": "RRINPUT", "0.00": "ZERORATEDINPUT"}
NO_VAT = "NONE"


def rate_key(rate: Decimal) -> str:
    """The text key of a tax rate: at least two decimals, e.g. ``"0.20"``, ``"0.175"``."""
    normalized = rate.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return f"{rate.quantize(Decimal('0.01'))}"
    return f"{normalized:f}"


class Taxes(_Model):
    """US: sales tax is a cost on separate lines (documents ``NoTax``); UK: VAT rate → tax type."""

    mode: TaxMode
    sales_tax_target: SalesTaxTarget = SalesTaxTarget.ITEM_ACCOUNT
    sales_tax_account: str | None = None
    no_tax_type: str = NO_VAT
    vat_rates: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_VAT_RATES))

    @field_validator("vat_rates")
    @classmethod
    def _canonical_rates(cls, rates: dict[str, str]) -> dict[str, str]:
        canonical: dict[str, str] = {}
        for text, tax_type in rates.items():
            try:
                rate = Decimal(text)
            except InvalidOperation as problem:
                raise ValueError(f"VAT rate {text!r} is not a number") from problem
            if not rate.is_finite() or rate < 0 or rate > 1:
                raise ValueError(f"VAT rate {text!r} is not between 0 and 1")
            canonical[rate_key(rate)] = tax_type
        return canonical

    @model_validator(mode="after")
    def _account_for_chosen_target(self) -> Taxes:
        if self.sales_tax_target is SalesTaxTarget.ACCOUNT and not self.sales_tax_account:
            raise ValueError("sales tax to a chosen account needs that account")
        return self

    def tax_type_for(self, rate: Decimal) -> str | None:
        return self.vat_rates.get(rate_key(rate))


class TrackingSource(StrEnum):
    BUSINESS_ORDER_INFO = "business_order_info"
    PURCHASING_GROUP = "purchasing_group"
    LEGAL_ENTITY = "legal_entity"


class TrackingRule(_Model):
    """Fill one Xero tracking category from an Amazon field.

    The option is ``options[value]`` when given, else the value itself; when no active option
    matches, ``default_option`` is used, and without one the line is left untracked.
    """

    category: str = Field(min_length=1)
    source: TrackingSource
    label: str = ""
    options: dict[str, str] = Field(default_factory=dict)
    default_option: str | None = None

    @model_validator(mode="after")
    def _label_for_business_order_info(self) -> TrackingRule:
        if self.source is TrackingSource.BUSINESS_ORDER_INFO and not self.label.strip():
            raise ValueError("tracking from Business Order Info needs the field label")
        return self


def seller_key(name: str) -> str:
    """How a seller name is compared: without case or surrounding and repeated spaces."""
    return " ".join(name.split()).casefold()


class SellerCoding(_Model):
    """Per-seller choices (version 2).

    ``flagged_tax_type``: the Xero tax rate (0 %) for lines of sellers recognised as non-GB or
    "No VAT" (:mod:`abxero.domain.sellers`); VAT such a seller charges cannot be reclaimed
    without a GB VAT number (market.md), so it becomes part of the cost. ``None`` only flags.
    ``tax_overrides``: seller name → tax type, or :data:`RECLAIM`, whatever the recognition says.
    ``contact_per_seller``: one Xero contact per ``merchantLegalName`` instead of the single
    "Amazon Business" contact.
    """

    contact_per_seller: bool = False
    flagged_tax_type: str | None = None
    tax_overrides: dict[str, str] = Field(default_factory=dict)

    @field_validator("tax_overrides")
    @classmethod
    def _canonical_sellers(cls, overrides: dict[str, str]) -> dict[str, str]:
        canonical = {seller_key(name): value.strip() for name, value in overrides.items()}
        if any(not name or not value for name, value in canonical.items()):
            raise ValueError("a seller override needs the seller's name and a tax rate")
        return canonical

    def override_for(self, seller: str) -> str | None:
        return self.tax_overrides.get(seller_key(seller))


class MappingConfig(_Model):
    """Everything the user chose in the mapping step, versioned for storage."""

    version: Literal[1, 2] = MAPPING_VERSION
    payment_methods: dict[str, PaymentMethod] = Field(default_factory=dict)
    pay_by_invoice: PayByInvoice | None = None
    expenses: Expenses
    line_types: LineTypes = LineTypes()
    taxes: Taxes
    tracking: tuple[TrackingRule, ...] = Field(default=(), max_length=MAX_TRACKING_CATEGORIES)
    sellers: SellerCoding = SellerCoding()

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """An older stored mapping is read as the current version (new parts at defaults)."""
        if isinstance(data, dict) and data.get("version") == 1:
            return {**data, "version": MAPPING_VERSION}
        return data

    @model_validator(mode="after")
    def _distinct_tracking_categories(self) -> MappingConfig:
        categories = [rule.category.strip().casefold() for rule in self.tracking]
        if len(set(categories)) != len(categories):
            raise ValueError("each tracking category can be filled by one rule only")
        return self

    def payment_method(self, instrument: Instrument) -> AccountPayment | PayByInvoice | None:
        """The mapping of this instrument: by its key, else the Pay by Invoice default."""
        method = self.payment_methods.get(instrument.key)
        if method is None and instrument.looks_like_pay_by_invoice:
            return self.pay_by_invoice
        return method

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> MappingConfig:
        return cls.model_validate_json(text)
