"""Small US and UK organisations and mappings for the planning tests, in Xero's own JSON shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from abxero.domain.context import OrgContext
from abxero.domain.mapping import (
    AccountPayment,
    ExpenseRule,
    Expenses,
    LineTypes,
    MappingConfig,
    PayByInvoice,
    PaymentPolicy,
    RuleField,
    Taxes,
    TaxMode,
    TrackingRule,
    TrackingSource,
)
from tests.context_json import context_from_json

US_CONTACT = "5a6d7e0c-0000-4000-8000-00000000a001"
UK_CONTACT = "5a6d7e0c-0000-4000-8000-00000000b001"


def _account(
    code: str, name: str, kind: str, *, status: str = "ACTIVE", **extra: Any
) -> dict[str, Any]:
    return {
        "AccountID": f"acc-{code}",
        "Code": code,
        "Name": name,
        "Type": kind,
        "Status": status,
        **extra,
    }


def _tax(
    tax_type: str, name: str, rate: str, report: str, *applies: str, status: str = "ACTIVE"
) -> dict[str, Any]:
    flags = {f"CanApplyTo{target}": True for target in applies}
    return {
        "TaxType": tax_type,
        "Name": name,
        "Status": status,
        "ReportTaxType": report,
        "EffectiveRate": rate,
        **flags,
    }


def _tracking(name: str, *options: str) -> dict[str, Any]:
    slug = name.lower()
    return {
        "TrackingCategoryID": f"tc-{slug}",
        "Name": name,
        "Status": "ACTIVE",
        "Options": [
            {"TrackingOptionID": f"to-{slug}-{option.lower()}", "Name": option, "Status": "ACTIVE"}
            for option in options
        ],
    }


US_ACCOUNTS = [
    _account("090", "Checking", "BANK", BankAccountType="BANK"),
    _account("091", "Amex Business", "BANK", BankAccountType="CREDITCARD"),
    _account("092", "Visa Corporate", "BANK", BankAccountType="CREDITCARD"),
    _account("200", "Sales", "REVENUE"),
    _account("310", "Cost of Goods Sold", "DIRECTCOSTS"),
    _account("429", "General Expenses", "EXPENSE"),
    _account("461", "Printing & Stationery", "EXPENSE"),
    _account("470", "Old Stationery", "EXPENSE", status="ARCHIVED"),
    _account("505", "Sales Tax Paid", "EXPENSE"),
    _account("535", "Office Supplies", "EXPENSE"),
    _account("540", "Shipping & Delivery", "EXPENSE"),
    _account("720", "Computer Equipment", "FIXED"),
    _account("800", "Accounts Payable", "CURRLIAB", SystemAccount="CREDITORS"),
]

US_TAX_RATES = [
    _tax("INPUT", "Tax on Purchases", "0.0", "INPUT", "Assets", "Expenses", "Liabilities"),
    _tax(
        "NONE",
        "Tax Exempt",
        "0.0",
        "NONE",
        "Assets",
        "Equity",
        "Expenses",
        "Liabilities",
        "Revenue",
    ),
    _tax("OUTPUT", "Tax on Sales", "0.0", "OUTPUT", "Revenue"),
]

UK_ACCOUNTS = [
    _account("090", "Business Bank Account", "BANK", BankAccountType="BANK"),
    _account("091", "Business Credit Card", "BANK", BankAccountType="CREDITCARD"),
    _account("093", "Euro Card", "BANK", BankAccountType="CREDITCARD", CurrencyCode="EUR"),
    _account("200", "Sales", "REVENUE"),
    _account("425", "Postage, Freight & Courier", "OVERHEADS"),
    _account("429", "General Expenses", "OVERHEADS"),
    _account("461", "Printing & Stationery", "OVERHEADS"),
    _account("463", "IT Software and Consumables", "OVERHEADS"),
    _account("466", "Old Office Costs", "OVERHEADS", status="ARCHIVED"),
    _account("710", "Office Equipment", "FIXED"),
    _account("800", "Accounts Payable", "CURRLIAB", SystemAccount="CREDITORS"),
]

UK_TAX_RATES = [
    _tax("INPUT2", "20% (VAT on Expenses)", "20.0", "INPUT", "Assets", "Expenses", "Liabilities"),
    _tax("RRINPUT", "5% (VAT on Expenses)", "5.0", "INPUT", "Assets", "Expenses", "Liabilities"),
    _tax("ZERORATEDINPUT", "Zero Rated Expenses", "0.0", "INPUT", "Assets", "Expenses"),
    _tax("EXEMPTINPUT", "Exempt Expenses", "0.0", "INPUT", "Assets", "Expenses"),
    _tax("NONE", "No VAT", "0.0", "NONE", "Assets", "Equity", "Expenses", "Liabilities", "Revenue"),
    _tax("CAPEXINPUT2", "20% (VAT on Capital Purchases)", "20.0", "INPUT", "Assets"),
    _tax("OUTPUT2", "20% (VAT on Income)", "20.0", "OUTPUT", "Revenue"),
]

TRACKING = [
    _tracking("Department", "Operations", "IT", "Marketing", "General"),
    _tracking("Project", "Apollo", "Zephyr"),
]


def us_context(**changes: Any) -> OrgContext:
    context = context_from_json(
        organisation={
            "OrganisationID": "org-hudson",
            "Name": "Hudson Supply Co",
            "BaseCurrency": "USD",
            "CountryCode": "US",
            "Timezone": "EASTERNSTANDARDTIME",
            "ShortCode": "!hud01",
        },
        accounts=US_ACCOUNTS,
        tax_rates=US_TAX_RATES,
        currencies=[{"Code": "USD", "Description": "United States Dollar"}],
        tracking=TRACKING,
        contact_id=US_CONTACT,
    )
    return replace(context, **changes)


def uk_context(**changes: Any) -> OrgContext:
    context = context_from_json(
        organisation={
            "OrganisationID": "org-thames",
            "Name": "Thames Office Ltd",
            "BaseCurrency": "GBP",
            "CountryCode": "GB",
            "Timezone": "GMTSTANDARDTIME",
            "ShortCode": "!tha01",
        },
        accounts=UK_ACCOUNTS,
        tax_rates=UK_TAX_RATES,
        currencies=[{"Code": "GBP"}, {"Code": "EUR"}],
        tracking=TRACKING,
        contact_id=UK_CONTACT,
    )
    return replace(context, **changes)


def uk_locked_context() -> OrgContext:
    return uk_context(period_lock_date=date(2026, 3, 31))


def us_mapping() -> MappingConfig:
    return MappingConfig(
        payment_methods={
            "Amex/1001": AccountPayment(account="091"),
            "Visa/2002": AccountPayment(account="092"),
            "Visa/3003": AccountPayment(account="090", policy=PaymentPolicy.SPEND_MONEY),
            "Pay by Invoice": PayByInvoice(terms_days=30),
        },
        pay_by_invoice=PayByInvoice(terms_days=45),
        expenses=Expenses(
            default_account="429",
            rules=(
                ExpenseRule(
                    match=RuleField.BUSINESS_ORDER_INFO,
                    label="GL code",
                    value="535-office",
                    account="535",
                ),
                ExpenseRule(match=RuleField.UNSPSC_PREFIX, value="4321", account="720"),
                ExpenseRule(match=RuleField.TITLE_KEYWORD, value="toner", account="461"),
                ExpenseRule(match=RuleField.PURCHASING_GROUP, value="Warehouse", account="310"),
            ),
        ),
        line_types=LineTypes(shipping="540"),
        taxes=Taxes(mode=TaxMode.US_SALES_TAX),
        tracking=(
            TrackingRule(
                category="Department",
                source=TrackingSource.BUSINESS_ORDER_INFO,
                label="Cost center",
                options={"CC-100": "Operations", "CC-200": "IT"},
            ),
            TrackingRule(category="Project", source=TrackingSource.PURCHASING_GROUP),
        ),
    )


def uk_mapping() -> MappingConfig:
    return MappingConfig(
        payment_methods={
            "Visa/4242": AccountPayment(account="091"),
            "Mastercard/5454": AccountPayment(account="090", policy=PaymentPolicy.SPEND_MONEY),
            "Visa/7777": AccountPayment(account="093"),
        },
        pay_by_invoice=PayByInvoice(terms_days=30),
        expenses=Expenses(
            default_account="429",
            rules=(
                ExpenseRule(
                    match=RuleField.BUSINESS_ORDER_INFO,
                    label="GL code",
                    value="463",
                    account="463",
                ),
                ExpenseRule(match=RuleField.SELLER, value="Old Office Ltd", account="466"),
                ExpenseRule(match=RuleField.LEGAL_ENTITY, value="Thames Print", account="461"),
            ),
        ),
        line_types=LineTypes(shipping="425"),
        taxes=Taxes(mode=TaxMode.UK_VAT),
        tracking=(
            TrackingRule(
                category="Department",
                source=TrackingSource.BUSINESS_ORDER_INFO,
                label="Cost centre",
                default_option="General",
            ),
        ),
    )
