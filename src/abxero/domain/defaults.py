"""A first mapping proposal for an organisation, shown in the wizard and used by the demo.

How it decides:

* tax mode from the organisation's country (GB → UK VAT, otherwise US sales tax);
* default expense account: code ``429`` or an account named "General Expenses", else the active
  purchase account (EXPENSE, then OVERHEADS, then DIRECTCOSTS) with the lowest code;
* UK VAT rates: 20 % → INPUT2, 5 % → RRINPUT, 0 % → ZERORATEDINPUT, each only when the tax type is
  usable on that account (0 % falls back to NONE, "No VAT"); US lines use NONE;
* Pay by Invoice instruments → accounts payable with 30-day terms;
* cards: the active bank or credit-card account whose name holds the card's last four digits,
  else the one whose name holds its brand ("Visa", "Amex"/"American Express", "Mastercard"…),
  in the card's currency; a card with no such account, or with several, stays unmapped for the
  user to choose (a held transaction says so). Two cards never land in one account by brand
  alone: a bookkeeper keeps one statement per card.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

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


BRAND_WORDS: dict[str, tuple[str, ...]] = {
    "visa": ("visa",),
    "american express": ("amex", "american express"),
    "amex": ("amex", "american express"),
    "mastercard": ("mastercard", "master card"),
    "master card": ("mastercard", "master card"),
    "discover": ("discover",),
    "diners club": ("diners",),
    "jcb": ("jcb",),
    "maestro": ("maestro",),
}


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.casefold())) + " "


def _brand_words(kind: str) -> tuple[str, ...]:
    named = _words(kind)
    for brand, words in BRAND_WORDS.items():
        if f" {brand} " in named:
            return words
    return ()


def account_currency(account: Account, context: OrgContext) -> str:
    """The currency an account holds: its own, or the organisation's base currency."""
    return (account.currency or context.base_currency).upper()


def _fits(account: Account, context: OrgContext, currencies: frozenset[str]) -> bool:
    return not currencies or currencies == {account_currency(account, context)}


def _by_last4(card: Instrument, accounts: list[Account]) -> list[Account]:
    if not card.last4.isdigit():
        return []
    return [a for a in accounts if f" {card.last4} " in _words(a.name)]


def _by_brand(card: Instrument, accounts: list[Account]) -> list[Account]:
    words = _brand_words(card.kind)
    return [a for a in accounts if any(f" {word} " in _words(a.name) for word in words)]


def default_card_accounts(
    context: OrgContext,
    cards: Iterable[Instrument],
    currencies: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Account]:
    """The account each card would be paid from, by last four digits, then by brand.

    A match must be the only one of its kind and hold the card's currency; a brand match that
    two cards share is dropped, so no two cards are mixed into one account silently.
    """
    seen = currencies or {}
    usable = [a for a in context.accounts if a.is_active and a.is_bank]
    ordered = sorted(set(cards))

    def fitting(card: Instrument) -> list[Account]:
        return [a for a in usable if _fits(a, context, seen.get(card.key, frozenset()))]

    exact: dict[str, Account] = {}
    for card in ordered:
        last4 = _by_last4(card, fitting(card))
        if len(last4) == 1:
            exact[card.key] = last4[0]
    taken = {a.account_id for a in exact.values()}
    by_brand: dict[str, Account] = {}
    for card in ordered:
        if card.key in exact or _by_last4(card, fitting(card)):
            continue
        brand = [a for a in _by_brand(card, fitting(card)) if a.account_id not in taken]
        if len(brand) == 1:
            by_brand[card.key] = brand[0]
    claimed = Counter(a.account_id for a in by_brand.values())
    exact.update({key: a for key, a in by_brand.items() if claimed[a.account_id] == 1})
    return exact


def _vat_rates(context: OrgContext, expense: Account) -> dict[str, str]:
    rates = {}
    for rate, tax_type in DEFAULT_VAT_RATES.items():
        if tax_type_problem(tax_type, context, expense) is None:
            rates[rate] = tax_type
        elif rate == "0.00" and tax_type_problem(NO_VAT, context, expense) is None:
            rates[rate] = NO_VAT
    return rates


def default_mapping(
    context: OrgContext,
    instruments: Iterable[Instrument],
    currencies: Mapping[str, frozenset[str]] | None = None,
) -> MappingConfig:
    """A sensible starting mapping for ``context`` and the instruments seen so far
    (``currencies``: the currencies each instrument's transactions are in, by key)."""
    expense = default_expense_account(context)
    reference = expense.code or expense.account_id
    taxes = (
        Taxes(mode=TaxMode.UK_VAT, vat_rates=_vat_rates(context, expense))
        if context.is_uk
        else Taxes(mode=TaxMode.US_SALES_TAX)
    )
    every = sorted(set(instruments))
    cards = default_card_accounts(
        context, [i for i in every if not i.looks_like_pay_by_invoice], currencies
    )
    methods: dict[str, PaymentMethod] = {}
    for instrument in every:
        if instrument.looks_like_pay_by_invoice:
            methods[instrument.key] = PayByInvoice(terms_days=DEFAULT_TERMS_DAYS)
        elif (card := cards.get(instrument.key)) is not None:
            methods[instrument.key] = AccountPayment(account=card.code or card.account_id)
    return MappingConfig(
        payment_methods=methods,
        pay_by_invoice=PayByInvoice(terms_days=DEFAULT_TERMS_DAYS),
        expenses=Expenses(default_account=reference),
        taxes=taxes,
    )
