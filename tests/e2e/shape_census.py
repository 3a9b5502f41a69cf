"""How many records of each real-world shape today's parser quarantines.

Generates 90 days of a US (``us-acme``) and a UK (``uk-harbour``) business with the record
shapes of ``abxero_sim.amazon.shapes`` at their ``Shapes.all_on()`` fractions and runs
``parse_transaction`` over them. A record "has" a shape when turning on that knob alone
changes it (or adds it). Rerun after a parser change:

    PYTHONPATH=src python -m tests.e2e.shape_census [--json]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from abxero.domain.transactions import Quarantined, parse_transaction
from abxero_sim.amazon import DEFAULT_BUSINESSES, Business, Shapes
from abxero_sim.amazon.generator import FeedGenerator

REGIONS = {"US": "us-acme", "UK": "uk-harbour"}
END = datetime(2026, 6, 1, tzinfo=UTC)
BY_ID = {business.business_id: business for business in DEFAULT_BUSINESSES}


@dataclass(frozen=True)
class Generation:
    """Which slice of a business's stream to generate."""

    seed: int = 7
    days: int = 90
    end: datetime = END
    orders_per_day: float | None = None


@dataclass
class ShapeCount:
    """Records carrying one shape and how many of them the parser quarantines."""

    shape: str
    records: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "shape": self.shape,
            "records": self.records,
            "quarantined": self.quarantined,
            "reasons": dict(self.reasons.most_common(3)),
        }


def feed(business: Business, shapes: Shapes, generation: Generation) -> list[dict[str, Any]]:
    """The records whose feed date falls in the last ``days`` before ``end``."""
    if generation.orders_per_day is not None:
        business = replace(business, orders_per_day=generation.orders_per_day)
    start = generation.end - timedelta(days=business.history_days)
    generator = FeedGenerator(business, generation.seed, start, shapes)
    window = generator.window(generation.end - timedelta(days=generation.days), generation.end)
    return [item.record for item in window]


def with_shape(
    business: Business, name: str, generation: Generation, shapes: Shapes | None = None
) -> list[dict[str, Any]]:
    """The records that carry shape ``name`` (changed or added by that knob alone)."""
    plain = {_text(record) for record in feed(business, Shapes(), generation)}
    alone = (shapes or Shapes.all_on()).only(name)
    return [record for record in feed(business, alone, generation) if _text(record) not in plain]


def count(name: str, records: list[dict[str, Any]]) -> ShapeCount:
    result = ShapeCount(name, records=len(records))
    for record in records:
        parsed = parse_transaction(record)
        if isinstance(parsed, Quarantined):
            result.quarantined += 1
            result.reasons[reason_kind(parsed.reason)] += 1
    return result


def census(generation: Generation | None = None) -> dict[str, list[ShapeCount]]:
    """Per region: one count per shape, then ``all_on`` for every knob at once."""
    generation = generation or Generation()
    results: dict[str, list[ShapeCount]] = {}
    for region, business_id in REGIONS.items():
        business = BY_ID[business_id]
        rows = [count(name, with_shape(business, name, generation)) for name in Shapes.names()]
        rows.append(count("all_on", feed(business, Shapes.all_on(), generation)))
        results[region] = rows
    return results


def _number(money: Any) -> Decimal:
    try:
        return Decimal(str(money["amount"])) if isinstance(money, dict) else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in record.get("transactionLineItems") or [] if isinstance(line, dict)]


def _lines_total(record: dict[str, Any]) -> Decimal:
    return sum((_number(line.get("totalAmount")) for line in _lines(record)), Decimal(0))


def _rate_is_percent(text: Any) -> bool:
    try:
        return isinstance(text, str) and (text.endswith("%") or Decimal(text) > 1)
    except InvalidOperation:
        return False


EXCLUSIVE = ("principalAmount", "shippingCharge", "giftWrappingCharge", "regulatoryFee", "discount")

#: Recognise each shape in a raw record (to check that a fetched feed really shows them).
DETECTORS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "refund_positive": lambda r: (
        r.get("transactionType") in ("REFUND", "OVERREFUND") and _number(r.get("amount")) > 0
    ),
    "vat_inclusive": lambda r: any(
        _number(line.get("tax")) != 0
        and sum((_number(line.get(p)) for p in EXCLUSIVE), Decimal(0))
        == _number(line.get("totalAmount"))
        for line in _lines(r)
    ),
    "authorised_amount": lambda r: (
        bool(_lines(r))
        and not r.get("associatedTransactionDetails")
        and _number(r.get("amount")) != _lines_total(r)
    ),
    "split_shared_lines": lambda r: (
        bool(_lines(r))
        and bool(r.get("associatedTransactionDetails"))
        and _number(r.get("amount")) != _lines_total(r)
    ),
    "null_order_info": lambda r: any(
        None in (line.get("businessOrderInfo") or {}).values() for line in _lines(r)
    ),
    "associated_without_id": lambda r: {} in (r.get("associatedTransactionDetails") or []),
    "empty_zero_money": lambda r: any(
        isinstance(value, dict) and value.get("currencyCode") == ""
        for line in _lines(r)
        for value in line.values()
    ),
    "percent_tax_rate": lambda r: any(_rate_is_percent(line.get("taxRate")) for line in _lines(r)),
    "offset_timestamps": lambda r: (
        not str(r.get("feedDate", "")).endswith("Z") or len(str(r.get("feedDate"))) == 20
    ),
    "no_line_items": lambda r: not _lines(r) and _number(r.get("amount")) != 0,
}


def shapes_seen(records: list[dict[str, Any]]) -> Counter[str]:
    """How many records show each shape, by :data:`DETECTORS`."""
    return Counter(name for record in records for name, seen in DETECTORS.items() if seen(record))


def _text(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True)


def reason_kind(reason: str) -> str:
    """A quarantine reason without its numbers and quoted values, to group by."""
    reason = re.sub(r"\[\d+\]", "[]", reason)
    reason = re.sub(r"'[^']*'", "'...'", reason)
    return re.sub(r"-?\d+(\.\d+)?", "N", reason)


def render(results: dict[str, list[ShapeCount]]) -> str:
    lines = [f"{'region':<6} {'shape':<22} {'records':>8} {'quarantined':>12}  main reason"]
    for region, rows in results.items():
        for row in rows:
            reason = row.reasons.most_common(1)[0][0] if row.reasons else ""
            lines.append(
                f"{region:<6} {row.shape:<22} {row.records:>8} {row.quarantined:>12}  {reason}"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    results = census()
    if "--json" in argv:
        print(json.dumps({k: [row.as_json() for row in v] for k, v in results.items()}, indent=2))
    else:
        print(render(results))


if __name__ == "__main__":
    main(sys.argv[1:])
