"""Golden files: tests/golden/<case>.amazon.json planned into <case>.xero.json.

Regenerate after an intended change with ``ABXERO_REGEN_GOLDEN=1 pytest tests/domain``; a
mismatch fails with a unified diff of the expected and actual plans.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from abxero.domain.context import OrgContext
from abxero.domain.lookup import BillsByOrder, OriginalBill, line_refs
from abxero.domain.mapping import MappingConfig
from abxero.domain.plan import Plan, Planned, Role, plan_as_dict
from abxero.domain.planner import plan_record
from abxero.domain.transactions import Transaction, parse_transaction
from tests.domain.domain_fixtures import (
    uk_context,
    uk_locked_context,
    uk_mapping,
    us_context,
    us_mapping,
)

GOLDEN = Path(__file__).parent.parent / "golden"
REGENERATE = os.environ.get("ABXERO_REGEN_GOLDEN") == "1"

Setup = tuple[Callable[[], OrgContext], Callable[[], MappingConfig]]
US: Setup = (us_context, us_mapping)
UK: Setup = (uk_context, uk_mapping)
CASES: dict[str, Setup] = {
    "sandbox_sample": US,
    "uk_vat_mixed": UK,
    "us_tax_discount": US,
    "three_shipments": US,
    "split_two_cards": US,
    "card_refund": UK,
    "pbi_charge_and_credit": US,
    "over_refund": US,
    "boi_rules_tracking": US,
    "locked_period": (uk_locked_context, uk_mapping),
    "unmapped_card": US,
    "spend_and_receive": US,
    "uk_holds_and_skip": UK,
    "bad_records": US,
    "amazon_shapes_uk": UK,
    "amazon_shapes_us": US,
    "uk_spend_inclusive": UK,
}


class BillsPlannedSoFar:
    """A lookup over the bills planned earlier in the same case (not yet posted)."""

    def __init__(self) -> None:
        self.bills: list[OriginalBill] = []

    def remember(self, raw: Any, plan: Plan) -> None:
        if not isinstance(plan, Planned):
            return
        parsed = parse_transaction(raw)
        assert isinstance(parsed, Transaction)
        for document in plan.documents:
            if document.role is Role.BILL:
                self.bills.append(
                    OriginalBill(
                        key=document.key,
                        amount_due=document.amount,
                        currency=document.currency,
                        lines=line_refs(parsed),
                        order_ids=parsed.order_ids,
                    )
                )

    def bills_of_orders(self, order_ids: tuple[str, ...]) -> Sequence[OriginalBill]:
        return BillsByOrder(self.bills).bills_of_orders(order_ids)


def plan_case(case: str) -> list[dict[str, Any]]:
    make_context, make_mapping = CASES[case]
    context, mapping = make_context(), make_mapping()
    records = json.loads((GOLDEN / f"{case}.amazon.json").read_text(), parse_float=Decimal)
    lookup = BillsPlannedSoFar()
    plans = []
    for raw in records["transactions"]:
        plan = plan_record(raw, mapping, context, lookup)
        lookup.remember(raw, plan)
        plans.append(plan_as_dict(plan))
    return plans


def test_every_golden_input_has_a_case() -> None:
    inputs = {path.name.removesuffix(".amazon.json") for path in GOLDEN.glob("*.amazon.json")}
    assert inputs == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    actual = json.dumps(plan_case(case), indent=2, ensure_ascii=False) + "\n"
    expected_path = GOLDEN / f"{case}.xero.json"
    if REGENERATE or not expected_path.exists():
        expected_path.write_text(actual)
        if not REGENERATE:
            pytest.fail(f"{expected_path.name} was missing and has been written; review it")
        return
    expected = expected_path.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{case}.xero.json (expected)",
                tofile=f"{case}.xero.json (actual)",
            )
        )
        pytest.fail(f"plan for {case} changed:\n{diff}")
