"""From one Amazon Business transaction to the Xero documents that post it (design §2).

``plan_transaction`` is pure and total: it returns a :data:`~abxero.domain.plan.Plan` for any
transaction and never raises. Posting policies:

* CHARGE on a mapped account: bill + payment (or Spend Money under the ``spend_money`` policy);
* CHARGE on Pay by Invoice: bill due after the configured terms, no payment;
* REFUND / OVERREFUND on an account: supplier credit note + refund payment (or Receive Money);
* REFUND / OVERREFUND on Pay by Invoice: credit note, allocated to the bill Amazon ties its
  lines to while that bill still has an amount due (:func:`~abxero.domain.lookup.refunded_bill`
  over the caller's :class:`BillLookup`); credit left without a bill is declared
  (:class:`~abxero.domain.plan.UnappliedCredit`) so the engine can say so and allocate it later;
* an unmapped instrument, a currency the organisation cannot use, a date in a locked period or
  an unusable account holds the transaction; bad data and broken invariants quarantine it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from abxero.domain.context import Account, OrgContext
from abxero.domain.documents import (
    Drafting,
    allocation,
    bank_transaction,
    bill,
    credit_note,
    payment,
)
from abxero.domain.inclusive import inclusive_lines, xero_rates
from abxero.domain.invariants import broken_invariants
from abxero.domain.lines import ADJUSTMENT_LABEL, DraftLine, LineBuilder
from abxero.domain.lookup import BillLookup, NoBills, refunded_bill
from abxero.domain.mapping import (
    AccountPayment,
    MappingConfig,
    PayByInvoice,
    PaymentPolicy,
    TaxMode,
    seller_key,
)
from abxero.domain.mapping_checks import payment_account_problem
from abxero.domain.money import ZERO
from abxero.domain.outcomes import BadData, PlanningHold
from abxero.domain.plan import (
    Held,
    HoldCode,
    Plan,
    Planned,
    PlannedDocument,
    Skipped,
    UnappliedCredit,
)
from abxero.domain.sellers import document_seller
from abxero.domain.transactions import Quarantined, Transaction, parse_transaction

NO_BILLS = NoBills()


def plan_record(
    raw: Any, mapping: MappingConfig, context: OrgContext, lookup: BillLookup = NO_BILLS
) -> Plan:
    """Parse one raw ``getTransactions`` record and plan it."""
    parsed = parse_transaction(raw)
    if isinstance(parsed, Quarantined):
        return parsed
    return plan_transaction(parsed, mapping, context, lookup, raw=raw)


def plan_transaction(
    transaction: Transaction,
    mapping: MappingConfig,
    context: OrgContext,
    lookup: BillLookup = NO_BILLS,
    *,
    raw: Mapping[str, Any] | None = None,
) -> Plan:
    """The plan for ``transaction``; ``raw`` is kept on a quarantine when given."""
    kept = raw if raw is not None else {"transactionId": transaction.transaction_id}
    try:
        return _plan(transaction, mapping, context, lookup, kept)
    except PlanningHold as hold:
        return Held(transaction.transaction_id, hold.code, hold.message, hold.remedy)
    except BadData as problem:
        return Quarantined(transaction.transaction_id, str(problem), kept)
    except (ArithmeticError, ValueError, LookupError, TypeError) as problem:
        return Quarantined(transaction.transaction_id, f"cannot be planned: {problem}", kept)


def _plan(
    transaction: Transaction,
    mapping: MappingConfig,
    context: OrgContext,
    lookup: BillLookup,
    raw: Mapping[str, Any],
) -> Plan:
    if transaction.amount == 0:
        return Skipped(transaction.transaction_id, "the transaction amount is zero")
    day = context.local_date(transaction.transaction_date)
    _check_organisation(transaction, context, day)
    method = _payment_method(transaction, mapping)
    account = _payment_account(transaction, method, context)
    vat = mapping.taxes.mode is TaxMode.UK_VAT
    builder = LineBuilder(transaction, mapping, context)
    lines = builder.build()
    drafting, shortfall = _drafting(transaction, mapping, context, day, lines, method)
    drafting = replace(drafting, contact_id=_contact_id(transaction, mapping, context))
    documents, unapplied = _documents(drafting, method, account, lookup)
    rates = xero_rates(context, drafting.lines)
    problems = broken_invariants(
        transaction, lines, documents, vat, rates, shortfall, builder.unreclaimed
    )
    if problems:
        return Quarantined(
            transaction.transaction_id, "plan does not match Amazon: " + "; ".join(problems), raw
        )
    notes = review_notes(transaction) + tuple(builder.notes)
    if shortfall:
        notes += (
            f"Xero computes {shortfall} less VAT than Amazon shows, on lines whose Xero tax rate "
            "is 0 %; the total is Amazon's",
        )
    return Planned(transaction.transaction_id, documents, notes, unapplied)


def _drafting(
    transaction: Transaction,
    mapping: MappingConfig,
    context: OrgContext,
    day: date,
    lines: tuple[DraftLine, ...],
    method: AccountPayment | PayByInvoice,
) -> tuple[Drafting, Decimal]:
    """Bills and credit notes carry Amazon's VAT explicitly; bank transactions let Xero compute it
    on gross lines (see :mod:`abxero.domain.inclusive`). Also: VAT Xero cannot compute."""
    vat = mapping.taxes.mode is TaxMode.UK_VAT
    spend = isinstance(method, AccountPayment) and method.policy is PaymentPolicy.SPEND_MONEY
    if vat and spend:
        gross = inclusive_lines(lines, mapping, context)
        drafting = Drafting(
            transaction, context, day, gross.lines, explicit_tax=False, inclusive=True
        )
        return drafting, gross.tax_shortfall
    return Drafting(transaction, context, day, lines, explicit_tax=vat), ZERO


def review_notes(transaction: Transaction) -> tuple[str, ...]:
    """What a person should look at once this transaction is posted: the parser's notes and the
    adjustment line, in document signs."""
    notes = list(transaction.notes)
    sign = transaction.transaction_type.sign
    unexplained = transaction.unexplained * sign
    if unexplained and not transaction.line_items:
        notes.append(
            f"no readable line items for the amount {transaction.amount * sign}; it is posted on "
            f"one '{ADJUSTMENT_LABEL}' line"
        )
    elif unexplained:
        notes.append(
            f"the amount {transaction.amount * sign} is not the sum of its lines "
            f"{transaction.lines_total * sign}; the difference {unexplained} is posted on an "
            f"'{ADJUSTMENT_LABEL}' line"
        )
    return tuple(notes)


def _check_organisation(transaction: Transaction, context: OrgContext, day: date) -> None:
    if not context.contact_id:
        raise PlanningHold(
            HoldCode.CONTACT_MISSING,
            "the Amazon Business supplier contact is not set up in Xero",
            "Reconnect Xero so abxero can create or find the Amazon Business contact.",
        )
    if not context.uses_currency(transaction.currency):
        raise PlanningHold(
            HoldCode.CURRENCY_NOT_ENABLED,
            f"the organisation cannot use {transaction.currency}",
            f"Add {transaction.currency} in Xero's currency settings (needs multi-currency).",
        )
    if context.is_locked(day):
        raise PlanningHold(
            HoldCode.PERIOD_LOCKED,
            f"the transaction date {day.isoformat()} is in a locked period "
            f"(locked up to {context.lock_date})",
            "Move the lock date in Xero's financial settings, or post this purchase by hand.",
        )


def _contact_id(transaction: Transaction, mapping: MappingConfig, context: OrgContext) -> str:
    """The seller's own contact when the mapping asks for one per seller and the transaction
    has one seller; else the default "Amazon Business" contact."""
    seller = document_seller(transaction)
    if not mapping.sellers.contact_per_seller or not seller:
        return context.contact_id
    key = seller_key(seller)
    if key in context.archived_seller_contacts:
        raise PlanningHold(
            HoldCode.CONTACT_ARCHIVED,
            f"the supplier contact of seller {seller!r} is archived in Xero",
            "Restore the contact in Xero (Contacts → Archived → Restore); the purchase posts "
            "on the next sync.",
        )
    contact_id = context.seller_contact(key)
    if not contact_id:
        raise PlanningHold(
            HoldCode.CONTACT_MISSING,
            f"the supplier contact for seller {seller!r} is not set up in Xero yet",
            "Nothing to do: the next sync creates it, then this purchase posts.",
        )
    return contact_id


def _payment_method(
    transaction: Transaction, mapping: MappingConfig
) -> AccountPayment | PayByInvoice:
    method = mapping.payment_method(transaction.instrument)
    if method is None:
        raise PlanningHold(
            HoldCode.PAYMENT_METHOD_NOT_MAPPED,
            f"payment method {transaction.instrument.label} is not mapped",
            "Map it to a Xero bank or credit-card account (Payment methods); "
            "waiting purchases post then.",
        )
    return method


def _payment_account(
    transaction: Transaction, method: AccountPayment | PayByInvoice, context: OrgContext
) -> Account | None:
    if isinstance(method, PayByInvoice):
        return None
    problem = payment_account_problem(method, context)
    account = context.account(method.account)
    if problem or account is None:
        raise PlanningHold(
            HoldCode.ACCOUNT_UNUSABLE,
            f"{transaction.instrument.label}: {problem}",
            "Choose an active bank or credit-card account for this payment method.",
        )
    account_currency = account.currency or context.base_currency
    if account_currency != transaction.currency:
        raise PlanningHold(
            HoldCode.ACCOUNT_UNUSABLE,
            f"account {account.label} is in {account_currency}, the transaction in "
            f"{transaction.currency}",
            f"Map {transaction.instrument.label} to a {transaction.currency} account.",
        )
    return account


def _documents(
    drafting: Drafting,
    method: AccountPayment | PayByInvoice,
    account: Account | None,
    lookup: BillLookup,
) -> tuple[tuple[PlannedDocument, ...], UnappliedCredit | None]:
    refund = drafting.transaction.transaction_type.is_refund
    if isinstance(method, PayByInvoice):
        if not refund:
            return (bill(drafting, method.terms_days),), None
        return _pay_by_invoice_credit(drafting, lookup)
    assert account is not None
    if method.policy is PaymentPolicy.SPEND_MONEY:
        return (bank_transaction(drafting, account),), None
    document = credit_note(drafting) if refund else bill(drafting, 0)
    return (document, payment(drafting, document, account)), None


def _pay_by_invoice_credit(
    drafting: Drafting, lookup: BillLookup
) -> tuple[tuple[PlannedDocument, ...], UnappliedCredit | None]:
    """The credit note, allocated to its own bill up to what that bill still has due."""
    credit = credit_note(drafting)
    choice = refunded_bill(drafting.transaction, lookup)
    original = choice.bill
    if original is None:
        return (credit,), UnappliedCredit(credit.amount, choice.reason)
    amount = min(credit.amount, original.amount_due)
    allocated = allocation(drafting, credit, original.key, original.xero_id, amount)
    left = credit.amount - amount
    if left <= 0:
        return (credit, allocated), None
    reason = f"its bill had only {original.amount_due} left due; {amount} is allocated to it"
    return (credit, allocated), UnappliedCredit(left, reason)
