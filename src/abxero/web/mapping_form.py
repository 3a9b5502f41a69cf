"""The mapping form: a flat dict of field values to and from a :class:`MappingConfig`.

Field names are the mapping's own entry paths (``expenses.default_account``,
``payment_methods['Visa/1234']``, ``taxes.vat_rates['0.20']``), so a problem that
:func:`~abxero.domain.mapping_checks.check_mapping` reports lands next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from abxero.domain.mapping import (
    MAX_TRACKING_CATEGORIES,
    RECLAIM,
    AccountPayment,
    ExpenseRule,
    Expenses,
    LineTypes,
    MappingConfig,
    PayByInvoice,
    PaymentMethod,
    PaymentPolicy,
    RuleField,
    SalesTaxTarget,
    SellerCoding,
    Taxes,
    TaxMode,
    TrackingRule,
    TrackingSource,
    seller_key,
)
from abxero.domain.mapping_checks import MappingProblem
from abxero.domain.transactions import Instrument

LINE_TYPES = (
    ("shipping", "Shipping"),
    ("gift_wrap", "Gift wrap"),
    ("regulatory_fee", "Regulatory fees"),
    ("discount", "Discounts"),
    ("adjustment", "Amazon adjustments (amount beyond the order lines)"),
)
RULE_FIELDS = (
    (RuleField.BUSINESS_ORDER_INFO.value, "Business Order Info field"),
    (RuleField.UNSPSC_PREFIX.value, "UNSPSC code starts with"),
    (RuleField.PURCHASING_GROUP.value, "Purchasing group"),
    (RuleField.LEGAL_ENTITY.value, "Legal entity"),
    (RuleField.SELLER.value, "Seller"),
    (RuleField.TITLE_KEYWORD.value, "Item title contains"),
)
TRACKING_SOURCES = (
    (TrackingSource.BUSINESS_ORDER_INFO.value, "Business Order Info field"),
    (TrackingSource.PURCHASING_GROUP.value, "Purchasing group"),
    (TrackingSource.LEGAL_ENTITY.value, "Legal entity"),
)
ONE_CONTACT = "one"
CONTACT_PER_SELLER = "per_seller"
CONTACT_CHOICES = (
    (ONE_CONTACT, 'One supplier contact, "Amazon Business", for every purchase'),
    (CONTACT_PER_SELLER, "One contact per seller (its legal name on Amazon)"),
)
AUTOMATIC = ""
BLANK_RULE_ROWS = 2
MAX_RULES = 50
MAX_PAYMENT_FIELDS = 200
MAX_KEY_LENGTH = 200
MAX_SELLER_FIELDS = 500
TOO_MANY_RULES = f"A mapping holds at most {MAX_RULES} expense rules. Remove some and save again."
TOO_MANY_METHODS = (
    f"The form lists more than {MAX_PAYMENT_FIELDS} payment methods. Reload the page and try again."
)
INVOICE = "invoice"
PAID_FROM = "account:"
SPEND_FROM = "spend:"
PAYMENT_FIELD = re.compile(r"^payment_methods\['(.*)'\]$")
VAT_FIELD = re.compile(r"^taxes\.vat_rates\['(.*)'\]$")
RULE_FIELD = re.compile(r"^expenses\.rules\[(\d+)\]\.(match|label|value|account)$")
RULE_ENTRY = re.compile(r"^expenses\.rules\[(\d+)\]\.account$")
TRACKING_FIELD = re.compile(r"^tracking\[(\d)\]\.(category|source|label|default_option|options)$")
MAX_OPTION_LINES = 200
TRACKING_ENTRY = re.compile(r"^tracking\[(\d+)\]")
SELLER_TAX_FIELD = re.compile(r"^sellers\.tax_overrides\['(.*)'\]$")
TOO_MANY_SELLERS = (
    f"The form lists more than {MAX_SELLER_FIELDS} sellers. Reload the page and try again."
)


def payment_field(key: str) -> str:
    return f"payment_methods['{key}']"


def vat_field(rate: str) -> str:
    return f"taxes.vat_rates['{rate}']"


def rule_field(index: int, part: str) -> str:
    return f"expenses.rules[{index}].{part}"


def tracking_field(index: int, part: str) -> str:
    return f"tracking[{index}].{part}"


def seller_tax_field(name: str) -> str:
    """The override select of a seller, named by its comparison key."""
    return f"sellers.tax_overrides['{seller_key(name)}']"


def _method_value(method: PaymentMethod | None) -> str:
    if isinstance(method, PayByInvoice):
        return INVOICE
    if isinstance(method, AccountPayment):
        prefix = SPEND_FROM if method.policy is PaymentPolicy.SPEND_MONEY else PAID_FROM
        return prefix + method.account
    return ""


def values_from_mapping(mapping: MappingConfig, instrument_keys: Iterable[str]) -> dict[str, str]:
    """The form's initial values for ``mapping`` and every instrument to show."""
    values = {
        "expenses.default_account": mapping.expenses.default_account,
        "pay_by_invoice.terms_days": str(mapping.pay_by_invoice.terms_days)
        if mapping.pay_by_invoice
        else "30",
        "taxes.no_tax_type": mapping.taxes.no_tax_type,
        "taxes.sales_tax_target": mapping.taxes.sales_tax_target.value,
        "taxes.sales_tax_account": mapping.taxes.sales_tax_account or "",
    }
    for rate, tax_type in mapping.taxes.vat_rates.items():
        values[vat_field(rate)] = tax_type
    for name, _ in LINE_TYPES:
        values[f"line_types.{name}"] = getattr(mapping.line_types, name) or ""
    for index, rule in enumerate(mapping.expenses.rules):
        values.update(
            {
                rule_field(index, "match"): rule.match.value,
                rule_field(index, "label"): rule.label,
                rule_field(index, "value"): rule.value,
                rule_field(index, "account"): rule.account,
            }
        )
    for key in sorted({*mapping.payment_methods, *instrument_keys}):
        values[payment_field(key)] = _method_value(mapping.payment_method(Instrument.from_key(key)))
    values.update(tracking_values(mapping.tracking))
    values.update(seller_values(mapping.sellers))
    return values


def tracking_values(rules: Sequence[TrackingRule]) -> dict[str, str]:
    values: dict[str, str] = {}
    for index in range(MAX_TRACKING_CATEGORIES):
        rule = rules[index] if index < len(rules) else None
        values[tracking_field(index, "category")] = rule.category if rule else ""
        values[tracking_field(index, "source")] = (
            rule.source.value if rule else TrackingSource.BUSINESS_ORDER_INFO.value
        )
        values[tracking_field(index, "label")] = rule.label if rule else ""
        values[tracking_field(index, "default_option")] = (
            (rule.default_option or "") if rule else ""
        )
        values[tracking_field(index, "options")] = (
            "\n".join(f"{value} = {option}" for value, option in rule.options.items())
            if rule
            else ""
        )
    return values


def option_lines(text: str) -> dict[str, str]:
    """``value = option`` lines (blank lines ignored) as a dict; ValueError names a bad line."""
    options: dict[str, str] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_OPTION_LINES:
        raise ValueError(f"at most {MAX_OPTION_LINES} option lines")
    for line in lines:
        value, equals, option = line.partition("=")
        if not equals or not value.strip() or not option.strip():
            raise ValueError(f"write each line as value = option, not {line[:60]!r}")
        options[value.strip()] = option.strip()
    return options


def seller_values(sellers: SellerCoding) -> dict[str, str]:
    values = {
        "sellers.contact": CONTACT_PER_SELLER if sellers.contact_per_seller else ONE_CONTACT,
        "sellers.flagged_tax_type": sellers.flagged_tax_type or "",
    }
    for key, tax_type in sellers.tax_overrides.items():
        values[f"sellers.tax_overrides['{key}']"] = tax_type
    return values


@dataclass
class ParsedForm:
    """The mapping the form describes (or ``None``), and messages by field name."""

    mapping: MappingConfig | None
    errors: dict[str, str] = field(default_factory=dict)
    rule_rows: list[int] = field(default_factory=list)
    tracking_rows: list[int] = field(default_factory=list)
    candidate: MappingConfig | None = None


def form_values(form: Mapping[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


def rule_indices(values: Mapping[str, str]) -> list[int]:
    """The rule rows the form holds, never beyond ``MAX_RULES`` (a row number is untrusted)."""
    found = {
        int(match.group(1))
        for key in values
        if (match := RULE_FIELD.match(key)) and len(match.group(1)) <= 4
    }
    return sorted(index for index in found if index < MAX_RULES)


def rule_row_count(values: Mapping[str, str]) -> int:
    indices = rule_indices(values)
    used = [i for i in indices if values.get(rule_field(i, "value"), "").strip()]
    return min((max(used) + 1 if used else 0) + BLANK_RULE_ROWS, MAX_RULES)


def bounded(values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The form's values within the limits, and a message for each limit passed."""
    errors: dict[str, str] = {}
    kept: dict[str, str] = {}
    payments = sellers = 0
    for key, value in values.items():
        if SELLER_TAX_FIELD.match(key):
            sellers += 1
            if sellers > MAX_SELLER_FIELDS or len(key) > 1100:
                errors["form"] = TOO_MANY_SELLERS
                continue
        rule = RULE_FIELD.match(key)
        if rule and (len(rule.group(1)) > 4 or int(rule.group(1)) >= MAX_RULES):
            errors["form"] = TOO_MANY_RULES
            continue
        if PAYMENT_FIELD.match(key):
            payments += 1
            if payments > MAX_PAYMENT_FIELDS or len(key) > MAX_KEY_LENGTH + 20:
                errors["form"] = TOO_MANY_METHODS
                continue
        kept[key] = value
    return kept, errors


def _message(problem: ValidationError) -> str:
    first = problem.errors()[0]
    return str(first.get("msg", "is not valid")).removeprefix("Value error, ")


PLACEHOLDER = "?"
"""Stands in for a missing account while the rest of the form is checked; never saved."""
SALES_TAX_ACCOUNT_NEEDED = (
    'Choose the account for sales tax, or choose "The same account as the item".'
)
DEFAULT_ACCOUNT_NEEDED = "Choose the default expense account for item lines."


def mapping_from_values(
    values: Mapping[str, str], *, uk: bool, base: MappingConfig | None
) -> ParsedForm:
    """Build the mapping; each unusable entry gets a message under its field name.

    Every field is looked at, whatever else is wrong: ``candidate`` is the mapping with
    placeholders where a field could not be read, so the caller can check the rest against the
    organisation and show all problems at once.
    """
    values, limits = bounded(values)
    parsed = ParsedForm(None, dict(limits))
    terms = _terms(values, parsed)
    rules = _rules(values, parsed)
    methods: dict[str, PaymentMethod] = {}
    for key, value in values.items():
        match = PAYMENT_FIELD.match(key)
        if match and value:
            method = method_from_value(value, terms)
            if method is not None:
                methods[match.group(1)] = method
    default = values.get("expenses.default_account", "").strip()
    if not default:
        parsed.errors["expenses.default_account"] = DEFAULT_ACCOUNT_NEEDED
    try:
        parsed.candidate = MappingConfig(
            payment_methods=methods,
            pay_by_invoice=PayByInvoice(terms_days=terms),
            expenses=Expenses(default_account=default or PLACEHOLDER, rules=tuple(rules)),
            line_types=LineTypes(
                **{name: values.get(f"line_types.{name}") or None for name, _ in LINE_TYPES}
            ),
            taxes=_taxes(values, uk, parsed),
            tracking=_tracking(values, parsed, base),
            sellers=_sellers(values, uk, base),
        )
    except ValidationError as problem:
        parsed.errors.setdefault(_field_of(problem), _sentence(_message(problem)))
        return parsed
    if not parsed.errors:
        parsed.mapping = parsed.candidate
    return parsed


def merged_errors(first: Mapping[str, str], then: Mapping[str, str]) -> dict[str, str]:
    """``first``'s messages, and ``then``'s for fields ``first`` says nothing about."""
    return {**then, **first}


def _field_of(problem: ValidationError) -> str:
    location = ".".join(str(part) for part in problem.errors()[0].get("loc", ()))
    if location.startswith("expenses.default_account"):
        return "expenses.default_account"
    if location.startswith("taxes"):
        return "taxes.sales_tax_account"
    if location.startswith("sellers"):
        return "sellers.flagged_tax_type"
    return "form"


def _terms(values: Mapping[str, str], parsed: ParsedForm) -> int:
    text = values.get("pay_by_invoice.terms_days", "30").strip() or "30"
    if not re.fullmatch(r"[0-9]{1,3}", text) or not 0 <= int(text) <= 365:
        parsed.errors["pay_by_invoice.terms_days"] = "Enter a number of days from 0 to 365."
        return 30
    return int(text)


def _rules(values: Mapping[str, str], parsed: ParsedForm) -> list[ExpenseRule]:
    rules = []
    for index in rule_indices(values):
        value = values.get(rule_field(index, "value"), "").strip()
        account = values.get(rule_field(index, "account"), "").strip()
        if not value and not account:
            continue
        try:
            rules.append(
                ExpenseRule(
                    match=RuleField(values.get(rule_field(index, "match"), "")),
                    value=value,
                    account=account,
                    label=values.get(rule_field(index, "label"), "").strip(),
                )
            )
        except (ValidationError, ValueError) as problem:
            text = _message(problem) if isinstance(problem, ValidationError) else str(problem)
            parsed.errors[rule_field(index, "value")] = _rule_message(text, value, account)
            continue
        parsed.rule_rows.append(index)
    return rules


def _tracking(
    values: Mapping[str, str], parsed: ParsedForm, base: MappingConfig | None
) -> tuple[TrackingRule, ...]:
    """The tracking rows of the form; a form without them keeps the saved rules."""
    if not any(TRACKING_FIELD.match(key) for key in values):
        return base.tracking if base else ()
    saved = (
        {(rule.category.casefold(), rule.source): rule for rule in base.tracking} if base else {}
    )
    rules = []
    for index in range(MAX_TRACKING_CATEGORIES):
        category = values.get(tracking_field(index, "category"), "").strip()
        if not category:
            continue
        options_text = values.get(tracking_field(index, "options"))
        try:
            options = option_lines(options_text) if options_text is not None else None
        except ValueError as problem:
            parsed.errors[tracking_field(index, "options")] = _sentence(str(problem))
            continue
        try:
            source = TrackingSource(values.get(tracking_field(index, "source"), ""))
            kept = saved.get((category.casefold(), source))
            if options is None:
                options = dict(kept.options) if kept else {}
            rules.append(
                TrackingRule(
                    category=category,
                    source=source,
                    label=values.get(tracking_field(index, "label"), "").strip(),
                    options=options,
                    default_option=values.get(tracking_field(index, "default_option"), "").strip()
                    or None,
                )
            )
            parsed.tracking_rows.append(index)
        except (ValidationError, ValueError) as problem:
            text = _message(problem) if isinstance(problem, ValidationError) else str(problem)
            parsed.errors[tracking_field(index, "label")] = _tracking_message(text)
    return tuple(rules)


def _tracking_message(text: str) -> str:
    if "label" in text:
        return "Enter the Business Order Info field the option comes from, e.g. Cost centre."
    return "Choose where the tracking option comes from."


def _sellers(values: Mapping[str, str], uk: bool, base: MappingConfig | None) -> SellerCoding:
    """The seller choices of the form; a form without them keeps the saved ones."""
    if "sellers.contact" not in values:
        return base.sellers if base else SellerCoding()
    per_seller = values.get("sellers.contact") == CONTACT_PER_SELLER
    if not uk:
        return SellerCoding(contact_per_seller=per_seller)
    overrides = {
        match.group(1): value
        for key, value in values.items()
        if (match := SELLER_TAX_FIELD.match(key)) and value != AUTOMATIC
    }
    return SellerCoding(
        contact_per_seller=per_seller,
        flagged_tax_type=values.get("sellers.flagged_tax_type") or None,
        tax_overrides=overrides,
    )


def seller_tax_options(zero_rates: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """What a seller's override offers: automatic, reclaim as usual, or a 0 % rate."""
    return [
        (AUTOMATIC, "As recognised"),
        (RECLAIM, "VAT-registered: reclaim its VAT as usual"),
        *[(value, f"VAT not reclaimable: {label}") for value, label in zero_rates],
    ]


def _rule_message(text: str, value: str, account: str) -> str:
    if not value:
        return "Enter the value this rule matches."
    if not account:
        return "Choose the account for this rule."
    if "label" in text:
        return "Enter the name of the Business Order Info field, e.g. GL code."
    return text


def method_from_value(value: str, terms: int) -> PaymentMethod | None:
    """The payment method a select value stands for; ``None`` for "not mapped"."""
    if value == INVOICE:
        return PayByInvoice(terms_days=terms)
    if value.startswith(PAID_FROM) and len(value) > len(PAID_FROM):
        return AccountPayment(account=value.removeprefix(PAID_FROM))
    if value.startswith(SPEND_FROM) and len(value) > len(SPEND_FROM):
        return AccountPayment(
            account=value.removeprefix(SPEND_FROM), policy=PaymentPolicy.SPEND_MONEY
        )
    return None


def _taxes(values: Mapping[str, str], uk: bool, parsed: ParsedForm) -> Taxes:
    no_tax = values.get("taxes.no_tax_type") or "NONE"
    if uk:
        rates = {
            match.group(1): value
            for key, value in values.items()
            if (match := VAT_FIELD.match(key)) and value
        }
        return Taxes(mode=TaxMode.UK_VAT, vat_rates=rates, no_tax_type=no_tax)
    text = values.get("taxes.sales_tax_target") or SalesTaxTarget.ITEM_ACCOUNT.value
    target = SalesTaxTarget(text) if text in set(SalesTaxTarget) else None
    account = values.get("taxes.sales_tax_account") or None
    if target is None:
        parsed.errors["taxes.sales_tax_target"] = "Choose where sales tax goes."
    elif target is SalesTaxTarget.ACCOUNT and not account:
        parsed.errors["taxes.sales_tax_account"] = SALES_TAX_ACCOUNT_NEEDED
    usable = target if target is SalesTaxTarget.ACCOUNT and account else None
    return Taxes(
        mode=TaxMode.US_SALES_TAX,
        sales_tax_target=usable or SalesTaxTarget.ITEM_ACCOUNT,
        sales_tax_account=account,
        no_tax_type=no_tax,
    )


def problem_fields(
    problems: Sequence[MappingProblem],
    rule_rows: Sequence[int],
    tracking_rows: Sequence[int] = (),
) -> dict[str, str]:
    """Each problem of ``check_mapping`` under the name of the field that caused it."""
    errors: dict[str, str] = {}
    for problem in problems:
        entry = problem.entry
        if entry.startswith("payment_methods[") and entry.endswith(".account"):
            entry = entry.removesuffix(".account")
        elif match := RULE_ENTRY.match(entry):
            position = int(match.group(1))
            row = rule_rows[position] if position < len(rule_rows) else position
            entry = rule_field(row, "account")
        elif match := TRACKING_ENTRY.match(entry):
            position = int(match.group(1))
            row = tracking_rows[position] if position < len(tracking_rows) else position
            entry = tracking_field(row, "category")
        errors.setdefault(entry, _sentence(problem.message))
    return errors


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
