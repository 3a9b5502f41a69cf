"""Does a mapping make sense for this organisation? Each problem names the offending entry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from abxero.domain.context import Account, OrgContext
from abxero.domain.mapping import (
    RECLAIM,
    AccountPayment,
    MappingConfig,
    PaymentPolicy,
    SalesTaxTarget,
    TaxMode,
    TrackingRule,
)
from abxero.domain.transactions import Instrument


@dataclass(frozen=True)
class MappingProblem:
    """``entry`` is a path into the mapping, e.g. ``payment_methods['Visa/1234'].account``."""

    entry: str
    message: str


def expense_account_problem(reference: str, context: OrgContext) -> str | None:
    """Why ``reference`` cannot take a purchase line, or ``None`` when it can."""
    account = context.account(reference)
    if account is None:
        return f"account {reference!r} does not exist in the organisation"
    if not account.is_active:
        return f"account {account.label} is {account.status.lower()}"
    if not account.takes_purchases:
        return f"account {account.label} is a {account.type} account, not one for purchases"
    return None


def payment_account_problem(method: AccountPayment, context: OrgContext) -> str | None:
    """Why the payment account of ``method`` cannot be used, or ``None``."""
    account = context.account(method.account)
    if account is None:
        return f"account {method.account!r} does not exist in the organisation"
    if not account.is_active:
        return f"account {account.label} is {account.status.lower()}"
    if method.policy is PaymentPolicy.SPEND_MONEY and not account.is_bank:
        return f"account {account.label} is not a bank or credit-card account"
    if not account.accepts_payments:
        return f"account {account.label} does not accept payments"
    return None


def tax_type_problem(tax_type: str, context: OrgContext, account: Account | None) -> str | None:
    """Why ``tax_type`` cannot be used on a purchase (on ``account``, when given)."""
    rate = context.tax_rate(tax_type)
    if rate is None:
        return f"tax type {tax_type!r} does not exist in the organisation"
    if not rate.is_active:
        return f"tax type {tax_type} ({rate.name}) is {rate.status.lower()}"
    if rate.is_sales_side:
        return f"tax type {tax_type} ({rate.name}) is for sales, not purchases"
    if not rate.applies_to_purchases:
        return f"tax type {tax_type} ({rate.name}) cannot be used on purchases"
    if account is not None and not rate.allows(account):
        return f"tax type {tax_type} cannot be used with account {account.label}"
    return None


def tracking_problem(rule: TrackingRule, context: OrgContext) -> str | None:
    category = context.tracking_category(rule.category)
    if category is None:
        return f"tracking category {rule.category!r} does not exist"
    if not category.is_active:
        return f"tracking category {category.name} is {category.status.lower()}"
    wanted = [*rule.options.values(), *([rule.default_option] if rule.default_option else [])]
    for option in wanted:
        if category.option(option) is None:
            return f"tracking category {category.name} has no active option {option!r}"
    return None


def currency_problem(
    method: AccountPayment, label: str, currencies: frozenset[str], context: OrgContext
) -> str | None:
    """Why the account of ``method`` cannot take purchases paid in ``currencies``, or ``None``.

    A Xero bank account holds one currency (its ``CurrencyCode``, else the base currency), and
    a payment from it is in that currency, so a card's purchases must all be in it.
    """
    account = context.account(method.account)
    if account is None or not currencies:
        return None
    holds = (account.currency or context.base_currency).upper()
    other = sorted(code for code in currencies if code.upper() != holds)
    if not other:
        return None
    return (
        f"{label} pays in {', '.join(other)}, but {account.label} holds {holds}; choose an "
        f"account in {other[0]}"
    )


def check_mapping(
    mapping: MappingConfig,
    context: OrgContext,
    currencies: Mapping[str, frozenset[str]] | None = None,
) -> tuple[MappingProblem, ...]:
    """Every problem of ``mapping`` against ``context``; empty when it is usable.

    ``currencies``: the currencies each instrument's transactions are in, by instrument key.
    """
    return tuple(_problems(mapping, context, currencies or {}))


def _problems(
    mapping: MappingConfig, context: OrgContext, currencies: Mapping[str, frozenset[str]]
) -> Iterator[MappingProblem]:
    for key, method in sorted(mapping.payment_methods.items()):
        if isinstance(method, AccountPayment):
            problem = payment_account_problem(method, context) or currency_problem(
                method, Instrument.from_key(key).label, currencies.get(key, frozenset()), context
            )
            if problem:
                yield MappingProblem(f"payment_methods[{key!r}].account", problem)
    yield from _expense_problems(mapping, context)
    yield from _tax_problems(mapping, context)
    for index, rule in enumerate(mapping.tracking):
        problem = tracking_problem(rule, context)
        if problem:
            yield MappingProblem(f"tracking[{index}]", problem)


def _expense_accounts(mapping: MappingConfig) -> Iterator[tuple[str, str]]:
    yield "expenses.default_account", mapping.expenses.default_account
    for index, rule in enumerate(mapping.expenses.rules):
        yield f"expenses.rules[{index}].account", rule.account
    for name in ("shipping", "gift_wrap", "regulatory_fee", "discount", "adjustment"):
        reference = getattr(mapping.line_types, name)
        if reference is not None:
            yield f"line_types.{name}", reference
    taxes = mapping.taxes
    if taxes.mode is TaxMode.US_SALES_TAX and taxes.sales_tax_target is SalesTaxTarget.ACCOUNT:
        yield "taxes.sales_tax_account", taxes.sales_tax_account or ""


def _expense_problems(mapping: MappingConfig, context: OrgContext) -> Iterator[MappingProblem]:
    for entry, reference in _expense_accounts(mapping):
        problem = expense_account_problem(reference, context)
        if problem:
            yield MappingProblem(entry, problem)


def _tax_problems(mapping: MappingConfig, context: OrgContext) -> Iterator[MappingProblem]:
    taxes = mapping.taxes
    entries = (
        [("taxes.no_tax_type", taxes.no_tax_type)]
        if taxes.mode is TaxMode.US_SALES_TAX
        else [
            (f"taxes.vat_rates[{rate!r}]", tax_type) for rate, tax_type in taxes.vat_rates.items()
        ]
    )
    accounts = [context.account(reference) for _, reference in _expense_accounts(mapping)]
    usable = [account for account in accounts if account is not None and account.is_active]
    if taxes.mode is TaxMode.UK_VAT:
        entries += _seller_tax_entries(mapping)
    for entry, tax_type in entries:
        problem = (
            tax_type_problem(tax_type, context, None)
            or (_not_zero(tax_type, context) if entry.startswith("sellers.") else None)
        ) or next(
            (
                found
                for account in usable
                if (found := tax_type_problem(tax_type, context, account)) is not None
            ),
            None,
        )
        if problem:
            yield MappingProblem(entry, problem)


def _seller_tax_entries(mapping: MappingConfig) -> list[tuple[str, str]]:
    sellers = mapping.sellers
    entries = (
        [("sellers.flagged_tax_type", sellers.flagged_tax_type)] if sellers.flagged_tax_type else []
    )
    entries += [
        (f"sellers.tax_overrides[{name!r}]", tax_type)
        for name, tax_type in sorted(sellers.tax_overrides.items())
        if tax_type != RECLAIM
    ]
    return entries


def _not_zero(tax_type: str, context: OrgContext) -> str | None:
    """A seller's VAT that cannot be reclaimed is cost: its rate must be 0 %."""
    rate = context.tax_rate(tax_type)
    if rate is not None and rate.effective_rate:
        return f"tax rate {rate.name} is {rate.effective_rate.normalize():f}%; choose a 0 % rate"
    return None
