"""The demo organisations the simulator starts with: a US and a UK company."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from abxero_sim.xero.ids import stable_guid

_CLASS_OF_TYPE = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
}

# (code, name, type, default tax type, extras)
_AccountRow = tuple[str, str, str, str, dict[str, Any]]


@dataclass(frozen=True)
class OrgSeed:
    """Everything needed to build one organisation."""

    key: str
    organisation: dict[str, Any]
    accounts: list[dict[str, Any]]
    tax_rates: list[dict[str, Any]]
    currencies: list[dict[str, Any]]
    tracking: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    iana_timezone: str


def tenant_id_for(seed: int, key: str) -> str:
    """The tenant id of the seeded organisation ``key`` ("us" or "uk")."""
    return stable_guid(seed, "tenant", key)


def _accounts(seed: int, key: str, rows: list[_AccountRow], currency: str) -> list[dict[str, Any]]:
    accounts = []
    for code, name, kind, tax_type, extras in rows:
        account: dict[str, Any] = {
            "AccountID": stable_guid(seed, key, "account", code),
            "Code": code,
            "Name": name,
            "Type": kind,
            "Class": _CLASS_OF_TYPE[kind],
            "Status": "ACTIVE",
            "TaxType": tax_type,
            "EnablePaymentsToAccount": False,
            "ShowInExpenseClaims": _CLASS_OF_TYPE[kind] == "EXPENSE",
            "ReportingCode": _CLASS_OF_TYPE[kind][:3],
            "HasAttachments": False,
        }
        if kind == "BANK":
            account["BankAccountType"] = "BANK"
            account["CurrencyCode"] = currency
            digits = "".join(c for c in stable_guid(seed, key, "bank", code) if c.isdigit())
            account["BankAccountNumber"] = digits[:8]
        account.update(extras)
        accounts.append(account)
    return accounts


def _tax_rate(name: str, tax_type: str, report: str, rate: str, applies: str) -> dict[str, Any]:
    """``applies`` lists the account classes as letters: A, E(quity), X(pense), L, R."""
    flags = {
        "CanApplyToAssets": "A" in applies,
        "CanApplyToEquity": "Q" in applies,
        "CanApplyToExpenses": "X" in applies,
        "CanApplyToLiabilities": "L" in applies,
        "CanApplyToRevenue": "R" in applies,
    }
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report,
        "Status": "ACTIVE",
        "DisplayTaxRate": Decimal(rate),
        "EffectiveRate": Decimal(rate),
        "TaxComponents": [
            {"Name": name, "Rate": Decimal(rate), "IsCompound": False, "IsNonRecoverable": False}
        ],
        **flags,
    }


def _tracking(seed: int, key: str, name: str, options: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "TrackingCategoryID": stable_guid(seed, key, "tracking", name),
        "Name": name,
        "Status": "ACTIVE",
        "Options": [
            {
                "TrackingOptionID": stable_guid(seed, key, "tracking", name, option),
                "Name": option,
                "Status": status,
            }
            for option, status in options
        ],
    }


def _contact(seed: int, key: str, name: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {
        "ContactID": stable_guid(seed, key, "contact", name),
        "Name": name,
        "ContactStatus": status,
        "IsSupplier": True,
        "IsCustomer": False,
        "HasAttachments": False,
    }


def _organisation(seed: int, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    short = stable_guid(seed, key, "shortcode").replace("-", "")[:5]
    return {
        "OrganisationID": tenant_id_for(seed, key),
        "APIKey": "",
        "ShortCode": f"!{short}",
        "IsDemoCompany": True,
        "OrganisationStatus": "ACTIVE",
        "OrganisationType": "COMPANY",
        "Class": "DEMO",
        "Edition": "BUSINESS",
        "FinancialYearEndDay": 31,
        "PaysTax": True,
        "SalesTaxBasis": "ACCRUALS",
        "DefaultPurchasesTax": "Tax Exclusive",
        "DefaultSalesTax": "Tax Exclusive",
        "CreatedDateUTC": date(2025, 1, 6),
        **fields,
    }


_US_ACCOUNTS: list[_AccountRow] = [
    ("090", "Business Checking", "BANK", "NONE", {}),
    ("091", "Business Savings", "BANK", "NONE", {}),
    ("092", "Amex Business Card", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("093", "Visa Corporate Card", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("120", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("140", "Inventory", "INVENTORY", "NONE", {}),
    ("150", "Office Equipment", "FIXED", "INPUT", {}),
    ("160", "Computer Equipment", "FIXED", "INPUT", {}),
    ("400", "Sales", "REVENUE", "OUTPUT", {}),
    ("470", "Other Revenue", "OTHERINCOME", "OUTPUT", {}),
    ("500", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", {}),
    ("600", "Advertising", "EXPENSE", "INPUT", {}),
    ("624", "Postage & Delivery", "EXPENSE", "INPUT", {}),
    ("628", "General Expenses", "EXPENSE", "INPUT", {}),
    ("648", "Office Expenses", "EXPENSE", "INPUT", {}),
    ("649", "Old Office Supplies", "EXPENSE", "INPUT", {"Status": "ARCHIVED"}),
    ("652", "Printing & Stationery", "EXPENSE", "INPUT", {}),
    ("660", "Repairs and Maintenance", "EXPENSE", "INPUT", {}),
    ("672", "Dues & Subscriptions", "EXPENSE", "INPUT", {}),
    ("676", "Telephone & Internet", "EXPENSE", "INPUT", {}),
    ("680", "Travel", "EXPENSE", "INPUT", {}),
    ("690", "Sales Tax Paid", "EXPENSE", "NONE", {}),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "Sales Tax", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("840", "Employee Reimbursements", "CURRLIAB", "NONE", {"EnablePaymentsToAccount": True}),
    ("860", "Rounding", "CURRLIAB", "NONE", {"SystemAccount": "ROUNDING"}),
    ("960", "Retained Earnings", "EQUITY", "NONE", {"SystemAccount": "RETAINEDEARNINGS"}),
    ("970", "Owner Funds Introduced", "EQUITY", "NONE", {}),
]

_UK_ACCOUNTS: list[_AccountRow] = [
    ("090", "Business Bank Account", "BANK", "NONE", {}),
    ("091", "Business Savings Account", "BANK", "NONE", {}),
    ("092", "Company Credit Card", "BANK", "NONE", {"BankAccountType": "CREDITCARD"}),
    ("094", "Euro Account", "BANK", "NONE", {"CurrencyCode": "EUR"}),
    ("200", "Sales", "REVENUE", "OUTPUT2", {}),
    ("260", "Other Revenue", "OTHERINCOME", "OUTPUT2", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", {}),
    ("400", "Advertising", "OVERHEADS", "INPUT2", {}),
    ("425", "Postage, Freight & Courier", "OVERHEADS", "INPUT2", {}),
    ("429", "General Expenses", "OVERHEADS", "INPUT2", {}),
    ("453", "Office Expenses", "OVERHEADS", "INPUT2", {}),
    ("455", "Old Subscriptions", "OVERHEADS", "INPUT2", {"Status": "ARCHIVED"}),
    ("461", "Printing & Stationery", "OVERHEADS", "INPUT2", {}),
    ("463", "IT Software and Consumables", "OVERHEADS", "INPUT2", {}),
    ("473", "Repairs and Maintenance", "OVERHEADS", "INPUT2", {}),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT2", {}),
    ("493", "Travel - National", "OVERHEADS", "INPUT2", {}),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("710", "Office Equipment", "FIXED", "INPUT2", {}),
    ("720", "Computer Equipment", "FIXED", "INPUT2", {}),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "VAT", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("835", "Directors' Loan Account", "CURRLIAB", "NONE", {"EnablePaymentsToAccount": True}),
    ("860", "Rounding", "CURRLIAB", "NONE", {"SystemAccount": "ROUNDING"}),
    ("960", "Retained Earnings", "EQUITY", "NONE", {"SystemAccount": "RETAINEDEARNINGS"}),
]

_US_TAX = [
    _tax_rate("Tax on Purchases", "INPUT", "INPUT", "0", "AXL"),
    _tax_rate("Tax on Sales", "OUTPUT", "OUTPUT", "0", "AR"),
    _tax_rate("Tax Exempt", "NONE", "NONE", "0", "AQXLR"),
    _tax_rate("Sales Tax on Imports", "GSTONIMPORTS", "GSTONIMPORTS", "0", "L"),
    _tax_rate("New York Sales Tax", "TAX001", "OUTPUT", "8.875", "R"),
]

_UK_TAX = [
    _tax_rate("20% (VAT on Expenses)", "INPUT2", "INPUT", "20", "AXL"),
    _tax_rate("5% (VAT on Expenses)", "RRINPUT", "INPUT", "5", "AXL"),
    _tax_rate("Zero Rated Expenses", "ZERORATEDINPUT", "INPUT", "0", "AXL"),
    _tax_rate("Exempt Expenses", "EXEMPTINPUT", "EXEMPTINPUT", "0", "AXL"),
    _tax_rate("No VAT", "NONE", "NONE", "0", "AQXLR"),
    _tax_rate("20% (VAT on Capital Purchases)", "CAPEXINPUT2", "INPUT", "20", "A"),
    _tax_rate("Zero Rated EC Expenses", "ECZRINPUT", "ECINPUT", "0", "AX"),
    _tax_rate("VAT on Imports", "GSTONIMPORTS", "GSTONIMPORTS", "0", "L"),
    _tax_rate("20% (VAT on Income)", "OUTPUT2", "OUTPUT", "20", "R"),
    _tax_rate("5% (VAT on Income)", "RROUTPUT", "OUTPUT", "5", "R"),
    _tax_rate("Zero Rated Income", "ZERORATEDOUTPUT", "OUTPUT", "0", "R"),
    _tax_rate("Exempt Income", "EXEMPTOUTPUT", "EXEMPTOUTPUT", "0", "R"),
]


def us_demo(seed: int, key: str = "us") -> OrgSeed:
    """Demo Company (US): USD, Eastern time, sales tax not recoverable on purchases."""
    return OrgSeed(
        key=key,
        organisation=_organisation(
            seed,
            key,
            {
                "Name": _numbered("Demo Company (US)", key),
                "LegalName": "Demo Company (US) Inc.",
                "Version": "US",
                "BaseCurrency": "USD",
                "CountryCode": "US",
                "Timezone": "EASTERNSTANDARDTIME",
                "FinancialYearEndMonth": 12,
                "SalesTaxPeriod": "NONE",
            },
        ),
        accounts=_accounts(seed, key, _US_ACCOUNTS, "USD"),
        tax_rates=[dict(rate) for rate in _US_TAX],
        currencies=[{"Code": "USD", "Description": "United States Dollar"}],
        tracking=[
            _tracking(
                seed, key, "Department", [(n, "ACTIVE") for n in ("Operations", "Sales", "IT")]
            ),
            _tracking(seed, key, "Location", [("New York", "ACTIVE"), ("Austin", "ACTIVE")]),
        ],
        contacts=[
            _contact(seed, key, "Amazon Business"),
            _contact(seed, key, "Staples"),
            _contact(seed, key, "Old Supplier Inc", "ARCHIVED"),
        ],
        iana_timezone="America/New_York",
    )


def uk_demo(seed: int, key: str = "uk") -> OrgSeed:
    """Demo Company (UK): GBP, London time, VAT registered, EUR and USD enabled."""
    return OrgSeed(
        key=key,
        organisation=_organisation(
            seed,
            key,
            {
                "Name": _numbered("Demo Company (UK)", key),
                "LegalName": "Demo Company (UK) Ltd",
                "Version": "UK",
                "BaseCurrency": "GBP",
                "CountryCode": "GB",
                "Timezone": "GMTSTANDARDTIME",
                "FinancialYearEndMonth": 3,
                "SalesTaxPeriod": "QUARTERLY1",
                "PeriodLockDate": date(2025, 6, 30),
                "EndOfYearLockDate": date(2025, 3, 31),
            },
        ),
        accounts=_accounts(seed, key, _UK_ACCOUNTS, "GBP"),
        tax_rates=[dict(rate) for rate in _UK_TAX],
        currencies=[
            {"Code": "GBP", "Description": "British Pound"},
            {"Code": "EUR", "Description": "Euro"},
            {"Code": "USD", "Description": "United States Dollar"},
        ],
        tracking=[
            _tracking(
                seed, key, "Department", [(n, "ACTIVE") for n in ("Operations", "Sales", "IT")]
            ),
            _tracking(
                seed,
                key,
                "Region",
                [("London", "ACTIVE"), ("Manchester", "ACTIVE"), ("Edinburgh", "ARCHIVED")],
            ),
        ],
        contacts=[
            _contact(seed, key, "Amazon Business"),
            _contact(seed, key, "Viking Direct"),
            _contact(seed, key, "Archived Supplier Ltd", "ARCHIVED"),
        ],
        iana_timezone="Europe/London",
    )


def _numbered(name: str, key: str) -> str:
    """The demo name, with the copy's number for copies after the first (``"us3"`` → 3)."""
    number = key[2:]
    return f"{name} {number}" if number else name


def demo_organisations(seed: int, copies: int = 1) -> list[OrgSeed]:
    """The organisations a fresh simulator holds: the two demo companies, ``copies`` times.

    The first copy is keyed "us" and "uk"; copy ``n`` > 1 is keyed "us{n}" and "uk{n}" and
    named "Demo Company (US) {n}" / "(UK) {n}", with its own GUIDs (they derive from the key).
    """
    organisations = [us_demo(seed), uk_demo(seed)]
    for number in range(2, copies + 1):
        organisations += [us_demo(seed, f"us{number}"), uk_demo(seed, f"uk{number}")]
    return organisations


# Extra organisations in time zones far from UTC, so "today in the organisation" differs from
# the UTC date for much of the day. Xero names zones the Windows way (the spec's ``TimeZone``
# enum in xero_accounting.yaml lists SAWESTERNSTANDARDTIME, WESTPACIFICSTANDARDTIME and
# EEUROPESTANDARDTIME); the IANA zones are those Windows maps them to (CLDR windowsZones).
# zone -> (key, demo company it copies, label, IANA zone)
ZONED_ORGANISATIONS: dict[str, tuple[str, str, str, str]] = {
    "SAWESTERNSTANDARDTIME": ("us-sawestern", "us", "La Paz", "America/La_Paz"),
    "WESTPACIFICSTANDARDTIME": ("uk-westpacific", "uk", "Port Moresby", "Pacific/Port_Moresby"),
    "EEUROPESTANDARDTIME": ("uk-eeurope", "uk", "Chisinau", "Europe/Chisinau"),
}


def zoned_organisations(seed: int, zones: tuple[str, ...]) -> list[OrgSeed]:
    """One extra organisation per Xero zone name in ``zones`` (see ``ZONED_ORGANISATIONS``).

    Each copies the US or UK demo company under its own key (e.g. "uk-westpacific") with its
    own GUIDs, named like "Demo Company (UK) Port Moresby", and set in that zone.
    """
    organisations = []
    for zone in zones:
        if zone.upper() not in ZONED_ORGANISATIONS:
            raise ValueError(f"no seeded organisation for time zone {zone!r}")
        key, base, label, iana = ZONED_ORGANISATIONS[zone.upper()]
        demo = us_demo(seed, key) if base == "us" else uk_demo(seed, key)
        country = "US" if base == "us" else "UK"
        info = {
            **demo.organisation,
            "Name": f"Demo Company ({country}) {label}",
            "Timezone": zone.upper(),
        }
        organisations.append(replace(demo, organisation=info, iana_timezone=iana))
    return organisations
