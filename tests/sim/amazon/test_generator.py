"""The generator's data: reproducible, realistic, and exactly as Amazon's arithmetic demands."""

from __future__ import annotations

import itertools
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from abxero.domain.transactions import Quarantined, Transaction, parse_transaction
from abxero_sim.amazon import Shapes, create_app
from abxero_sim.amazon.businesses import DEFAULT_BUSINESSES, Business, Region
from abxero_sim.amazon.generator import FeedGenerator
from abxero_sim.amazon.shapes import chosen
from tests.amazon.amazon_support import TestClient
from tests.e2e.shape_census import Generation, feed, shapes_seen, with_shape

START = datetime(2026, 1, 1, tzinfo=UTC)
BY_ID = {business.business_id: business for business in DEFAULT_BUSINESSES}


def first(business: Business, count: int, seed: int = 5) -> list[dict[str, object]]:
    stream = FeedGenerator(business, seed, START).stream()
    return [item.record for item in itertools.islice(stream, count)]


def parsed(business: Business, count: int) -> list[Transaction]:
    results = [parse_transaction(record) for record in first(business, count)]
    bad = [r for r in results if isinstance(r, Quarantined)]
    assert bad == []
    return [r for r in results if isinstance(r, Transaction)]


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_same_seed_same_data_and_other_seed_other_data() -> None:
    business = BY_ID["uk-harbour"]
    assert first(business, 300, seed=5) == first(business, 300, seed=5)
    assert first(business, 300, seed=5) != first(business, 300, seed=6)


def test_an_order_rebuilt_alone_equals_the_streamed_one() -> None:
    generator = FeedGenerator(BY_ID["us-acme"], 5, START)
    items = itertools.takewhile(lambda item: item.order_index <= 40, generator.stream())
    from_stream = [item.record for item in items if item.order_index == 40]
    assert from_stream == generator.order(40).transactions


@pytest.mark.parametrize("business", DEFAULT_BUSINESSES, ids=lambda b: b.business_id)
def test_every_generated_record_parses_and_adds_up(business: Business) -> None:
    for transaction in parsed(business, 1500):
        assert transaction.currency == business.currency
        assert transaction.marketplace_id == business.marketplace_id
        for line in transaction.line_items:
            assert line.unit_price is not None
            assert line.unit_price * line.quantity == line.principal
            if transaction.transaction_type.is_refund:
                parts = (line.principal, line.shipping, line.regulatory_fee, line.tax)
                assert all(part <= 0 for part in parts)


@pytest.mark.parametrize("business", DEFAULT_BUSINESSES, ids=lambda b: b.business_id)
def test_tax_follows_the_per_part_convention(business: Business) -> None:
    for transaction in parsed(business, 800):
        for line in transaction.line_items:
            assert line.tax_rate is not None
            assert transaction.ship_tax_rate is not None
            assert transaction.gift_wrap_tax_rate is not None
            expected = (
                cents((line.principal + line.discount + line.regulatory_fee) * line.tax_rate)
                + cents(line.shipping * transaction.ship_tax_rate)
                + cents(line.gift_wrap * transaction.gift_wrap_tax_rate)
            )
            assert line.tax == expected


def test_uk_data_has_the_vat_rates_and_sellers_a_uk_business_sees() -> None:
    transactions = parsed(BY_ID["uk-harbour"], 2000)
    rates = {line.tax_rate for t in transactions for line in t.line_items}
    assert rates == {Decimal("0.20"), Decimal("0.05"), Decimal("0.00")}
    sellers = {line.seller for t in transactions for line in t.line_items}
    assert "Crafty Corner (No VAT)" in sellers
    assert "Shenzhen Sepo Supply Chain Co., LTD" in sellers
    charges = [t for t in transactions if not t.transaction_type.is_refund]
    assert all(t.invoice_number for t in transactions)
    assert all(t.charge_identifier for t in charges if not t.instrument.looks_like_pay_by_invoice)


def test_us_data_has_state_sales_tax_cards_and_pay_by_invoice() -> None:
    transactions = parsed(BY_ID["us-acme"], 2000)
    rates = {line.tax_rate for t in transactions for line in t.line_items}
    assert {Decimal("0.0725"), Decimal("0.0625"), Decimal("0.04")} <= rates
    assert {t.ship_tax_rate for t in transactions} >= {Decimal("0"), Decimal("0.0625")}
    kinds = Counter(t.instrument.kind for t in transactions)
    assert set(kinds) == {"Visa", "American Express", "Mastercard", "Pay by Invoice"}
    invoice = [t for t in transactions if t.instrument.kind == "Pay by Invoice"]
    assert all(t.instrument.last4 == "" and t.invoice_number for t in invoice)
    cards = [t for t in transactions if t.instrument.kind != "Pay by Invoice"]
    assert all(len(t.instrument.last4) == 4 and t.charge_identifier for t in cards)
    assert any(not t.invoice_number for t in cards)


def test_the_data_covers_what_an_importer_must_handle() -> None:
    transactions = parsed(BY_ID["us-acme"], 3000)
    kinds = Counter(t.transaction_type.value for t in transactions)
    assert kinds["CHARGE"] > kinds["REFUND"] > kinds["OVERREFUND"] > 0
    lines = [line for t in transactions for line in t.line_items]
    assert any(line.discount < 0 for line in lines)
    assert any(line.gift_wrap > 0 for line in lines)
    assert any(line.regulatory_fee > 0 for line in lines)
    assert any(line.refund_reason for line in lines)
    assert any(line.purchase_order_number for line in lines)
    assert {"GL code", "Cost center", "Project"} <= {
        k for x in lines for k in x.business_order_info
    }
    assert len({t.legal_entity for t in transactions}) == 3
    assert len({t.purchasing_group for t in transactions}) == 5
    assert all(line.unspsc.isdigit() and len(line.unspsc) == 8 for line in lines)
    split = [t for t in transactions if t.associated_transaction_ids]
    ids = {t.transaction_id for t in transactions}
    assert split
    assert all(set(t.associated_transaction_ids) <= ids for t in split)
    shipments = Counter(line.order_id for t in transactions for line in t.line_items)
    per_order = Counter(
        (line.order_id, line.shipment_id) for t in transactions for line in t.line_items
    )
    assert any(len({s for (o, s) in per_order if o == order}) > 1 for order in shipments)
    late = [t for t in transactions if t.feed_date - t.transaction_date > timedelta(days=1)]
    assert late
    assert all(t.feed_date >= t.transaction_date for t in transactions)


def test_transaction_ids_are_unique() -> None:
    records = first(BY_ID["uk-harbour"], 5000)
    assert len({record["transactionId"] for record in records}) == len(records)


def test_the_stream_runs_in_flat_memory() -> None:
    stream = FeedGenerator(BY_ID["us-bluebird"], 3, START).stream()
    tracemalloc.start()
    try:
        list(itertools.islice(stream, 2000))
        early, _ = tracemalloc.get_traced_memory()
        last = list(itertools.islice(stream, 8000))[-1]
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last.order_index > 5000
    assert late - early < 200_000


def test_regions_pair_with_their_stores() -> None:
    assert Region.US.store == "amazon.com"
    assert Region.US.api_region == "NA"
    assert Region.UK.store == "amazon.co.uk"
    assert Region.UK.api_region == "EU"


# -- record shapes real accounts send (knobs, see abxero_sim.amazon.shapes) ------------

HARBOUR, ACME = BY_ID["uk-harbour"], BY_ID["us-acme"]
HARNESS_DAYS = Generation(seed=11, days=90, end=START + timedelta(days=200), orders_per_day=1.0)


def _decimal(money: object) -> Decimal:
    assert isinstance(money, dict)
    return Decimal(money["amount"])


def _line_sum(line: dict[str, Any], *parts: str) -> Decimal:
    return sum((_decimal(line[p]) for p in parts if p in line), Decimal(0))


ALL_PARTS = ("principalAmount", "shippingCharge", "giftWrappingCharge", "regulatoryFee", "discount")


def _plain_by_id(business: Business) -> dict[str, dict[str, Any]]:
    return {str(r["transactionId"]): r for r in feed(business, Shapes(), Generation())}


def test_every_knob_off_is_the_plain_stream_and_one_knob_touches_only_its_records() -> None:
    generator = FeedGenerator(HARBOUR, 5, START, Shapes())
    assert [i.record for i in itertools.islice(generator.stream(), 400)] == first(HARBOUR, 400)
    plain = _plain_by_id(HARBOUR)
    for name in ("refund_positive", "percent_tax_rate", "null_order_info"):
        changed = [
            r
            for r in feed(HARBOUR, Shapes.all_on().only(name), Generation())
            if r != plain[str(r["transactionId"])]
        ]
        assert changed
        assert all(
            chosen(getattr(Shapes.all_on(), name), name, r["transactionId"]) for r in changed
        )


@pytest.mark.parametrize("business", [ACME, HARBOUR], ids=lambda b: b.business_id)
def test_ninety_days_with_every_knob_on_contain_every_shape(business: Business) -> None:
    for name in Shapes.names():
        if name == "vat_inclusive" and business.region is Region.US:
            assert with_shape(business, name, HARNESS_DAYS) == []  # a UK shape only
            continue
        assert len(with_shape(business, name, HARNESS_DAYS)) >= 2, name


@pytest.mark.parametrize("business", [ACME, HARBOUR], ids=lambda b: b.business_id)
def test_positive_refunds_keep_amazons_arithmetic(business: Business) -> None:
    records = with_shape(business, "refund_positive", Generation())
    assert {r["transactionType"] for r in records} == {"REFUND", "OVERREFUND"}
    for record in records:
        lines = record["transactionLineItems"]
        assert _decimal(record["amount"]) > 0
        assert sum(_decimal(line["totalAmount"]) for line in lines) == _decimal(record["amount"])
        for line in lines:
            assert _line_sum(line, *ALL_PARTS, "tax") == _decimal(line["totalAmount"])
            assert all(
                _decimal(v) >= 0 for v in line.values() if isinstance(v, dict) and "amount" in v
            )


def test_vat_inclusive_principal_adds_up_without_the_tax() -> None:
    plain = _plain_by_id(HARBOUR)
    records = with_shape(HARBOUR, "vat_inclusive", Generation())
    assert any(_decimal(line["tax"]) != 0 for r in records for line in r["transactionLineItems"])
    for record in records:
        assert record["amount"] == plain[record["transactionId"]]["amount"]
        before = plain[record["transactionId"]]["transactionLineItems"]
        for line, old in zip(record["transactionLineItems"], before, strict=True):
            assert line["tax"] == old["tax"]
            assert line["totalAmount"] == old["totalAmount"]
            assert _line_sum(line, *ALL_PARTS) == _decimal(line["totalAmount"])
            assert _line_sum(line, *ALL_PARTS) - _decimal(line["tax"]) == _line_sum(old, *ALL_PARTS)


def test_authorised_amounts_differ_from_settled_lines_that_add_up() -> None:
    records = with_shape(ACME, "authorised_amount", Generation())
    assert records
    for record in records:
        assert record["transactionType"] == "CHARGE"
        assert record["paymentInstrumentLast4Digits"]
        settled = sum(_decimal(line["totalAmount"]) for line in record["transactionLineItems"])
        authorised = _decimal(record["amount"])
        assert authorised != settled
        assert abs(authorised - settled) <= settled * Decimal("0.15") + Decimal("0.01")
        for line in record["transactionLineItems"]:
            assert _line_sum(line, *ALL_PARTS, "tax") == _decimal(line["totalAmount"])


@pytest.mark.parametrize("business", [ACME, HARBOUR], ids=lambda b: b.business_id)
def test_shared_line_splits_carry_every_line_and_amounts_that_add_up(business: Business) -> None:
    records = with_shape(business, "split_shared_lines", Generation())
    by_id = {r["transactionId"]: r for r in records}
    pairs = [
        (r, by_id[d["associatedTransactionId"]])
        for r in records
        for d in r.get("associatedTransactionDetails", [])
        if d["associatedTransactionId"] in by_id  # the sibling may fall outside the window
        and r["transactionType"] == "CHARGE"
        and d["associatedTransactionId"] > r["transactionId"]
    ]
    assert len(pairs) > 10
    for one, other in pairs:
        assert one["transactionLineItems"] == other["transactionLineItems"]
        assert (one["paymentInstrumentType"], one.get("paymentInstrumentLast4Digits")) != (
            other["paymentInstrumentType"],
            other.get("paymentInstrumentLast4Digits"),
        )
        lines = sum(_decimal(line["totalAmount"]) for line in one["transactionLineItems"])
        assert _decimal(one["amount"]) + _decimal(other["amount"]) == lines
        assert _decimal(one["amount"]) > 0
        assert _decimal(other["amount"]) > 0


def test_null_empty_and_percent_shapes_look_as_real_accounts_send_them() -> None:
    nulls = with_shape(ACME, "null_order_info", Generation())
    assert all(
        None in line["businessOrderInfo"].values()
        for r in nulls
        for line in r["transactionLineItems"]
    )
    orphans = with_shape(ACME, "associated_without_id", Generation())
    assert all({} in r["associatedTransactionDetails"] for r in orphans)
    empties = with_shape(ACME, "empty_zero_money", Generation())
    empty = {"currencyCode": "", "amount": "0"}
    for record in empties:
        assert any(empty in line.values() for line in record["transactionLineItems"])
        for line in record["transactionLineItems"]:
            assert _line_sum(line, *ALL_PARTS, "tax") == _decimal(line["totalAmount"])
    rates = {
        line["taxRate"]
        for r in with_shape(HARBOUR, "percent_tax_rate", Generation())
        for line in r["transactionLineItems"]
    }
    assert {"20", "20%"} <= rates
    assert rates <= {"20", "20%", "5", "5%", "0", "0%"}


def test_offset_timestamps_are_the_same_instants_and_empty_lines_keep_their_amount() -> None:
    plain = _plain_by_id(HARBOUR)
    records = with_shape(HARBOUR, "offset_timestamps", Generation())
    texts = [r["feedDate"] for r in records]
    assert any(t.endswith("+01:00") for t in texts)
    assert any(len(t) == 20 for t in texts)
    for record in records:
        for name in ("transactionDate", "feedDate"):
            old = datetime.fromisoformat(plain[record["transactionId"]][name])
            new = datetime.fromisoformat(record[name])
            assert timedelta(0) <= old - new < timedelta(seconds=1)
    for record in with_shape(ACME, "no_line_items", Generation()):
        assert not record.get("transactionLineItems")
        assert _decimal(record["amount"]) != 0


def test_shapes_are_set_reported_and_reset_through_the_admin_routes() -> None:
    with TestClient(create_app(5, admin=True), base_url="http://sim.test") as http:
        assert http.post("/_sim/shapes", json={"refund_positive": 2}).status_code == 400
        assert http.post("/_sim/shapes", json={"no_such_shape": 0.5}).status_code == 400
        answer = http.post("/_sim/shapes", json=Shapes.all_on().as_json())
        assert answer.json() == Shapes.all_on().as_json()
        assert http.get("/_sim/state").json()["shapes"] == Shapes.all_on().as_json()
        listed = http.get("/_sim/transactions", params={"business_id": "uk-harbour", "count": 300})
        assert set(shapes_seen(listed.json()["transactions"])) == set(Shapes.names())
        http.post("/_sim/reset", json={})
        assert http.get("/_sim/state").json()["shapes"] == Shapes().as_json()


@pytest.mark.parametrize("business", [ACME, HARBOUR], ids=lambda b: b.business_id)
def test_the_shape_detectors_see_each_shape_and_none_in_the_plain_stream(
    business: Business,
) -> None:
    assert shapes_seen(feed(business, Shapes(), Generation())) == Counter()
    for name in Shapes.names():
        records = with_shape(business, name, Generation())
        if records:
            assert shapes_seen(records)[name] > 0, name
