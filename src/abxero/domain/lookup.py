"""How the planner finds the original bill of a Pay-by-Invoice refund (the caller knows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class OriginalBill:
    """A bill already planned: its document key, its Xero id once posted, what is still due."""

    key: str
    amount_due: Decimal
    currency: str
    xero_id: str | None = None


class BillLookup(Protocol):
    def original_bill(
        self, order_id: str, order_line_item_ids: tuple[str, ...]
    ) -> OriginalBill | None:
        """The bill the refunded lines were charged on, or ``None`` when not known."""
        ...


class NoBills:
    """A lookup that knows no bills: Pay-by-Invoice refunds become unallocated credit notes."""

    def original_bill(
        self, order_id: str, order_line_item_ids: tuple[str, ...]
    ) -> OriginalBill | None:
        return None


@dataclass(frozen=True)
class BillsByOrder:
    """A lookup over a fixed table of bills keyed by order id (demo and tests)."""

    bills: Mapping[str, OriginalBill]

    def original_bill(
        self, order_id: str, order_line_item_ids: tuple[str, ...]
    ) -> OriginalBill | None:
        return self.bills.get(order_id)
