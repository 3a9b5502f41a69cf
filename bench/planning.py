"""Planning cost: transactions planned per second, beside decoding the same Amazon pages.

Not a headline measurement any more: at thousands of transactions a second, planning is two
orders of magnitude faster than Xero accepts documents (60 calls of 50 a minute), so what
counts is the end-to-end import time against Xero's floor (``bench/importtime.py``). These
rows stay as a guard against a planner that becomes slow or grows memory with N.

Records come from the Amazon simulator's own generator (us-acme's stream), written as
``getTransactions`` pages of 100 to a scratch file first so generation is never timed. Each page
is then read back and timed twice: ``json.loads`` of the page text (the baseline), and
``plan_record`` of each of its records (strict parse + planning) against the demo US
organisation (the Xero simulator's seed) with the suggested mapping and every card on the
organisation's credit-card account. Pages are processed one at a time, so memory should not
grow with N; peak memory is measured with ``tracemalloc`` in a second pass.
"""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from abxero.domain.context import OrgContext
from abxero.domain.defaults import default_mapping
from abxero.domain.mapping import AccountPayment, MappingConfig
from abxero.domain.planner import plan_record
from abxero.domain.transactions import Instrument
from abxero_sim.amazon.businesses import ACME
from abxero_sim.amazon.generator import FeedGenerator
from abxero_sim.xero.seed import us_demo
from bench.results import Row, Target
from tests.context_json import context_from_json

NAME = "Planning cost"
PAGE_SIZE = 100
SIZES = {
    "full": (1_000, 10_000, 100_000),
    "quick": (1_000, 10_000),
    "tiny": (200, 400),
}
SEED = 3


def demo_context() -> OrgContext:
    seed = us_demo(SEED)
    plain = json.loads(
        json.dumps(
            [seed.organisation, seed.accounts, seed.tax_rates, seed.currencies, seed.tracking],
            default=str,
        )
    )
    contact = seed.contacts[0]["ContactID"]
    return context_from_json(*plain, contact)


def demo_mapping(context: OrgContext) -> MappingConfig:
    instruments = [Instrument(method.kind, method.last4) for method in ACME.instruments]
    mapping = default_mapping(context, instruments)
    card = next(
        a for a in context.accounts if a.is_bank and "CREDIT" in (a.bank_account_type or "")
    )
    methods = dict(mapping.payment_methods)
    for instrument in instruments:
        if not instrument.looks_like_pay_by_invoice:
            methods[instrument.key] = AccountPayment(account=card.code or card.account_id)
    return mapping.model_copy(update={"payment_methods": methods})


def write_pages(path: Path, count: int) -> None:
    """``count`` generated records as getTransactions pages, one JSON page per line."""
    stream = FeedGenerator(ACME, SEED, datetime(2025, 1, 1, tzinfo=UTC)).stream()
    with path.open("w") as out:
        for first in range(0, count, PAGE_SIZE):
            page = [next(stream).record for _ in range(min(PAGE_SIZE, count - first))]
            out.write(json.dumps({"transactions": page, "nextPageToken": "t"}) + "\n")


def pages(path: Path) -> Iterator[str]:
    with path.open() as lines:
        yield from lines


def timed_pass(
    path: Path, mapping: MappingConfig, context: OrgContext
) -> tuple[float, float, Counter[str]]:
    """Seconds spent decoding and seconds spent planning, and the plan outcomes."""
    decoding = planning = 0.0
    outcomes: Counter[str] = Counter()
    for text in pages(path):
        started = time.perf_counter()
        records: list[Any] = json.loads(text)["transactions"]
        decoded = time.perf_counter()
        plans = [plan_record(record, mapping, context) for record in records]
        planned = time.perf_counter()
        decoding += decoded - started
        planning += planned - decoded
        outcomes.update(type(plan).__name__ for plan in plans)
    return decoding, planning, outcomes


def peak_memory(path: Path, mapping: MappingConfig, context: OrgContext) -> int:
    tracemalloc.start()
    try:
        for text in pages(path):
            for record in json.loads(text)["transactions"]:
                plan_record(record, mapping, context)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(size: str) -> list[Row]:
    context = demo_context()
    mapping = demo_mapping(context)
    rows, peaks = [], []
    with tempfile.TemporaryDirectory(prefix="abxero-bench-") as folder:
        for count in SIZES[size]:
            path = Path(folder) / f"pages-{count}.jsonl"
            write_pages(path, count)
            decoding, planning, outcomes = timed_pass(path, mapping, context)
            peaks.append(peak_memory(path, mapping, context))
            path.unlink()
            rows.append(
                Row(
                    f"planned per second, N={count:,}",
                    count / planning,
                    "tx/s",
                    None,
                    f"plan {planning:.2f} s ({planning / count * 1e6:.0f} µs each), "
                    f"json.loads {decoding:.3f} s; {dict(outcomes)}",
                    {
                        "plan_seconds": planning,
                        "loads_seconds": decoding,
                        "outcomes": dict(outcomes),
                    },
                )
            )
    for count, peak in zip(SIZES[size], peaks, strict=True):
        rows.append(Row(f"peak memory, N={count:,}", peak / 2**20, "MB", None, "tracemalloc peak"))
    growth = (peaks[-1] - peaks[0]) / 2**20
    rows.append(
        Row(
            f"memory growth {SIZES[size][0]:,} → {SIZES[size][-1]:,}",
            growth,
            "MB",
            Target("<=", 20),
            "peak at largest N minus peak at smallest",
        )
    )
    return rows
