"""A quarantined Amazon record told in plain words: what it was, why it cannot post, what to do.

The parser's reasons (:data:`abxero.domain.transactions.QUARANTINE_REASONS`) are exact but
technical; the manage page shows the sentence below and keeps the exact reason as a detail. The
record's own fields are read leniently: whatever is readable is shown, as Amazon sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from abxero.domain.lifecycles import SourceStatus

ENTERED_BY_HAND = SourceStatus.ENTERED_BY_HAND
DISMISSED = SourceStatus.DISMISSED
SET_ASIDE_STATUSES = (ENTERED_BY_HAND, DISMISSED)

REMEDY = (
    "Check the order on Amazon Business. If the purchase is real, enter it in Xero by hand and "
    'mark it "Entered by hand" here; if it is not a purchase, dismiss it. Either way abxero '
    "keeps the record and notes who decided."
)

PLAIN_REASONS: tuple[tuple[str, str], ...] = (
    ("not a JSON object", "Amazon sent something that is not a transaction record."),
    ("record is", "Amazon sent something that is not a transaction record."),
    ("transactionId is missing", "Amazon sent no transaction number, so it cannot be tracked."),
    ("transactionId cannot be stored", "Amazon's transaction number is too long or unreadable."),
    ("transactionType is missing", "Amazon did not say whether this is a charge or a refund."),
    ("unknown transactionType", "Amazon did not say whether this is a charge or a refund."),
    ("amount is missing", "Amazon sent no amount for it."),
    ("amount.currencyCode", "Amazon's currency for it is not a currency Xero knows."),
    ("amount.amount", "Amazon's amount for it is not a number."),
    ("amount cannot be stored", "Its amount is too large or has fractions of a cent."),
    ("paymentInstrument cannot be stored", "Amazon's payment method for it is unreadable."),
    ("no readable date", "Amazon sent no readable date for it."),
    ("cannot be planned", "Its lines could not be turned into a Xero document."),
)


def plain_reason(reason: str) -> str:
    """The parser's or planner's reason as one plain sentence."""
    for start, sentence in PLAIN_REASONS:
        if reason.startswith(start) or start in reason:
            return sentence
    return "Its figures do not add up, so posting it would put a wrong amount in Xero."


@dataclass(frozen=True)
class RecordSummary:
    """The readable fields of a raw record, as text (empty when Amazon sent nothing usable)."""

    date: str
    card: str
    orders: tuple[str, ...]
    amount: str
    kind: str


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _amount(raw: Mapping[str, Any]) -> str:
    money = raw.get("amount")
    if not isinstance(money, Mapping):
        return ""
    value = money.get("amount")
    figure = _text(value) if isinstance(value, str) else str(value) if value is not None else ""
    return f"{figure} {_text(money.get('currencyCode'))}".strip()


def _orders(raw: Mapping[str, Any]) -> tuple[str, ...]:
    lines = raw.get("transactionLineItems")
    found: list[str] = []
    for line in lines if isinstance(lines, list) else []:
        order = _text(line.get("orderId")) if isinstance(line, Mapping) else ""
        if order and order not in found:
            found.append(order)
    return tuple(found)


def summarise(raw: Mapping[str, Any]) -> RecordSummary:
    """What a person can recognise the record by: date, card, orders, amount, charge/refund."""
    date = _text(raw.get("transactionDate")) or _text(raw.get("feedDate"))
    card = " ending ".join(
        part
        for part in (
            _text(raw.get("paymentInstrumentType")),
            _text(raw.get("paymentInstrumentLast4Digits")),
        )
        if part
    )
    return RecordSummary(
        date[:10], card, _orders(raw), _amount(raw), _text(raw.get("transactionType")).title()
    )
