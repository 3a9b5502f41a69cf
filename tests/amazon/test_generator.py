"""The generator's data: reproducible, realistic, and exactly as Amazon's arithmetic demands."""

from __future__ import annotations

import itertools
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from abxero.domain.transactions import Quarantined, Transaction, parse_transaction
from abxero.simulators.amazon.businesses import DEFAULT_BUSINESSES, Business, Region
from abxero.simulators.amazon.generator import FeedGenerator

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
