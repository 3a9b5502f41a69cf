"""Quarantined records told in plain words (issue #21, item 6)."""

from __future__ import annotations

import pytest

from abxero.domain.quarantine import plain_reason, summarise
from abxero.domain.transactions import QUARANTINE_REASONS, parse_transaction


@pytest.mark.parametrize("start", QUARANTINE_REASONS)
def test_every_parser_reason_has_a_plain_sentence(start: str) -> None:
    sentence = plain_reason(start + " something")
    assert sentence.endswith(".")
    assert "transactionId" not in sentence
    assert "amount.amount" not in sentence


def test_a_record_is_summarised_by_what_a_person_recognises() -> None:
    raw = {
        "transactionId": "T1",
        "transactionType": "CHARGE",
        "transactionDate": "2026-11-30T10:00:00Z",
        "amount": {"currencyCode": "USD", "amount": "12.3.4"},
        "paymentInstrumentType": "Visa",
        "paymentInstrumentLast4Digits": "0071",
        "transactionLineItems": [{"orderId": "113-1"}, {"orderId": "113-1"}, {"orderId": "113-2"}],
    }
    quarantined = parse_transaction(raw)
    assert not hasattr(quarantined, "amount")  # the parser refused it
    summary = summarise(raw)
    assert (summary.date, summary.card, summary.orders, summary.amount, summary.kind) == (
        "2026-11-30",
        "Visa ending 0071",
        ("113-1", "113-2"),
        "12.3.4 USD",
        "Charge",
    )
    assert plain_reason(quarantined.reason) == "Amazon's amount for it is not a number."


def test_a_record_without_anything_readable_still_summarises() -> None:
    summary = summarise({"amount": 5, "transactionLineItems": "x"})
    assert (summary.orders, summary.amount, summary.card) == ((), "", "")
