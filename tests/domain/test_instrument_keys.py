"""``Instrument.from_key`` reads back what ``Instrument.key`` wrote, the separator included."""

from __future__ import annotations

from hypothesis import assume, example, given
from hypothesis import strategies as st

from abxero.domain.transactions import Instrument, Transaction, parse_transaction
from tests.domain.domain_strategies import FAST

# ``paymentInstrumentType`` is free text (reconciliation-2021-01-08.json, no enum), so the type
# may hold "/"; ``paymentInstrumentLast4Digits`` is the instrument's last four digits.
KINDS = st.text(min_size=1) | st.sampled_from(["Visa", "Credit/Debit card", "a/b/c", "/", "x/"])
LAST4 = st.just("") | st.from_regex(r"[0-9]{1,6}", fullmatch=True)


def _ends_in_digits(kind: str) -> bool:
    head, _, tail = kind.rpartition("/")
    return bool(head) and tail.isdigit()


@FAST
@given(KINDS, LAST4)
@example("Credit/Debit card", "4242")
@example("Credit/Debit card", "")
@example("Pay by Invoice", "")
@example("Visa/Mastercard", "0071")
@example("/", "")
@example("x/", "12")
def test_from_key_inverts_key(kind: str, last4: str) -> None:
    assume(last4 or not _ends_in_digits(kind))
    instrument = Instrument(kind, last4)
    assert Instrument.from_key(instrument.key) == instrument


@FAST
@given(st.text())
def test_from_key_then_key_gives_the_key_back(key: str) -> None:
    assert Instrument.from_key(key).key == key


def test_a_type_with_the_separator_keeps_it_whole() -> None:
    """The last "/" splits: everything before it is the type (a split at the first "/" would
    call "Credit/Debit card" a "Credit" instrument and lose a pay-by-invoice type's words)."""
    assert Instrument.from_key("Credit/Debit card/1234") == Instrument("Credit/Debit card", "1234")
    assert Instrument.from_key("Net 30/Pay by Invoice").looks_like_pay_by_invoice
    assert Instrument.from_key("Net 30/Pay by Invoice") == Instrument("Net 30/Pay by Invoice")


def test_the_one_ambiguous_key_reads_as_type_and_digits() -> None:
    """A type ending in "/" and digits with no last four shares its key with the split form;
    the key format cannot tell them apart, and the split form is the one Amazon sends."""
    assert Instrument("Card/1234").key == Instrument("Card", "1234").key
    assert Instrument.from_key("Card/1234") == Instrument("Card", "1234")


def test_a_parsed_record_round_trips_through_its_stored_key() -> None:
    record = {
        "transactionId": "t-1",
        "transactionType": "CHARGE",
        "transactionDate": "2024-05-01T10:00:00Z",
        "amount": {"currencyCode": "GBP", "amount": "1.00"},
        "paymentInstrumentType": "Credit/Debit card",
        "paymentInstrumentLast4Digits": "4242",
    }
    transaction = parse_transaction(record)
    assert isinstance(transaction, Transaction)
    assert Instrument.from_key(transaction.instrument.key) == transaction.instrument
