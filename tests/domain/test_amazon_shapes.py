"""Records real Amazon Business accounts send, which the strict parser used to quarantine.

Each test names the shape (builders in ``amazon_shapes.py``); before this parser every one of
them except the null ``businessOrderInfo`` and the two timestamp forms was quarantined, so the
purchase never reached Xero.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from abxero.domain.context import OrgContext
from abxero.domain.mapping import LineTypes, MappingConfig
from abxero.domain.plan import Planned, PlannedDocument, Role, document_totals, review_event
from abxero.domain.planner import plan_record
from abxero.domain.transactions import (
    QUARANTINE_REASONS,
    Quarantined,
    Transaction,
    parse_transaction,
)
from tests.domain import amazon_shapes as shapes
from tests.domain.domain_fixtures import uk_context, uk_mapping, us_context, us_mapping
from tests.domain.domain_records import amazon_line, amazon_transaction, money
from tests.domain.domain_strategies import MAIN_ROLES


def _setup(record: dict[str, Any]) -> tuple[MappingConfig, OrgContext]:
    if record["amount"]["currencyCode"] == "GBP":
        return uk_mapping(), uk_context()
    return us_mapping(), us_context()


def _planned(record: dict[str, Any], mapping: MappingConfig | None = None) -> Planned:
    default_mapping, context = _setup(record)
    plan = plan_record(record, mapping or default_mapping, context)
    assert isinstance(plan, Planned), plan
    return plan


def _main(plan: Planned) -> PlannedDocument:
    (document,) = [document for document in plan.documents if document.role in MAIN_ROLES]
    return document


def _lines(plan: Planned) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = _main(plan).payload["LineItems"]
    return lines


def _without_ids(plan: Planned) -> str:
    """The plan's documents as JSON with the transaction id taken out (to compare two plans)."""
    text = json.dumps([document.payload for document in plan.documents], default=str)
    return text.replace(plan.transaction_id, "<id>")


@pytest.mark.parametrize("shape", sorted(shapes.SHAPES))
def test_every_shape_is_posted_for_its_amount(shape: str) -> None:
    for record in shapes.SHAPES[shape]():
        parsed = parse_transaction(record)
        assert isinstance(parsed, Transaction), parsed
        document = _main(_planned(record))
        assert document_totals(document.payload).total == shapes.amount_of(record)
        assert document.amount == shapes.amount_of(record)


@pytest.mark.parametrize("kind", ["REFUND", "OVERREFUND"])
def test_a_positive_refund_plans_exactly_like_a_negative_one(kind: str) -> None:
    line = amazon_line("USD", principal="40.00", tax="2.80", tax_rate="0.07", orderId="o-1")
    negative = amazon_line(
        "USD", principal="40.00", tax="2.80", tax_rate="0.07", orderId="o-1", sign=-1
    )
    positive_record = amazon_transaction(
        "r-1", [line], currency="USD", kind=kind, instrument="Amex", last4="1001"
    )
    negative_record = amazon_transaction(
        "r-1", [negative], currency="USD", kind=kind, instrument="Amex", last4="1001"
    )
    positive, expected = _planned(positive_record), _planned(negative_record)
    assert positive == expected
    assert [document.role for document in positive.documents] == [Role.CREDIT_NOTE, Role.REFUND]
    assert positive.review_notes == ()


def test_vat_inclusive_principal_posts_net_lines_with_amazons_vat() -> None:
    plan = _planned(shapes.vat_inclusive_line())
    totals = document_totals(_main(plan).payload)
    assert (totals.total, totals.total_tax) == (Decimal("317.37"), Decimal("52.90"))
    item, shipping = _lines(plan)
    # shipping 3.99 gross at 20 %: 0.67 VAT inside, net 3.32 (whose exclusive VAT rounds to
    # 0.66); the item is 313.38 less the rest of the 52.90, and keeps the cent
    assert Decimal(item["LineAmount"]) == Decimal("261.15")
    assert Decimal(shipping["LineAmount"]) == Decimal("3.32")
    assert Decimal(item["TaxAmount"]) + Decimal(shipping["TaxAmount"]) == Decimal("52.90")
    assert plan.review_notes == ()
    parsed = parse_transaction(shapes.vat_inclusive_line())
    assert isinstance(parsed, Transaction)
    assert parsed.line_items[0].vat_inclusive


def test_an_authorised_amount_posts_the_difference_on_an_adjustment_line() -> None:
    plan = _planned(shapes.authorised_amount())
    lines = _lines(plan)
    adjustment = lines[-1]
    assert adjustment["Description"] == "Amazon adjustment"
    assert Decimal(adjustment["LineAmount"]) == Decimal("6.62")
    assert (adjustment["TaxType"], Decimal(adjustment["TaxAmount"])) == ("NONE", Decimal(0))
    assert adjustment["AccountCode"] == lines[0]["AccountCode"]  # default: the item's account
    totals = document_totals(_main(plan).payload)
    assert (totals.total, totals.total_tax) == (Decimal("320.00"), Decimal("52.23"))
    (note,) = plan.review_notes
    assert "6.62" in note
    assert "Amazon adjustment" in note
    event = review_event(plan)
    assert event is not None
    assert event.code == "amazon_review"
    assert "6.62" in event.message


def test_the_adjustment_line_goes_to_its_own_mapped_account() -> None:
    mapping = uk_mapping().model_copy(update={"line_types": LineTypes(adjustment="461")})
    adjustment = _lines(_planned(shapes.authorised_amount(), mapping))[-1]
    assert adjustment["AccountCode"] == "461"


def test_a_stored_mapping_without_the_adjustment_field_still_loads() -> None:
    stored = json.loads(uk_mapping().to_json())
    del stored["line_types"]["adjustment"]
    loaded = MappingConfig.from_json(json.dumps(stored))
    assert loaded.line_types.adjustment is None
    assert loaded == uk_mapping()


def test_split_siblings_each_post_their_share_and_add_up_to_the_order() -> None:
    first, second = shapes.split_siblings()
    plans = [_planned(first), _planned(second)]
    totals = [document_totals(_main(plan).payload) for plan in plans]
    assert [total.total for total in totals] == [Decimal("80.00"), Decimal("33.41")]
    assert sum(total.total for total in totals) == Decimal("113.41")  # the order
    for plan in plans:
        assert plan.review_notes == ()
        assert "Amazon adjustment" not in {line["Description"] for line in _lines(plan)}
        assert len(_lines(plan)) > 2  # both items, shipping and sales tax are apportioned
    taxes = [
        sum(
            Decimal(line["LineAmount"])
            for line in _lines(plan)
            if line["Description"] == "Sales tax"
        )
        for plan in plans
    ]
    assert sum(taxes) == Decimal("7.42")


def test_apportioning_is_deterministic_and_exact() -> None:
    first, _ = shapes.split_siblings()
    again = copy.deepcopy(first)
    assert _planned(first) == _planned(again)


@pytest.mark.parametrize(
    "shape",
    [
        "businessOrderInfo null",
        "associated entry without id",
        "zero money with empty currency",
        'taxRate "20"',
        'taxRate "20%"',
        "timestamp with offset",
        "timestamp without milliseconds",
    ],
)
def test_informational_shapes_plan_exactly_like_the_clean_record(shape: str) -> None:
    (record,) = shapes.SHAPES[shape]()
    clean = shapes._uk_charge(record["transactionId"])
    assert _without_ids(_planned(record)) == _without_ids(_planned(clean))


def test_no_line_items_post_one_adjustment_line_for_the_whole_amount() -> None:
    plan = _planned(shapes.no_line_items())
    (line,) = _lines(plan)
    assert Decimal(line["LineAmount"]) == Decimal("313.38")
    assert line["AccountCode"] == "429"  # the default expense account
    assert line["Description"].startswith("Amazon adjustment")
    assert any("no readable line items" in note for note in plan.review_notes)


def test_an_unreadable_line_is_left_out_and_its_money_still_posts() -> None:
    record = shapes._uk_charge("bad-line")
    record["transactionLineItems"].append({"totalAmount": money("10.00", "EUR")})
    record["amount"] = money("323.38", "GBP")
    plan = _planned(record)
    assert Decimal(_lines(plan)[-1]["LineAmount"]) == Decimal("10.00")
    assert any("left out" in note for note in plan.review_notes)


def test_mixed_signs_inside_one_record_post_with_a_review_note() -> None:
    lines = [
        amazon_line("USD", principal="50.00", orderId="o-1"),
        amazon_line("USD", principal="-5.00", title="Credit", orderId="o-1"),
    ]
    record = amazon_transaction("mixed", lines, currency="USD", instrument="Amex", last4="1001")
    plan = _planned(record)
    assert _main(plan).amount == Decimal("45.00")
    assert any("both signs" in note for note in plan.review_notes)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"transactionId": "x" * 129}, "transactionId cannot be stored: 129 characters"),
        ({"transactionId": "id\x00"}, "transactionId cannot be stored: it contains a NUL"),
        ({"amount": money("1000000000000000.00", "GBP")}, "amount cannot be stored"),
        ({"amount": money("12.345", "GBP")}, "not a whole number of cents"),
        ({"paymentInstrumentType": "V" * 300}, "paymentInstrument cannot be stored"),
        ({"amount": {"currencyCode": "GBP", "amount": 313.38}}, "amount.amount"),
        ({"transactionDate": "soon", "feedDate": None}, "no readable date"),
    ],
)
def test_what_cannot_be_read_or_stored_is_quarantined_saying_which(
    change: dict[str, Any], reason: str
) -> None:
    record = {**shapes._uk_charge("q-1"), **change}
    parsed = parse_transaction(record)
    assert isinstance(parsed, Quarantined)
    assert reason in parsed.reason
    assert any(named in parsed.reason for named in QUARANTINE_REASONS)


def test_a_date_only_timestamp_is_taken_as_utc_with_a_note() -> None:
    record = shapes._uk_charge("date-only")
    record["transactionDate"] = "2026-04-02"
    plan = _planned(record)
    assert _main(plan).payload["Date"] == "2026-04-02"
    assert any("taken as UTC" in note for note in plan.review_notes)
