"""Sellers: recognising non-GB and "No VAT" sellers, their VAT as cost, one contact per seller."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.context import OrgContext
from abxero.domain.mapping import RECLAIM, MappingConfig, SellerCoding, seller_key
from abxero.domain.mapping_checks import check_mapping
from abxero.domain.plan import Held, HoldCode, Planned, document_totals
from abxero.domain.planner import plan_record, review_notes
from abxero.domain.sellers import (
    SellerFlag,
    document_seller,
    lines_flag,
    name_flag,
    sellers_seen,
)
from abxero.domain.transactions import Transaction, parse_transaction
from tests.domain.domain_fixtures import UK_CONTACT, uk_context, uk_mapping
from tests.domain.domain_records import amazon_line, amazon_transaction
from tests.domain.domain_strategies import FAST, MAIN_ROLES, UK, as_refund, charge_records
from tests.domain.test_properties import declared_shortfall, region_rates

SELLERS = (
    "Amazon EU S.à r.l., UK Branch",
    "Harbour Office Supplies Ltd",
    "Shenzhen Bright Widget Co., Ltd",
    "Müller Bürobedarf GmbH",
    "Kent Crafts",
)
SELLER_CONTACTS = {
    seller_key(name): f"5e11e700-0000-4000-8000-00000000000{index}"
    for index, name in enumerate(SELLERS)
}


def with_sellers(**changes: Any) -> MappingConfig:
    return uk_mapping().model_copy(update={"sellers": SellerCoding(**changes)})


def seller_context() -> OrgContext:
    return uk_context(seller_contacts=SELLER_CONTACTS)


def parsed(record: dict[str, Any]) -> Transaction:
    transaction = parse_transaction(record)
    assert isinstance(transaction, Transaction)
    return transaction


def one_seller_charge(seller: str, tax: str = "2.00", number: int = 1) -> dict[str, Any]:
    line = amazon_line(
        "GBP",
        principal="10.00",
        shipping="1.50",
        tax=tax,
        tax_rate="0.20" if tax != "0" else "0.00",
        merchantLegalName=seller,
        orderId="203-0000001-0000001",
        orderLineItemId="li-1",
    )
    return amazon_transaction(
        f"T-SELLER-{number}", [line], currency="GBP", instrument="Visa", last4="4242"
    )


@pytest.mark.parametrize(
    ("name", "flag"),
    [
        ("Müller Bürobedarf GmbH", SellerFlag.NON_GB),
        ("Shenzhen Bright Widget Co., Ltd", SellerFlag.NON_GB),
        ("Papeterie Dupont SARL", SellerFlag.NON_GB),
        ("Kantoor B.V.", SellerFlag.NON_GB),
        ("Acme Widgets LLC", SellerFlag.NON_GB),
        ("Harbour Office Supplies Ltd", None),
        ("Harbour Office Supplies Limited", None),
        ("Amazon EU S.à r.l., UK Branch", None),
        ("Amazon.com Services LLC", None),
        ("", None),
    ],
)
def test_non_gb_sellers_are_recognised_by_their_legal_form(
    name: str, flag: SellerFlag | None
) -> None:
    assert name_flag(name) is flag


def test_a_seller_whose_lines_carry_no_vat_is_flagged_no_vat() -> None:
    charge = parsed(one_seller_charge("Kent Crafts", tax="0"))
    assert lines_flag("Kent Crafts", charge.line_items) is SellerFlag.NO_VAT
    with_vat = parsed(one_seller_charge("Kent Crafts"))
    assert lines_flag("Kent Crafts", with_vat.line_items) is None
    amazon = parsed(one_seller_charge("Amazon EU S.à r.l., UK Branch", tax="0"))
    assert lines_flag("Amazon EU S.à r.l., UK Branch", amazon.line_items) is None


def test_sellers_seen_lists_flagged_sellers_first_with_their_counts() -> None:
    seen = sellers_seen(
        [
            parsed(one_seller_charge("Harbour Office Supplies Ltd")),
            parsed(one_seller_charge("Müller Bürobedarf GmbH", number=2)),
            parsed(one_seller_charge("harbour office  supplies ltd", number=3)),
        ]
    )
    assert [(s.name, s.transactions, s.flag) for s in seen] == [
        ("Müller Bürobedarf GmbH", 1, SellerFlag.NON_GB),
        ("Harbour Office Supplies Ltd", 2, None),
    ]
    assert seen[1].total == Decimal("27.00")
    assert seen[1].tax == Decimal("4.00")


def test_a_flagged_sellers_vat_becomes_cost_at_the_chosen_rate() -> None:
    record = one_seller_charge("Müller Bürobedarf GmbH")
    plan = plan_record(record, with_sellers(flagged_tax_type="NONE"), uk_context())
    assert isinstance(plan, Planned)
    bill = next(d for d in plan.documents if d.role in MAIN_ROLES)
    lines = bill.payload["LineItems"]
    assert {line["TaxType"] for line in lines} == {"NONE"}
    assert all(line["TaxAmount"] == 0 for line in lines)
    assert lines[0]["LineAmount"] == Decimal("12.00")  # 10.00 + all of the line's 2.00 VAT
    totals = document_totals(bill.payload)
    assert (totals.total, totals.total_tax) == (Decimal("13.50"), Decimal(0))
    assert any("posted as cost at NONE" in note for note in plan.review_notes)


def test_without_a_chosen_rate_flagged_sellers_post_as_before() -> None:
    record = one_seller_charge("Müller Bürobedarf GmbH")
    before = plan_record(copy.deepcopy(record), uk_mapping(), uk_context())
    after = plan_record(copy.deepcopy(record), with_sellers(), uk_context())
    assert before == after


def test_a_per_seller_override_wins_over_the_recognition() -> None:
    record = one_seller_charge("Müller Bürobedarf GmbH")
    reclaim = with_sellers(
        flagged_tax_type="NONE", tax_overrides={"müller bürobedarf gmbh": RECLAIM}
    )
    plan = plan_record(copy.deepcopy(record), reclaim, uk_context())
    assert isinstance(plan, Planned)
    assert plan.documents[0].payload["LineItems"][0]["TaxType"] == "INPUT2"
    exempt = with_sellers(tax_overrides={"Harbour Office Supplies Ltd": "EXEMPTINPUT"})
    plan = plan_record(one_seller_charge("Harbour Office Supplies Ltd"), exempt, uk_context())
    assert isinstance(plan, Planned)
    assert {line["TaxType"] for line in plan.documents[0].payload["LineItems"]} == {"EXEMPTINPUT"}


def test_a_seller_rate_above_zero_is_refused_by_the_checks_and_held_by_the_planner() -> None:
    mapping = with_sellers(flagged_tax_type="INPUT2")
    problems = check_mapping(mapping, uk_context())
    (problem,) = [p for p in problems if p.entry.startswith("sellers")]
    assert problem.entry == "sellers.flagged_tax_type"
    assert "0 %" in problem.message
    plan = plan_record(one_seller_charge("Müller Bürobedarf GmbH"), mapping, uk_context())
    assert isinstance(plan, Held)
    assert plan.code is HoldCode.TAX_TYPE_UNUSABLE


def test_one_contact_per_seller_posts_to_the_sellers_contact() -> None:
    mapping = with_sellers(contact_per_seller=True)
    plan = plan_record(one_seller_charge("Kent Crafts"), mapping, seller_context())
    assert isinstance(plan, Planned)
    wanted = SELLER_CONTACTS[seller_key("Kent Crafts")]
    assert plan.documents[0].payload["Contact"] == {"ContactID": wanted}


def test_a_seller_without_its_contact_yet_is_held_and_mixed_sellers_keep_the_default() -> None:
    mapping = with_sellers(contact_per_seller=True)
    held = plan_record(one_seller_charge("Kent Crafts"), mapping, uk_context())
    assert isinstance(held, Held)
    assert held.code is HoldCode.CONTACT_MISSING
    mixed = one_seller_charge("Kent Crafts")
    mixed["transactionLineItems"].append(
        {**mixed["transactionLineItems"][0], "merchantLegalName": "Harbour Office Supplies Ltd"}
    )
    mixed["amount"]["amount"] = str(Decimal(mixed["amount"]["amount"]) * 2)
    assert document_seller(parsed(mixed)) == ""
    plan = plan_record(mixed, mapping, uk_context())
    assert isinstance(plan, Planned), plan
    assert plan.documents[0].payload["Contact"] == {"ContactID": UK_CONTACT}


def test_a_sellers_archived_contact_holds_its_purchases_with_the_remedy() -> None:
    mapping = with_sellers(contact_per_seller=True)
    context = uk_context(
        seller_contacts=SELLER_CONTACTS, archived_seller_contacts=frozenset({"kent crafts"})
    )
    held = plan_record(one_seller_charge("Kent Crafts"), mapping, context)
    assert isinstance(held, Held)
    assert held.code is HoldCode.CONTACT_ARCHIVED
    assert "Restore the contact" in held.remedy
    other = plan_record(one_seller_charge("Harbour Office Supplies Ltd"), mapping, context)
    assert isinstance(other, Planned)


@st.composite
def seller_records(draw: st.DrawFn) -> dict[str, Any]:
    _, record = draw(charge_records(UK))
    for line in record["transactionLineItems"]:
        line["merchantLegalName"] = draw(st.sampled_from(SELLERS))
    kind = draw(st.sampled_from(["CHARGE", "REFUND", "OVERREFUND"]))
    return record if kind == "CHARGE" else as_refund(record, kind)


@st.composite
def seller_mappings(draw: st.DrawFn) -> MappingConfig:
    overrides = draw(
        st.dictionaries(
            st.sampled_from(SELLERS),
            st.sampled_from([RECLAIM, "NONE", "EXEMPTINPUT", "ZERORATEDINPUT"]),
            max_size=3,
        )
    )
    return with_sellers(
        contact_per_seller=draw(st.booleans()),
        flagged_tax_type=draw(st.sampled_from([None, "NONE", "EXEMPTINPUT"])),
        tax_overrides=overrides,
    )


@FAST
@given(seller_records(), seller_mappings())
def test_per_seller_tax_and_contact_still_total_the_amazon_transaction_to_the_cent(
    record: dict[str, Any], mapping: MappingConfig
) -> None:
    plan = plan_record(copy.deepcopy(record), mapping, seller_context())
    assert isinstance(plan, Planned), plan
    transaction = parsed(record)
    sign = -1 if transaction.transaction_type.is_refund else 1
    (document,) = [d for d in plan.documents if d.role in MAIN_ROLES]
    totals = document_totals(document.payload, region_rates(UK))
    assert totals.total == transaction.amount * sign == document.amount
    unreclaimed = sum(
        (Decimal(note.split()[1]) for note in plan.review_notes if "posted as cost" in note),
        Decimal(0),
    )
    shortfall = declared_shortfall(plan)
    assert totals.total_tax == transaction.tax * sign - unreclaimed - shortfall
    seller = document_seller(transaction)
    contact = document.payload["Contact"]["ContactID"]
    if mapping.sellers.contact_per_seller and seller:
        assert contact == SELLER_CONTACTS[seller_key(seller)]
    else:
        assert contact == UK_CONTACT
    assert review_notes(transaction) == plan.review_notes[: len(review_notes(transaction))]
