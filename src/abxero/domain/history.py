"""Planning a long history import against Xero's limits: how many calls, how long, and the
time left while it posts.

Xero allows each organisation 5,000 calls a day and 60 a minute (xero-api.md, rate limits:
"per day, per tenant 5,000"; limits are per connection). A day-limit 429 parks the organisation
until Xero's ``Retry-After`` and a later run resumes (``sync/engine.py``), so a history that
needs more calls than a day holds simply spreads over days.

The calls-per-transaction model follows what the engine sends: documents go out in batches of
``batch_size`` per endpoint (one request per batch), so a transaction costs a share of a bill
(or credit note, or bank transaction) batch, a share of a payment batch when its policy pays
the bill separately, one attachment upload when Amazon has an invoice PDF for it, and each run
reads the organisation (Organisation, Accounts, TaxRates, Currencies, TrackingCategories) and
checks the contact. Amazon's side is not counted: ``getTransactions`` allows 2 requests a
second (amazon-business-api.md §3.1), far from the bottleneck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

XERO_CALLS_PER_DAY = 5000
XERO_CALLS_PER_MINUTE = 60
RESERVED_PER_DAY = 250
"""Calls a day left for regular syncs, page views and retries while a history posts."""
CALLS_PER_RUN = 6
"""Five organisation reads and one contact check at the start of every posting run."""


@dataclass(frozen=True)
class CallModel:
    """Xero calls per Amazon transaction under the organisation's mapping."""

    batch_size: int
    payment_share: Decimal = Decimal(1)
    """Transactions that also post a payment (bill + payment policy on a card)."""
    attachment_share: Decimal = Decimal(0)
    """Transactions whose document gets Amazon's invoice PDF (one upload each)."""
    calls_per_run: int = CALLS_PER_RUN

    def calls_for(self, transactions: int) -> int:
        """The Xero calls to post ``transactions`` in one run."""
        if transactions <= 0:
            return 0
        main = math.ceil(transactions / self.batch_size)
        payments = _ceil(transactions * self.payment_share / self.batch_size)
        attachments = _ceil(transactions * self.attachment_share)
        return main + payments + attachments + self.calls_per_run

    def calls_per_hundred(self) -> int:
        return self.calls_for(100)


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def usable_per_day(day_limit: int = XERO_CALLS_PER_DAY) -> int:
    return max(1, day_limit - RESERVED_PER_DAY)


def posting_time(
    calls: int,
    *,
    day_limit: int = XERO_CALLS_PER_DAY,
    per_minute: int = XERO_CALLS_PER_MINUTE,
    left_today: int | None = None,
) -> timedelta:
    """How long ``calls`` take: a minute per ``per_minute`` calls, and a wait for the next
    day's allowance each time a day's calls run out (``left_today`` of them today)."""
    if calls <= 0:
        return timedelta(0)
    today = usable_per_day(day_limit) if left_today is None else max(0, left_today)
    if calls <= today:
        return timedelta(minutes=calls / per_minute)
    later = calls - today
    full_days = math.ceil(later / usable_per_day(day_limit))
    last_day = later - (full_days - 1) * usable_per_day(day_limit)
    return timedelta(days=full_days, minutes=last_day / per_minute)


@dataclass(frozen=True)
class ImportEstimate:
    """What importing a range will cost in Xero, shown before it starts."""

    days_in_range: int
    per_day: Decimal | None
    """Amazon transactions a day seen so far; ``None`` before any were imported."""
    transactions: int | None
    calls: int | None
    posting_days: int
    duration: timedelta | None
    calls_per_hundred: int

    @property
    def spreads_over_days(self) -> bool:
        return self.posting_days > 1


def estimate_import(
    days_in_range: int,
    per_day: Decimal | None,
    model: CallModel,
    *,
    stored_in_range: int = 0,
    posted_in_range: int = 0,
    day_limit: int = XERO_CALLS_PER_DAY,
) -> ImportEstimate:
    """The estimate for a range of ``days_in_range`` days at ``per_day`` transactions a day;
    what is stored for the range counts when it is more, and what is posted costs nothing."""
    hundred = model.calls_per_hundred()
    if per_day is None and not stored_in_range:
        return ImportEstimate(days_in_range, None, None, None, 0, None, hundred)
    expected = _ceil((per_day or Decimal(0)) * days_in_range)
    transactions = max(expected, stored_in_range) - posted_in_range
    transactions = max(transactions, 0)
    calls = model.calls_for(transactions)
    days = math.ceil(calls / usable_per_day(day_limit)) if calls else 0
    duration = posting_time(calls, day_limit=day_limit)
    return ImportEstimate(days_in_range, per_day, transactions, calls, days, duration, hundred)


@dataclass(frozen=True)
class PostingProgress:
    """Where posting stands: transactions in Xero, left to post, and when it should be done."""

    done: int
    left: int
    calls_left: int
    finish_at: datetime | None

    @property
    def total(self) -> int:
        return self.done + self.left


def posting_progress(
    done: int,
    left: int,
    model: CallModel,
    now: datetime,
    *,
    parked_until: datetime | None = None,
    day_limit: int = XERO_CALLS_PER_DAY,
    left_today: int | None = None,
) -> PostingProgress:
    """Progress and ETA; while parked at the day limit the clock starts when Xero allows
    calls again, with a whole day's allowance. Otherwise ``left_today`` (Xero's
    ``X-DayLimit-Remaining`` less the reserve) is what today still holds, when known."""
    calls = model.calls_for(left)
    if left <= 0:
        return PostingProgress(done, 0, 0, None)
    if parked_until and parked_until > now:
        return PostingProgress(
            done, left, calls, parked_until + posting_time(calls, day_limit=day_limit)
        )
    today = None if left_today is None else max(0, left_today - RESERVED_PER_DAY)
    span = posting_time(calls, day_limit=day_limit, left_today=today)
    return PostingProgress(done, left, calls, now + span)


def describe_duration(span: timedelta) -> str:
    """``span`` in words a person plans with: minutes, hours, days."""
    minutes = max(1, math.ceil(span.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = math.ceil(hours / 24)
    return f"{days} days"
