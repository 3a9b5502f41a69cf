"""Properties of planning over generated valid transactions and over malformed input."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.inclusive import xero_rate
from abxero.domain.mapping_checks import expense_account_problem, tax_type_problem
from abxero.domain.plan import (
    Held,
    Plan,
    Planned,
    PlannedDocument,
    Role,
    Skipped,
    document_totals,
    plan_as_dict,
    resolve_links,
)
from abxero.domain.planner import plan_record
from abxero.domain.transactions import Quarantined
from tests.domain.domain_strategies import (
    FAST,
    MAIN_ROLES,
    REGIONS,
    Region,
    as_refund,
    charge_records,
    json_paths,
    json_values,
)

MIRROR = {
    Role.BILL: Role.CREDIT_NOTE,
    Role.PAYMENT: Role.REFUND,
    Role.SPEND: Role.RECEIVE,
}


def planned(region: Region, record: dict[str, Any]) -> Planned:
    plan = plan_record(record, region.mapping, region.context)
    assert isinstance(plan, Planned), plan_as_dict(plan)
    return plan


def main_document(plan: Planned) -> PlannedDocument:
    (document,) = [document for document in plan.documents if document.role in MAIN_ROLES]
    return document


def region_rates(region: Region) -> dict[str, Decimal]:
    """Each tax type's rate as Xero applies it (to compute tax on tax-inclusive lines)."""
    return {
        rate.tax_type: xero_rate(region.context, rate.tax_type) for rate in region.context.tax_rates
    }


def declared_shortfall(plan: Planned) -> Decimal:
    """VAT the plan says Xero cannot compute (0 % Xero rate with Amazon VAT); zero otherwise."""
    for note in plan.review_notes:
        if note.startswith("Xero computes "):
            return Decimal(note.split()[2])
    return Decimal(0)


def amazon_tax(record: dict[str, Any]) -> Decimal:
    """The transaction's tax, signed as the planned document carries it."""
    sign = -1 if record["transactionType"] != "CHARGE" else 1
    taxes = [Decimal(line["tax"]["amount"]) for line in record["transactionLineItems"]]
    return sign * sum(taxes, Decimal(0))


@FAST
@given(charge_records(), st.sampled_from(["CHARGE", "REFUND", "OVERREFUND"]))
def test_documents_total_amazon_amount_and_tax_to_the_cent(
    generated: tuple[Region, dict[str, Any]], kind: str
) -> None:
    region, charge = generated
    record = charge if kind == "CHARGE" else as_refund(charge, kind)
    plan = planned(region, record)
    expected = abs(Decimal(record["amount"]["amount"]))
    document = main_document(plan)
    totals = document_totals(document.payload, region_rates(region))
    assert totals.total == expected == document.amount
    lines = document.payload["LineItems"]
    if region.name == "UK":
        assert totals.total_tax == amazon_tax(record) - declared_shortfall(plan)
    else:
        assert totals.total_tax == 0
        tax_lines = [
            Decimal(line["LineAmount"]) for line in lines if line["Description"] == "Sales tax"
        ]
        assert sum(tax_lines, Decimal(0)) == amazon_tax(record)
    for line in lines:
        assert Decimal(line["Quantity"]) * Decimal(line["UnitAmount"]) == Decimal(
            line["LineAmount"]
        )
        assert len(line["Description"]) <= 4000
    for other in plan.documents:
        assert other.amount > 0
        assert document_totals(other.payload).total == other.amount


@FAST
@given(charge_records())
def test_plans_are_deterministic_with_stable_keys(generated: tuple[Region, dict[str, Any]]) -> None:
    region, record = generated
    first = plan_record(copy.deepcopy(record), region.mapping, region.context)
    second = plan_record(copy.deepcopy(record), region.mapping, region.context)
    assert plan_as_dict(first) == plan_as_dict(second)
    assert isinstance(first, Planned)
    keys = [document.key for document in first.documents]
    assert keys == [
        f"{record['transactionId']}:{document.role.value}" for document in first.documents
    ]
    assert len(set(keys)) == len(keys)
    known: set[str] = set()
    for document in first.documents:
        assert set(document.depends_on) <= known
        known.add(document.key)


@FAST
@given(charge_records())
def test_every_line_uses_an_active_account_and_an_allowed_tax_type(
    generated: tuple[Region, dict[str, Any]],
) -> None:
    region, record = generated
    context = region.context
    for line in main_document(planned(region, record)).payload["LineItems"]:
        assert expense_account_problem(line["AccountCode"], context) is None
        account = context.account(line["AccountCode"])
        assert tax_type_problem(line["TaxType"], context, account) is None
        if region.name == "US":
            assert "TaxAmount" not in line


@FAST
@given(charge_records())
def test_refunds_mirror_charges(generated: tuple[Region, dict[str, Any]]) -> None:
    region, record = generated
    charge, refund = planned(region, record), planned(region, as_refund(record))
    assert [MIRROR.get(document.role) for document in charge.documents] == [
        document.role for document in refund.documents if document.role is not Role.ALLOCATION
    ]
    assert main_document(charge).amount == main_document(refund).amount
    assert main_document(charge).payload["LineItems"] == main_document(refund).payload["LineItems"]


@FAST
@given(charge_records())
def test_links_fill_every_dependency(generated: tuple[Region, dict[str, Any]]) -> None:
    region, record = generated
    plan = planned(region, record)
    ids = {document.key: f"xero-{index}" for index, document in enumerate(plan.documents)}
    for document in plan.documents:
        payload = resolve_links(document.payload, document.links, ids)
        for link in document.links:
            target: Any = payload
            for name in link.path:
                target = target[name]
            assert target == ids[link.key]


def _outcome_is_sound(plan: Plan) -> None:
    if isinstance(plan, Quarantined):
        assert plan.reason
    elif isinstance(plan, Held):
        assert plan.message
        assert plan.remedy
    elif isinstance(plan, Skipped):
        assert plan.reason
    else:
        for document in plan.documents:
            assert document_totals(document.payload).total == document.amount >= 0


@FAST
@given(json_values)
def test_arbitrary_json_is_quarantined(value: Any) -> None:
    region = REGIONS[0]
    plan = plan_record(value, region.mapping, region.context)
    assert isinstance(plan, Quarantined)
    assert plan.reason


@FAST
@given(charge_records(), st.data())
def test_mutated_records_never_raise(
    generated: tuple[Region, dict[str, Any]], data: st.DataObject
) -> None:
    region, record = generated
    mutated = copy.deepcopy(record)
    path = data.draw(st.sampled_from(json_paths(mutated)))
    parent: Any = mutated
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    _outcome_is_sound(plan_record(mutated, region.mapping, region.context))
