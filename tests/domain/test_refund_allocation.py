"""Pay-by-Invoice refunds are allocated to the bill Amazon ties their lines to.

Issue 21: order 114-0000311-1156610 was billed in two shipments (452.03 and 82.63); its
-452.03 refund was allocated 82.63 to the smaller bill, the first open bill of the order,
leaving the 452.03 bill open and 369.40 of credit unapplied.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from abxero.domain.lookup import BillsByOrder, OriginalBill, line_refs
from abxero.domain.plan import Planned, Role, UnappliedCredit, plan_as_dict
from abxero.domain.planner import plan_record
from abxero.domain.transactions import Transaction, parse_transaction
from tests.domain.domain_fixtures import us_context, us_mapping
from tests.domain.domain_records import amazon_line, amazon_transaction

ORDER = "114-0000311-1156610"


def _line(principal: str, item: str, shipment: str, *, sign: int = 1) -> dict[str, Any]:
    return amazon_line(
        "USD",
        principal=principal,
        title=f"Item {item}",
        orderId=ORDER,
        orderLineItemId=item,
        shipmentId=shipment,
        sign=sign,
    )


def _record(transaction_id: str, lines: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return amazon_transaction(
        transaction_id, lines, currency="USD", kind=kind, instrument="Pay by Invoice"
    )


def _bill(transaction_id: str, record: dict[str, Any], due: str) -> OriginalBill:
    parsed = parse_transaction(record)
    assert isinstance(parsed, Transaction)
    return OriginalBill(
        f"{transaction_id}:bill",
        Decimal(due),
        "USD",
        f"inv-{transaction_id}",
        lines=line_refs(parsed),
        order_ids=parsed.order_ids,
    )


SMALL = _record("c-small", [_line("82.63", "li-2", "DShip2")], "CHARGE")
LARGE = _record("c-large", [_line("452.03", "li-1", "DShip1")], "CHARGE")


def _plan(refund: dict[str, Any], *bills: OriginalBill) -> Planned:
    plan = plan_record(refund, us_mapping(), us_context(), BillsByOrder(list(bills)))
    assert isinstance(plan, Planned), plan_as_dict(plan)
    return plan


def _allocation(plan: Planned) -> tuple[str, Decimal] | None:
    found = [d for d in plan.documents if d.role is Role.ALLOCATION]
    if not found:
        return None
    (allocation,) = found
    return allocation.payload["Invoice"]["InvoiceID"], allocation.amount


def test_the_refund_goes_to_the_bill_of_its_line_not_the_first_open_bill_of_the_order() -> None:
    refund = _record("r-1", [_line("452.03", "li-1", "DShip1", sign=-1)], "REFUND")
    small, large = _bill("c-small", SMALL, "82.63"), _bill("c-large", LARGE, "452.03")
    plan = _plan(refund, small, large)
    assert _allocation(plan) == ("inv-c-large", Decimal("452.03"))
    assert plan.unapplied is None


def test_a_line_refunded_from_another_shipment_is_not_allocated_to_this_one() -> None:
    """Same order line item, other shipment: not this bill."""
    refund = _record("r-2", [_line("82.63", "li-2", "DShip9", sign=-1)], "REFUND")
    plan = _plan(refund, _bill("c-small", SMALL, "82.63"), _bill("c-large", LARGE, "452.03"))
    assert _allocation(plan) is None
    assert plan.unapplied is not None
    assert plan.unapplied.amount == Decimal("82.63")
    assert "li-2" in plan.unapplied.reason


def test_a_refund_whose_bill_is_not_in_the_ledger_is_declared_unapplied() -> None:
    refund = _record("r-3", [_line("20.00", "li-old", "DOld", sign=-1)], "REFUND")
    plan = _plan(refund, _bill("c-small", SMALL, "82.63"))
    assert _allocation(plan) is None
    assert plan.unapplied is not None
    assert plan.unapplied == UnappliedCredit(Decimal("20.00"), plan.unapplied.reason)
    assert "before the imported range" in plan.unapplied.reason
    assert plan_as_dict(plan)["unapplied_credit"]["amount"] == "20.00"


def test_without_line_ids_only_an_order_with_one_bill_decides() -> None:
    lines = [amazon_line("USD", principal="10.00", orderId=ORDER, sign=-1)]
    refund = _record("r-4", lines, "REFUND")
    alone = _plan(refund, _bill("c-small", SMALL, "82.63"))
    assert _allocation(alone) == ("inv-c-small", Decimal("10.00"))
    both = _plan(refund, _bill("c-small", SMALL, "82.63"), _bill("c-large", LARGE, "452.03"))
    assert _allocation(both) is None
    assert both.unapplied is not None
    assert "cannot be told" in both.unapplied.reason


def test_credit_beyond_what_the_bill_has_due_is_declared_unapplied() -> None:
    refund = _record("r-5", [_line("100.00", "li-2", "DShip2", sign=-1)], "REFUND")
    plan = _plan(refund, _bill("c-small", SMALL, "82.63"))
    assert _allocation(plan) == ("inv-c-small", Decimal("82.63"))
    assert plan.unapplied is not None
    assert plan.unapplied.amount == Decimal("17.37")
