"""Line items: accounts, tax types, tracking, and Xero's per-line tax rounding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from abxero_sim.xero.state import MONEY, Org, Record
from abxero_sim.xero.wire import to_decimal

PURCHASE_TYPES = frozenset({"ACCPAY", "ACCPAYCREDIT", "SPEND"})
_CLASS_FLAG = {
    "ASSET": "CanApplyToAssets",
    "EQUITY": "CanApplyToEquity",
    "EXPENSE": "CanApplyToExpenses",
    "LIABILITY": "CanApplyToLiabilities",
    "REVENUE": "CanApplyToRevenue",
}


def money(value: Decimal) -> Decimal:
    """Round to cents the way Xero does (half away from zero)."""
    return value.quantize(MONEY, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineContext:
    """What a line needs to know about its document."""

    org: Org
    doc_type: str
    amount_types: str
    authorised: bool
    unit_places: int
    tax_override_allowed: bool = True


@dataclass
class BuiltLine:
    """A line as Xero stores it, with its net (ex-tax) amount and tax."""

    record: Record
    net: Decimal
    tax: Decimal


def build_line(ctx: LineContext, raw: dict[str, Any], errors: list[str]) -> BuiltLine:
    """Validate one line item and compute its amounts; problems go into ``errors``."""
    record: Record = {k: v for k, v in raw.items() if k not in {"Tracking"}}
    if not raw.get("Description") and not raw.get("ItemCode"):
        errors.append("Description is required for each line item.")
    account = _line_account(ctx, raw, errors)
    if account is not None:
        record["AccountCode"] = account.get("Code")
        record["AccountID"] = account["AccountID"]
    line_amount, quantity, unit = _amounts(ctx, raw, errors)
    record.update(Quantity=quantity, UnitAmount=unit, LineAmount=line_amount)
    tax_type, rate = _tax(ctx, raw, account, errors)
    record["TaxType"] = tax_type
    tax = _line_tax(ctx.amount_types, line_amount, rate)
    tax = _overridden_tax(ctx, tax_type, tax, to_decimal(raw.get("TaxAmount")), errors)
    record["TaxAmount"] = tax
    record["Tracking"] = _tracking(ctx.org, raw.get("Tracking") or [], errors)
    net = line_amount - tax if ctx.amount_types == "Inclusive" else line_amount
    return BuiltLine(record=record, net=net, tax=tax)


def _overridden_tax(
    ctx: LineContext, tax_type: str, computed: Decimal, override: Decimal | None, errors: list[str]
) -> Decimal:
    """The line's tax once an explicit ``TaxAmount`` is taken into account.

    Bills and credit notes keep an explicit ``TaxAmount`` (docs: "auto-calculated, may be
    overridden"). Bank transactions refuse one that differs from Xero's own figure:
    "Tax amount 52.23 is incorrect for INPUT2 tax type, should be 52.28"
    (https://github.com/XeroAPI/xero-node/issues/768) unless ``tax_override_allowed``.
    """
    if override is None or ctx.amount_types == "NoTax":
        return computed
    if ctx.tax_override_allowed or money(override) == computed:
        return money(override)
    errors.append(
        f"Tax amount {money(override)} is incorrect for {tax_type} tax type, should be {computed}"
    )
    return computed


def _line_account(ctx: LineContext, raw: dict[str, Any], errors: list[str]) -> Record | None:
    code, account_id = raw.get("AccountCode"), raw.get("AccountID")
    if not code and not account_id:
        if ctx.authorised:
            errors.append("Each line item must have an account code when the document is approved.")
        return None
    account = ctx.org.account_by_code(str(code)) if code else ctx.org.account_by_id(str(account_id))
    shown = code or account_id
    if account is None or account["Type"] == "BANK":
        errors.append(f"Account code '{shown}' is not a valid code for this document.")
        return None
    if account["Status"] != "ACTIVE":
        errors.append(
            f"Account code '{shown}' has been archived, or has been deleted. "
            "Each line item must reference a valid account."
        )
        return None
    return account


def _amounts(
    ctx: LineContext, raw: dict[str, Any], errors: list[str]
) -> tuple[Decimal, Decimal, Decimal]:
    quantity = to_decimal(raw.get("Quantity"))
    quantity = Decimal(1) if quantity is None else quantity
    unit = to_decimal(raw.get("UnitAmount"))
    given_total = to_decimal(raw.get("LineAmount"))
    places = Decimal(1).scaleb(-ctx.unit_places)
    if unit is not None:
        unit = unit.quantize(places, rounding=ROUND_HALF_UP)
        line = money(quantity * unit)
        if given_total is not None and money(given_total) != line:
            errors.append(
                f"The line total {money(given_total)} does not match the expected line total {line}"
            )
        return line, quantity, unit
    if given_total is not None:
        line = money(given_total)
        unit = (line / quantity).quantize(places, rounding=ROUND_HALF_UP) if quantity else line
        return line, quantity, unit
    return Decimal("0.00"), quantity, Decimal("0.00")


def _tax(
    ctx: LineContext, raw: dict[str, Any], account: Record | None, errors: list[str]
) -> tuple[str, Decimal]:
    if ctx.amount_types == "NoTax":
        return str(raw.get("TaxType") or "NONE"), Decimal(0)
    tax_type = raw.get("TaxType") or (account or {}).get("TaxType") or "NONE"
    rate = ctx.org.tax_rate(str(tax_type))
    if rate is None or rate["Status"] != "ACTIVE":
        errors.append(f"The TaxType code '{tax_type}' does not exist or is not active.")
        return str(tax_type), Decimal(0)
    if ctx.doc_type in PURCHASE_TYPES and rate["ReportTaxType"] == "OUTPUT":
        errors.append(f"The TaxType code '{tax_type}' cannot be used on a purchase transaction.")
    elif account is not None and not rate[_CLASS_FLAG[account["Class"]]]:
        errors.append(
            f"The TaxType code '{tax_type}' cannot be used with account code '{account['Code']}'"
        )
    return str(tax_type), Decimal(rate["EffectiveRate"]) / 100


def _line_tax(amount_types: str, line_amount: Decimal, rate: Decimal) -> Decimal:
    if amount_types == "NoTax" or not rate:
        return Decimal("0.00")
    if amount_types == "Inclusive":
        return money(line_amount * rate / (1 + rate))
    return money(line_amount * rate)


def _tracking(org: Org, raw: list[Any], errors: list[str]) -> list[Record]:
    if len(raw) > 2:
        errors.append("A line item can have a maximum of 2 tracking categories.")
    chosen = []
    for item in raw[:2]:
        resolved = _tracking_option(org, item, errors)
        if resolved is not None:
            chosen.append(resolved)
    return chosen


def _tracking_option(org: Org, item: dict[str, Any], errors: list[str]) -> Record | None:
    wanted_id = str(item.get("TrackingCategoryID") or "").lower()
    wanted_name = str(item.get("Name") or "")
    category = next(
        (
            c
            for c in org.tracking
            if c["Status"] == "ACTIVE"
            and (c["TrackingCategoryID"] == wanted_id or (wanted_name and c["Name"] == wanted_name))
        ),
        None,
    )
    if category is None:
        errors.append(f"Tracking category '{wanted_name or wanted_id}' does not exist.")
        return None
    option_id = str(item.get("TrackingOptionID") or "").lower()
    option_name = str(item.get("Option") or "")
    option = next(
        (
            o
            for o in category["Options"]
            if o["TrackingOptionID"] == option_id or (option_name and o["Name"] == option_name)
        ),
        None,
    )
    if option is None or option["Status"] != "ACTIVE":
        errors.append(
            f"Tracking option '{option_name or option_id}' is not an active option "
            f"of tracking category '{category['Name']}'."
        )
        return None
    return {
        "TrackingCategoryID": category["TrackingCategoryID"],
        "TrackingOptionID": option["TrackingOptionID"],
        "Name": category["Name"],
        "Option": option["Name"],
    }
