"""A first mapping proposal for an organisation, shown in the wizard and used by the demo.

How it decides:

* tax mode from the organisation's country (GB → UK VAT, otherwise US sales tax);
* default expense account: code ``429`` or an account named "General Expenses", else the active
  purchase account (EXPENSE, then OVERHEADS, then DIRECTCOSTS) with the lowest code;
* UK VAT rates: 20 % → INPUT2, 5 % → RRINPUT, 0 % → ZERORATEDINPUT, each only when the tax type is
  usable on that account (0 % falls back to NONE, "No VAT"); US lines use NONE;
* Pay by Invoice instruments → accounts payable with 30-day terms;
* cards: the organisation's credit-card account when it has exactly one, otherwise left unmapped
  for the user to choose (a held transaction says so).
"""

from __future__ import annotations

from collections.abc import Iterable

from abxero.domain.context import Account, OrgContext
from abxero.domain.mapping import (
    DEFAULT_VAT_RATES,
    NO_VAT,
    AccountPayment,
    Expenses,
    MappingConfig,
    PayByInvoice,
    PaymentMethod,
    Taxes,
    TaxMode,
)
from abxero.domain.mapping_checks import tax_type_problem
from abxero.domain.transactions import Instrument

GENERAL_EXPENSES_CODE = "429"
GENERAL_EXPENSES_NAME = "general expenses"
PREFERRED_TYPES = ("EXPENSE", "OVERHEADS", "DIRECTCOSTS")
DEFAULT_TERMS_DAYS = 30


class NoExpenseAccount(ValueError):
    """The organisation has no active account a purchase could be coded to."""


def default_expense_account(context: OrgContext) -> Account:
    usable = [
        account for account in context.accounts if account.is_active and account.takes_purchases
    ]
    for account in usable:
        if (
            account.code == GENERAL_EXPENSES_CODE
            or account.name.casefold() == GENERAL_EXPENSES_NAME
        ):
            return account
    for wanted in PREFERRED_TYPES:
        typed = sorted((a for a in usable if a.type == wanted), key=lambda a: (a.code, a.name))
        if typed:
            return typed[0]
    raise NoExpenseAccount("the organisation has no active expense account")


def _sole_credit_card(context: OrgContext) -> Account | None:
    cards = [
        account
        for account in context.accounts
        if account.is_active and account.is_bank and account.bank_account_type == "CREDITCARD"
    ]
    return cards[0] if len(cards) == 1 else None


def _vat_rates(context: OrgContext, expense: Account) -> dict[str, str]:
    rates = {}
    for rate, tax_type in DEFAULT_VAT_RATES.items():
        if tax_type_problem(tax_type, context, expense) is None:
            rates[rate] = tax_type
        elif rate == "0.00" and tax_type_problem(NO_VAT, context, expense) is None:
            rates[rate] = NO_VAT
    return rates


def default_mapping(context: OrgContext, instruments: Iterable[Instrument]) -> MappingConfig:
    """A sensible starting mapping for ``context`` and the instruments seen so far."""
    expense = default_expense_account(context)
    reference = expense.code or expense.account_id
    taxes = (
        Taxes(mode=TaxMode.UK_VAT, vat_rates=_vat_rates(context, expense))
        if context.is_uk
        else Taxes(mode=TaxMode.US_SALES_TAX)
    )
    card = _sole_credit_card(context)
    methods: dict[str, PaymentMethod] = {}
    for instrument in sorted(set(instruments)):
        if instrument.looks_like_pay_by_invoice:
            methods[instrument.key] = PayByInvoice(terms_days=DEFAULT_TERMS_DAYS)
        elif card is not None:
            methods[instrument.key] = AccountPayment(account=card.code or card.account_id)
    return MappingConfig(
        payment_methods=methods,
        pay_by_invoice=PayByInvoice(terms_days=DEFAULT_TERMS_DAYS),
        expenses=Expenses(default_account=reference),
        taxes=taxes,
    )
