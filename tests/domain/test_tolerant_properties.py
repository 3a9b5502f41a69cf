"""Properties of the tolerant parser: every record the Reconciliation model allows posts for its
amount to the cent, and anything else is quarantined for a named reason, never an exception."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.inclusive import xero_rate
from abxero.domain.plan import Held, Planned, PlannedDocument, Skipped, document_totals
from abxero.domain.planner import plan_record
from abxero.domain.transactions import QUARANTINE_REASONS, Quarantined
from tests.domain.domain_strategies import (
    FAST,
    MAIN_ROLES,
    Region,
    as_refund,
    charge_records,
    json_paths,
    json_values,
)

RATE_FORMS = ("fraction", "percent", "percent sign")


def _rate_text(rate: str, form: str) -> str:
    if form == "fraction":
        return rate
    percent = f"{Decimal(rate) * 100:f}".rstrip("0").rstrip(".") or "0"
    return percent + ("%" if form == "percent sign" else "")


def _include_vat(line: dict[str, Any]) -> None:
    """Move the line's VAT inside its principal: total = principal + charges + discount."""
    principal = Decimal(line["principalAmount"]["amount"]) if "principalAmount" in line else 0
    tax = Decimal(line["tax"]["amount"])
    currency = line["totalAmount"]["currencyCode"]
    line["principalAmount"] = {"currencyCode": currency, "amount": str(principal + tax)}


@st.composite
def model_records(draw: st.DrawFn) -> tuple[Region, dict[str, Any], bool]:
    """A record the model allows, in the shapes real accounts send; and whether it is a split."""
    region, record = draw(charge_records())
    kind = draw(st.sampled_from(["CHARGE", "REFUND", "OVERREFUND"]))
    if kind != "CHARGE":
        record = (
            as_refund(record, kind) if draw(st.booleans()) else {**record, "transactionType": kind}
        )
    record = copy.deepcopy(record)
    lines = record["transactionLineItems"]
    form = draw(st.sampled_from(RATE_FORMS))
    for line in lines:
        line["taxRate"] = _rate_text(line["taxRate"], form)
        if region.name == "UK" and draw(st.booleans()):
            _include_vat(line)
        if draw(st.booleans()):
            line["businessOrderInfo"] = None
        for name in ("giftWrappingCharge", "regulatoryFee"):
            if name not in line and draw(st.booleans()):
                line[name] = {"currencyCode": "", "amount": "0"}
    sign = -1 if Decimal(record["amount"]["amount"]) < 0 else 1
    whole = abs(Decimal(record["amount"]["amount"]))
    split = draw(st.booleans()) and whole > Decimal("0.05")
    if split:
        share = draw(st.integers(1, int(whole * 100) - 1)) * Decimal("0.01")
        record["amount"]["amount"] = str(share * sign)
        record["associatedTransactionDetails"] = [{"associatedTransactionId": "sibling"}, {}]
    elif draw(st.booleans()):
        delta = draw(st.integers(-500, 500)) * Decimal("0.01")
        record["amount"]["amount"] = str(max(whole + delta, Decimal("0.01")) * sign)
    if draw(st.integers(0, 9)) == 0:
        record["transactionLineItems"] = []
    record["transactionDate"] = draw(
        st.sampled_from(
            (record["transactionDate"], "2026-05-01T10:00:00+01:00", "2026-05-01T09:00:00Z")
        )
    )
    return region, record, split


def _rates(region: Region) -> dict[str, Decimal]:
    types = [rate.tax_type for rate in region.context.tax_rates]
    return {tax_type: xero_rate(region.context, tax_type) for tax_type in types}


def _main(plan: Planned) -> PlannedDocument:
    (document,) = [document for document in plan.documents if document.role in MAIN_ROLES]
    return document


def _shortfall(plan: Planned) -> Decimal:
    notes = [note for note in plan.review_notes if note.startswith("Xero computes ")]
    return Decimal(notes[0].split()[2]) if notes else Decimal(0)


@FAST
@given(model_records())
def test_every_record_the_model_allows_posts_for_its_amount(
    generated: tuple[Region, dict[str, Any], bool],
) -> None:
    region, record, split = generated
    plan = plan_record(record, region.mapping, region.context)
    assert isinstance(plan, Planned), plan
    document = _main(plan)
    totals = document_totals(document.payload, _rates(region))
    amount = abs(Decimal(record["amount"]["amount"]))
    assert totals.total == document.amount == amount
    for other in plan.documents:
        assert document_totals(other.payload, _rates(region)).total == other.amount > 0
    lines = record["transactionLineItems"]
    sign = -1 if Decimal(record["amount"]["amount"]) < 0 else 1  # the lines follow the amount
    if region.name == "UK" and not split and lines:
        taxes = sum((Decimal(line["tax"]["amount"]) for line in lines), Decimal(0))
        assert totals.total_tax == taxes * sign - _shortfall(plan)
    lines_total = sum((Decimal(line["totalAmount"]["amount"]) for line in lines), Decimal(0))
    if lines_total * sign != amount and not split:
        assert plan.review_notes


@FAST
@given(model_records(), st.data())
def test_a_broken_record_posts_its_amount_or_is_quarantined_for_a_named_reason(
    generated: tuple[Region, dict[str, Any], bool], data: st.DataObject
) -> None:
    region, record, _ = generated
    path = data.draw(st.sampled_from(json_paths(record)))
    parent: Any = record
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    plan = plan_record(record, region.mapping, region.context)
    if isinstance(plan, Quarantined):
        assert any(reason in plan.reason for reason in QUARANTINE_REASONS), plan.reason
    elif isinstance(plan, Planned):
        document = _main(plan)
        assert document_totals(document.payload, _rates(region)).total == document.amount
        assert document.amount == abs(Decimal(record["amount"]["amount"]))
    else:
        assert isinstance(plan, Held | Skipped)


@FAST
@given(json_values)
def test_random_json_never_raises_and_is_quarantined_for_a_named_reason(value: Any) -> None:
    plan = plan_record(value, charge_region().mapping, charge_region().context)
    assert isinstance(plan, Quarantined)
    assert any(reason in plan.reason for reason in QUARANTINE_REASONS), plan.reason


def charge_region() -> Region:
    from tests.domain.domain_strategies import REGIONS

    return REGIONS[1]
