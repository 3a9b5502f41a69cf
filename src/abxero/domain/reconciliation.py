"""The reconciliation check: Amazon's transactions against what Xero holds now, per payment
instrument and currency, with every difference named.

Pure: the caller reads the stored feed, the outbox and Xero, and passes them in. Amounts are in
the transaction model's signs (a charge positive, a refund negative); a Xero bill or Spend Money
counts positive, a credit note or Receive Money negative, so a clean instrument has equal sums.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from abxero.domain.lifecycles import DocumentStatus, SourceStatus

ZERO = Decimal("0.00")
MAIN_SIGNS = {"bill": 1, "spend": 1, "credit_note": -1, "receive": -1}
PAYMENT_SIGNS = {"payment": 1, "refund": -1}
SIGNS = MAIN_SIGNS | PAYMENT_SIGNS
"""Allocations are not compared: an allocation lives on its credit note, which is."""
GONE = frozenset({"DELETED", "VOIDED"})
NOT_IN_FEED = "(not in Amazon's feed)"


class Kind(StrEnum):
    """Why Amazon and Xero differ for one transaction or document."""

    HELD = "held"
    QUARANTINED = "quarantined"
    FAILED = "failed"
    PENDING = "pending"
    MISSING = "missing_in_xero"
    CHANGED = "changed_in_xero"
    POSTED_WITH_DIFFERENCE = "posted_with_difference"
    CHANGED_IN_AMAZON = "changed_in_amazon"
    EXTRA = "extra_in_xero"


@dataclass(frozen=True)
class AmazonTransaction:
    """One stored Amazon transaction of the period, as the ledger holds it."""

    transaction_id: str
    instrument: str
    currency: str
    amount: Decimal | None
    status: str
    reason: str = ""
    day: date | None = None
    changed_after_posting: bool = False


@dataclass(frozen=True)
class OurDocument:
    """One outbox document (what abxero planned or posted for a transaction)."""

    transaction_id: str
    role: str
    xero_id: str
    amount: Decimal
    status: str
    error: str = ""


@dataclass(frozen=True)
class XeroDocument:
    """A bill, credit note, bank transaction or payment as Xero shows it now."""

    xero_id: str
    kind: str
    status: str
    total: Decimal
    number: str = ""
    day: date | None = None
    currency: str = ""
    role: str = ""
    """For a document not in abxero's ledger: the role it would have (bill, spend, …)."""


@dataclass(frozen=True)
class Difference:
    """One explained difference; ``effect`` is what it adds to Amazon Σ − Xero Σ."""

    kind: Kind
    instrument: str
    currency: str
    transaction_id: str
    reason: str
    amazon_amount: Decimal | None
    xero_amount: Decimal | None
    effect: Decimal
    role: str = ""
    xero_id: str = ""
    xero_status: str = ""


@dataclass
class InstrumentLine:
    """Σ Amazon and Σ Xero of one payment instrument in one currency."""

    instrument: str
    currency: str
    amazon_total: Decimal = ZERO
    xero_total: Decimal = ZERO
    paid_expected: Decimal = ZERO
    paid_in_xero: Decimal = ZERO
    transactions: int = 0
    differences: int = 0

    @property
    def difference(self) -> Decimal:
        return self.amazon_total - self.xero_total

    @property
    def clean(self) -> bool:
        return (
            self.differences == 0
            and self.difference == 0
            and self.paid_expected == self.paid_in_xero
        )


@dataclass
class Reconciliation:
    """The whole check for one period: a line per instrument and currency, the differences."""

    since: date
    until: date
    lines: list[InstrumentLine] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(line.clean for line in self.lines) and not self.differences

    def unexplained(self, line: InstrumentLine) -> Decimal:
        """What of the line's difference no listed difference accounts for (zero when sound)."""
        explained = sum(
            (d.effect for d in self.differences if (d.instrument, d.currency) == _key(line)),
            ZERO,
        )
        return line.difference - explained


def _key(line: InstrumentLine) -> tuple[str, str]:
    return line.instrument, line.currency


def reconcile(
    since: date,
    until: date,
    transactions: Sequence[AmazonTransaction],
    documents: Sequence[OurDocument],
    xero: Mapping[str, XeroDocument],
    unknown_in_xero: Iterable[XeroDocument] = (),
) -> Reconciliation:
    """Compare the period's transactions (and their documents) with Xero's documents by id;
    ``unknown_in_xero`` are documents on abxero's contact in the period that no outbox row
    names."""
    by_transaction: dict[str, list[OurDocument]] = defaultdict(list)
    for document in documents:
        by_transaction[document.transaction_id].append(document)
    lines: dict[tuple[str, str], InstrumentLine] = {}
    result = Reconciliation(since, until)
    for transaction in sorted(transactions, key=lambda t: t.transaction_id):
        line = _line(lines, transaction.instrument, transaction.currency)
        line.transactions += 1
        line.amazon_total += transaction.amount or ZERO
        ours = sorted(by_transaction.get(transaction.transaction_id, []), key=_doc_order)
        found = _compare_transaction(transaction, ours, xero, line)
        line.differences += len(found)
        result.differences += found
    for extra in sorted(unknown_in_xero, key=lambda d: (d.day or since, d.xero_id)):
        line = _line(lines, NOT_IN_FEED, extra.currency)
        signed = MAIN_SIGNS.get(extra.role, 1) * extra.total
        line.xero_total += signed
        line.differences += 1
        result.differences.append(
            Difference(
                Kind.EXTRA,
                NOT_IN_FEED,
                extra.currency,
                "",
                f"{extra.kind} {extra.number or extra.xero_id} is on abxero's contact but no "
                "Amazon transaction in the stored feed accounts for it",
                None,
                signed,
                -signed,
                extra.role,
                extra.xero_id,
                extra.status,
            )
        )
    result.lines = sorted(lines.values(), key=lambda line: (line.instrument, line.currency))
    return result


def _doc_order(document: OurDocument) -> tuple[str, str]:
    return document.role, document.xero_id


def _line(
    lines: dict[tuple[str, str], InstrumentLine], instrument: str, currency: str
) -> InstrumentLine:
    key = (instrument, currency)
    if key not in lines:
        lines[key] = InstrumentLine(instrument, currency)
    return lines[key]


def _compare_transaction(
    transaction: AmazonTransaction,
    ours: Sequence[OurDocument],
    xero: Mapping[str, XeroDocument],
    line: InstrumentLine,
) -> list[Difference]:
    live = ZERO
    found: list[Difference] = []
    for document in ours:
        shown = xero.get(document.xero_id) if document.xero_id else None
        if document.role in MAIN_SIGNS:
            sign = MAIN_SIGNS[document.role]
            if shown is not None and shown.status not in GONE:
                live += sign * shown.total
        elif document.role in PAYMENT_SIGNS and document.status == DocumentStatus.POSTED:
            sign = PAYMENT_SIGNS[document.role]
            line.paid_expected += sign * document.amount
            if shown is not None and shown.status not in GONE:
                line.paid_in_xero += sign * shown.total
        if document.status == DocumentStatus.POSTED and document.role in SIGNS:
            found += _document_difference(transaction, document, shown)
    line.xero_total += live
    gap = (transaction.amount or ZERO) - live
    unposted = _unposted_difference(transaction, ours, gap)
    if unposted is not None:
        return [unposted, *(replace(d, effect=ZERO) for d in found)]
    rest = gap - sum((d.effect for d in found), ZERO)
    if rest:
        found.append(_posted_difference(transaction, ours, live, rest))
    if transaction.changed_after_posting:
        found.append(
            Difference(
                Kind.CHANGED_IN_AMAZON,
                transaction.instrument,
                transaction.currency,
                transaction.transaction_id,
                "Amazon changed this transaction after it was posted; it was not posted again",
                transaction.amount,
                live,
                ZERO,
            )
        )
    return found


def _posted_difference(
    transaction: AmazonTransaction, ours: Sequence[OurDocument], live: Decimal, rest: Decimal
) -> Difference:
    """What is left of a posted transaction's gap once its documents' differences are named:
    a difference abxero posted on purpose (the planner declares one it cannot avoid), else a
    change in Xero that no single document shows."""
    planned = sum((MAIN_SIGNS[d.role] * d.amount for d in ours if d.role in MAIN_SIGNS), ZERO)
    if planned != transaction.amount:
        kind = Kind.POSTED_WITH_DIFFERENCE
        reason = (
            f"abxero posted {planned} for Amazon's {transaction.amount} (a declared difference)"
        )
    else:
        kind = Kind.CHANGED
        reason = f"the documents in Xero add up to {live}, Amazon's amount is {transaction.amount}"
    return Difference(
        kind,
        transaction.instrument,
        transaction.currency,
        transaction.transaction_id,
        reason,
        transaction.amount,
        live,
        rest,
    )


def _document_difference(
    transaction: AmazonTransaction, document: OurDocument, shown: XeroDocument | None
) -> list[Difference]:
    sign = SIGNS[document.role]
    expected = sign * document.amount
    if shown is None or shown.status in GONE:
        status = shown.status if shown is not None else "not found"
        return [
            _difference(
                Kind.MISSING,
                transaction,
                document,
                f"the {document.role.replace('_', ' ')} is {status.lower()} in Xero",
                expected,
                None,
                expected,
                status,
            )
        ]
    if shown.total != document.amount:
        return [
            _difference(
                Kind.CHANGED,
                transaction,
                document,
                f"the {document.role.replace('_', ' ')} total was changed in Xero from "
                f"{document.amount} to {shown.total}",
                expected,
                sign * shown.total,
                expected - sign * shown.total,
                shown.status,
            )
        ]
    return []


def _difference(
    kind: Kind,
    transaction: AmazonTransaction,
    document: OurDocument,
    reason: str,
    amazon_amount: Decimal,
    xero_amount: Decimal | None,
    effect: Decimal,
    xero_status: str,
) -> Difference:
    """A difference of one posted document; payments never move the document sums."""
    return Difference(
        kind,
        transaction.instrument,
        transaction.currency,
        transaction.transaction_id,
        reason,
        amazon_amount,
        xero_amount,
        effect if document.role in MAIN_SIGNS else ZERO,
        document.role,
        document.xero_id,
        xero_status,
    )


def _unposted_difference(
    transaction: AmazonTransaction, ours: Sequence[OurDocument], gap: Decimal
) -> Difference | None:
    """Why a transaction that is not (wholly) posted is not in Xero, from the ledger."""
    failed = [document for document in ours if document.status == DocumentStatus.FAILED]
    kind: Kind | None = None
    reason = transaction.reason
    if transaction.status == SourceStatus.HELD:
        kind = Kind.HELD
    elif transaction.status == SourceStatus.QUARANTINED:
        kind = Kind.QUARANTINED
    elif transaction.status == SourceStatus.FAILED or failed:
        kind = Kind.FAILED
        reason = "; ".join(d.error for d in failed if d.error) or reason
    elif transaction.status in {SourceStatus.NEW, SourceStatus.PLANNED}:
        kind, reason = Kind.PENDING, "not posted yet; the next sync sends it"
    if kind is None:
        return None
    return Difference(
        kind,
        transaction.instrument,
        transaction.currency,
        transaction.transaction_id,
        reason or kind.value,
        transaction.amount,
        (transaction.amount or ZERO) - gap,
        gap,
    )
