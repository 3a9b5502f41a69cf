"""Deterministic, lazy generation of a business's orders and their Reconciliation transactions.

Order ``i`` of a business is built from its own random stream seeded by ``(seed, business, i)``,
so any order can be rebuilt on demand from its index: nothing is kept in memory, and ids carry
the index (order ids ``114-0000123-…``, invoice numbers ``GB00003F1…``) so a later lookup by id
rebuilds the same order. Every line obeys the arithmetic ``parse_transaction`` checks, with tax
computed per part (item part = principal + discount + regulatory fee at the line's rate,
shipping at ``shipTaxRate``, gift wrap at ``giftWrapTaxRate``), each rounded half up to cents.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from abxero_sim.amazon.businesses import Business
from abxero_sim.amazon.orders import GeneratedOrder
from abxero_sim.amazon.records import build_order
from abxero_sim.amazon.shapes import Shapes
from abxero_sim.amazon.values import from_base36

#: The latest a transaction's feed date can fall after its order date (shipping + refund + lag).
MAX_OFFSET = timedelta(days=40)


@dataclass(frozen=True)
class FeedItem:
    """One generated transaction and where it sits in the generated stream."""

    order_index: int
    position: int
    record: dict[str, Any]


class FeedGenerator:
    """The endless, reproducible order stream of one business, starting at ``start``.

    ``shapes`` (read on every call, so a caller may change it in place) turns on the record
    shapes of :mod:`.shapes`; by default every record has the plain shape.
    """

    def __init__(
        self, business: Business, seed: int, start: datetime, shapes: Shapes | None = None
    ) -> None:
        self.business = business
        self.seed = seed
        self.start = start
        self.shapes = shapes or Shapes()
        self.spacing = 86400.0 / business.orders_per_day

    def order(self, index: int) -> GeneratedOrder:
        rng = random.Random(f"{self.seed}/{self.business.business_id}/{index}")
        moment = self.start + timedelta(seconds=(index + rng.random()) * self.spacing)
        return build_order(self.business, index, moment, rng, self.shapes)

    def index_range(self, feed_start: datetime, feed_end: datetime) -> range:
        """The order indexes whose transactions can have a feed date in the window."""
        first = math.floor((feed_start - MAX_OFFSET - self.start).total_seconds() / self.spacing)
        last = math.floor((feed_end - self.start).total_seconds() / self.spacing)
        return range(max(first, 0), max(last + 1, 0))

    def window(
        self, feed_start: datetime, feed_end: datetime, after: tuple[int, int] = (-1, -1)
    ) -> Iterator[FeedItem]:
        """Transactions with ``feed_start <= feedDate < feed_end``, after a stream position."""
        indexes = self.index_range(feed_start, feed_end)
        for index in range(max(indexes.start, after[0]), indexes.stop):
            for position, record in enumerate(self.order(index).transactions):
                if (index, position) <= after:
                    continue
                if feed_start <= record_feed_date(record) < feed_end:
                    yield FeedItem(index, position, record)

    def stream(self) -> Iterator[FeedItem]:
        """Every transaction of every order, in order index (not feed date) order."""
        index = 0
        while True:
            for position, record in enumerate(self.order(index).transactions):
                yield FeedItem(index, position, record)
            index += 1

    def order_for_id(self, order_id: str) -> GeneratedOrder | None:
        parts = order_id.split("-")
        if len(parts) != 3 or parts[0] != self.business.order_prefix or not parts[1].isdigit():
            return None
        order = self.order(int(parts[1]))
        return order if order.order_id == order_id else None

    def order_for_invoice(self, invoice_number: str) -> GeneratedOrder | None:
        index = invoice_order_index(invoice_number)
        if index is None:
            return None
        order = self.order(index)
        return order if order.document(invoice_number) is not None else None


def invoice_order_index(invoice_number: str) -> int | None:
    """The order index an invoice number was built from, if it is one of ours."""
    try:
        if len(invoice_number) == 12 and invoice_number[:2] in ("GB", "US"):
            return from_base36(invoice_number[2:8])
        if len(invoice_number) == 14 and invoice_number[4] == "-":
            return from_base36(invoice_number[:4])
    except ValueError:
        return None
    return None


def record_feed_date(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["feedDate"]).replace("Z", "+00:00"))
