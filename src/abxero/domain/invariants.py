"""The checks every plan passes before it leaves the planner: exact to the cent."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from abxero.domain.lines import DraftLine, LineKind
from abxero.domain.money import is_whole_cents, money_sum
from abxero.domain.plan import PlannedDocument, Role, document_totals
from abxero.domain.transactions import Transaction

DOCUMENT_ROLES = frozenset({Role.BILL, Role.CREDIT_NOTE, Role.SPEND, Role.RECEIVE})


def broken_invariants(
    transaction: Transaction,
    lines: tuple[DraftLine, ...],
    documents: tuple[PlannedDocument, ...],
    vat: bool,
    rates: Mapping[str, Decimal] | None = None,
    tax_shortfall: Decimal = Decimal(0),
    unreclaimed: Decimal = Decimal(0),
) -> list[str]:
    """What is wrong with a plan; empty when it may be emitted.

    The document total must be the transaction's amount to the cent, always. Its tax must be
    Amazon's tax to the cent too: bills and credit notes carry Amazon's VAT per line explicitly;
    bank transactions (tax-inclusive lines, Xero computes the VAT) are checked with Xero's own
    per-line computation over ``rates``, and the planner moves a line's gross onto a no-tax
    rounding line wherever that computation would differ. The one difference accepted is
    ``tax_shortfall``: VAT Amazon shows on a line whose Xero rate is 0 %, which no gross can
    carry; the planner declares it exactly and raises a review note, so the document's tax must
    be Amazon's tax minus exactly that. The "Amazon adjustment" line carries no tax, so Amazon's
    tax is the tax of its lines. ``unreclaimed`` is VAT of sellers without a GB VAT number that
    the lines carry as cost (at a 0 % rate); the planner declares it, so lines and documents
    carry Amazon's tax minus exactly that, and the total is unchanged.
    """
    sign = -1 if transaction.transaction_type.is_refund else 1
    expected_total = transaction.amount * sign
    expected_tax = transaction.tax * sign - unreclaimed
    problems = [*_line_problems(lines)]
    tax_lines = (
        [line.tax_amount for line in lines]
        if vat
        else [line.line_amount for line in lines if line.kind is LineKind.SALES_TAX]
    )
    if money_sum(tuple(tax_lines)) != expected_tax:
        problems.append(f"planned tax {money_sum(tuple(tax_lines))} is not Amazon's {expected_tax}")
    main = [document for document in documents if document.role in DOCUMENT_ROLES]
    if len(main) != 1:
        problems.append(f"expected one bill, credit note or bank transaction, got {len(main)}")
    for document in documents:
        problems.extend(
            _document_problems(document, expected_total, expected_tax - tax_shortfall, vat, rates)
        )
    return problems


def _line_problems(lines: tuple[DraftLine, ...]) -> list[str]:
    problems = []
    for line in lines:
        if line.quantity * line.unit_amount != line.line_amount:
            problems.append(f"{line.description!r}: quantity × unit amount ≠ line amount")
        if not (is_whole_cents(line.line_amount) and is_whole_cents(line.tax_amount)):
            problems.append(f"{line.description!r}: amounts are not whole cents")
    return problems


def _document_problems(
    document: PlannedDocument,
    expected_total: Decimal,
    expected_tax: Decimal,
    vat: bool,
    rates: Mapping[str, Decimal] | None,
) -> list[str]:
    totals = document_totals(document.payload, rates)
    problems = []
    if document.amount < 0 or totals.total < 0:
        problems.append(f"{document.key}: negative total {totals.total}")
    if totals.total != document.amount:
        problems.append(
            f"{document.key}: Xero would total {totals.total}, planned {document.amount}"
        )
    if document.role in DOCUMENT_ROLES:
        if totals.total != expected_total:
            problems.append(
                f"{document.key}: total {totals.total} is not Amazon's {expected_total}"
            )
        wanted_tax = expected_tax if vat else Decimal(0)
        if totals.total_tax != wanted_tax:
            problems.append(f"{document.key}: tax {totals.total_tax} is not {wanted_tax}")
    elif document.role in {Role.PAYMENT, Role.REFUND} and document.amount != expected_total:
        problems.append(f"{document.key}: pays {document.amount}, not {expected_total}")
    elif document.role is Role.ALLOCATION and not 0 < document.amount <= expected_total:
        problems.append(f"{document.key}: allocates {document.amount} of {expected_total}")
    return problems
