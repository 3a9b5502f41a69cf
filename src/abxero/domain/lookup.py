"""Which bill a Pay-by-Invoice refund belongs to, by what Amazon ties together.

Amazon's Reconciliation API gives every transaction line its ``orderId``, ``orderLineItemId``
and ``shipmentId`` (reconciliation-2021-01-08.json, ``TransactionLineItem``); a refund's
lines repeat the ids of the lines they give money back for, and one charge (one bill) is
made per shipment. So a refund belongs to the bill whose charge carried the same order line
item in the same shipment; never to another bill of the same order because it happens to be
first or open. When Amazon names no line item, an order with exactly one bill still decides.
Otherwise the refund is left as unapplied credit, with the reason (see :class:`BillChoice`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from abxero.domain.transactions import Transaction


@dataclass(frozen=True)
class LineRef:
    """What Amazon ties a line to: its order, order line item and shipment."""

    order_id: str
    line_item_id: str
    shipment_id: str = ""

    def same_line(self, other: LineRef) -> bool:
        """Same order line item; the same shipment too when both name one."""
        shipments = {self.shipment_id, other.shipment_id}
        return (
            bool(self.line_item_id)
            and (self.order_id, self.line_item_id) == (other.order_id, other.line_item_id)
            and ("" in shipments or len(shipments) == 1)
        )


def line_refs(transaction: Transaction) -> frozenset[LineRef]:
    return frozenset(
        LineRef(line.order_id, line.order_line_item_id, line.shipment_id)
        for line in transaction.line_items
        if line.order_id
    )


@dataclass(frozen=True)
class OriginalBill:
    """A bill already planned: its document key, its Xero id once posted, what is still due,
    and the Amazon lines it was charged for."""

    key: str
    amount_due: Decimal
    currency: str
    xero_id: str | None = None
    lines: frozenset[LineRef] = frozenset()
    day: date | None = None
    order_ids: tuple[str, ...] = ()


class BillLookup(Protocol):
    def bills_of_orders(self, order_ids: tuple[str, ...]) -> Sequence[OriginalBill]:
        """The open (not card-paid) bills known for any of ``order_ids``."""
        ...


class NoBills:
    """A lookup that knows no bills: Pay-by-Invoice refunds become unapplied credit notes."""

    def bills_of_orders(self, order_ids: tuple[str, ...]) -> Sequence[OriginalBill]:
        return ()


@dataclass(frozen=True)
class BillsByOrder:
    """A lookup over a fixed list of bills (demo and tests)."""

    bills: Sequence[OriginalBill]

    def bills_of_orders(self, order_ids: tuple[str, ...]) -> Sequence[OriginalBill]:
        return [bill for bill in self.bills if set(bill.order_ids) & set(order_ids)]


@dataclass(frozen=True)
class BillChoice:
    """The bill a refund is allocated to, or why none is (``reason``)."""

    bill: OriginalBill | None
    reason: str = ""


def refunded_bill(transaction: Transaction, lookup: BillLookup) -> BillChoice:
    """The bill ``transaction`` (a refund) gives money back for, by Amazon's line ids."""
    orders = transaction.order_ids
    if not orders:
        return BillChoice(None, "Amazon names no order for this refund")
    label = ", ".join(orders)
    bills = [b for b in lookup.bills_of_orders(orders) if b.currency == transaction.currency]
    refs = [ref for ref in line_refs(transaction) if ref.line_item_id]
    if refs:
        matched = [(bill, _matches(bill, refs)) for bill in bills]
        belong = [(bill, count) for bill, count in matched if count]
        if not belong:
            ids = ", ".join(sorted(ref.line_item_id for ref in refs))
            return BillChoice(
                None,
                f"no bill of order {label} in abxero holds the refunded line item(s) {ids} "
                "(charged before the imported range, or not on Pay by Invoice)",
            )
    elif len(bills) == 1:
        belong = [(bills[0], 1)]
    else:
        return BillChoice(
            None,
            f"Amazon names no line item, and order {label} has {len(bills) or 'no'} bill(s) in "
            "abxero, so which one it refunds cannot be told",
        )
    bill = max(belong, key=lambda pair: (pair[1], pair[0].amount_due > 0))[0]
    if bill.amount_due <= 0:
        return BillChoice(None, f"its bill of order {label} has nothing left due")
    return BillChoice(bill)


def _matches(bill: OriginalBill, refs: Sequence[LineRef]) -> int:
    """How many of the refund's lines this bill was charged for."""
    return sum(1 for ref in refs if any(ref.same_line(line) for line in bill.lines))
