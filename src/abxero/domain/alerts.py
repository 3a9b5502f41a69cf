"""Which alerts an organisation's state calls for, and how they differ from those already open.

Pure rules: the service gathers :class:`Facts` from the ledger, :func:`conditions` says which
conditions hold now, and :func:`changes` compares them with the open alerts. An alert is one
*occurrence* of a condition, named by its ``(kind, key)``: it is raised once, stays open while
the condition holds and is resolved (with a follow-up message) when it clears. A rolling kind
(the daily digest) takes a new key each day; yesterday's digest is then superseded quietly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from abxero.domain.lifecycles import ConnectionStatus


class AlertKind(StrEnum):
    SYNC_FAILING = "sync_failing"
    SYNC_STALE = "sync_stale"
    PAYMENT_METHOD_UNMAPPED = "payment_method_unmapped"
    HELD_DIGEST = "held_digest"
    RECONCILIATION_GAP = "reconciliation_gap"
    XERO_CONSENT = "xero_consent"
    AMAZON_CONSENT = "amazon_consent"
    XERO_TOKEN_EXPIRING = "xero_token_expiring"  # noqa: S105 (a name, not a secret)
    DAY_LIMIT = "xero_day_limit"


ROLLING = frozenset({AlertKind.HELD_DIGEST})
FAILURES_BEFORE_ALERT = 2
# Xero: "Unused refresh tokens expire after 60 days" (developer.xero.com/faq/oauth2, quoted in
# shared/docs/xero-api.md §1.5). A grant not refreshed for 50 days is about to lapse.
XERO_REFRESH_LIFETIME = timedelta(days=60)
XERO_EXPIRY_WARNING = timedelta(days=10)


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about one organisation, read at ``now``."""

    now: datetime
    setup_done: bool
    failures_in_a_row: int
    last_success: datetime | None
    watched_since: datetime
    stale_after: timedelta
    unmapped_methods: tuple[str, ...] = ()
    held: int = 0
    quarantined: int = 0
    reconciliation_gap: tuple[str, str] | None = None  # (key, message) of the latest gap
    xero_status: str = ConnectionStatus.CONNECTED
    amazon_problem: str = ""
    xero_refreshed_at: datetime | None = None
    parked_until: datetime | None = None


@dataclass(frozen=True)
class Condition:
    """A condition that holds now: ``anchor`` is the manage-page section that deals with it."""

    kind: AlertKind
    key: str
    title: str
    detail: str
    anchor: str


@dataclass(frozen=True)
class OpenAlert:
    id: int
    kind: str
    key: str


@dataclass(frozen=True)
class Changes:
    raise_: tuple[Condition, ...]
    resolve: tuple[int, ...]
    supersede: tuple[int, ...]


def conditions(facts: Facts) -> list[Condition]:
    """Every condition that holds for the organisation now."""
    found = [
        *_sync_health(facts),
        *_waiting(facts),
        *_consent(facts),
    ]
    if facts.reconciliation_gap is not None:
        key, message = facts.reconciliation_gap
        found.append(
            Condition(
                AlertKind.RECONCILIATION_GAP,
                key,
                "Amazon and Xero do not match",
                message,
                "activity",
            )
        )
    if facts.parked_until is not None and facts.parked_until > facts.now:
        found.append(
            Condition(
                AlertKind.DAY_LIMIT,
                "",
                "Xero's daily limit is used up",
                f"Posting pauses until {facts.parked_until:%Y-%m-%d %H:%M} UTC and then "
                "carries on by itself.",
                "health",
            )
        )
    return found


def _sync_health(facts: Facts) -> list[Condition]:
    if not facts.setup_done:
        return []
    found: list[Condition] = []
    if facts.failures_in_a_row >= FAILURES_BEFORE_ALERT:
        found.append(
            Condition(
                AlertKind.SYNC_FAILING,
                "",
                "Syncing keeps failing",
                f"The last {facts.failures_in_a_row} syncs failed. The manage page shows the "
                "cause and what to do.",
                "health",
            )
        )
    since = facts.last_success or facts.watched_since
    connected = facts.xero_status == ConnectionStatus.CONNECTED and not facts.amazon_problem
    parked = facts.parked_until is not None and facts.parked_until > facts.now
    if connected and not parked and facts.now - since >= facts.stale_after:
        hours = int(facts.stale_after.total_seconds() // 3600)
        found.append(
            Condition(
                AlertKind.SYNC_STALE,
                "",
                f"No successful sync for {hours} hours",
                "Last successful sync: "
                + (f"{facts.last_success:%Y-%m-%d %H:%M} UTC." if facts.last_success else "never."),
                "health",
            )
        )
    return found


def _waiting(facts: Facts) -> list[Condition]:
    found = [
        Condition(
            AlertKind.PAYMENT_METHOD_UNMAPPED,
            method,
            "A new payment method is waiting to be mapped",
            f"Purchases paid with {method} wait until you choose where they post.",
            "payment-methods",
        )
        for method in facts.unmapped_methods
    ]
    if facts.held or facts.quarantined:
        found.append(
            Condition(
                AlertKind.HELD_DIGEST,
                facts.now.date().isoformat(),
                "Transactions waiting for you",
                f"{facts.held} held (you can act on them) and {facts.quarantined} quarantined "
                "(Amazon's data is unreadable) transactions are not posted.",
                "held",
            )
        )
    return found


def _consent(facts: Facts) -> list[Condition]:
    found: list[Condition] = []
    if facts.xero_status != ConnectionStatus.CONNECTED:
        found.append(
            Condition(
                AlertKind.XERO_CONSENT,
                "",
                "Xero needs reconnecting",
                "abxero can no longer reach this organisation in Xero: reconnect it.",
                "health",
            )
        )
    elif facts.xero_refreshed_at is not None:
        lapses = facts.xero_refreshed_at + XERO_REFRESH_LIFETIME
        if facts.now >= lapses - XERO_EXPIRY_WARNING:
            found.append(
                Condition(
                    AlertKind.XERO_TOKEN_EXPIRING,
                    lapses.date().isoformat(),
                    "The Xero connection is about to lapse",
                    f"Xero ends a connection not used for 60 days; this one lapses on "
                    f"{lapses:%Y-%m-%d}. Make sure syncing runs, or reconnect Xero.",
                    "health",
                )
            )
    if facts.amazon_problem:
        found.append(
            Condition(
                AlertKind.AMAZON_CONSENT,
                "",
                "Amazon Business needs reconnecting",
                facts.amazon_problem,
                "health",
            )
        )
    return found


def changes(open_alerts: list[OpenAlert], active: list[Condition]) -> Changes:
    """What to raise, resolve and quietly supersede to bring the open alerts up to date."""
    active_keys = {(c.kind.value, c.key) for c in active}
    open_keys = {(a.kind, a.key) for a in open_alerts}
    active_kinds = {c.kind.value for c in active}
    resolve: list[int] = []
    supersede: list[int] = []
    for alert in open_alerts:
        if (alert.kind, alert.key) in active_keys:
            continue
        rolled = alert.kind in ROLLING and alert.kind in active_kinds
        (supersede if rolled else resolve).append(alert.id)
    fresh = tuple(c for c in active if (c.kind.value, c.key) not in open_keys)
    return Changes(fresh, tuple(resolve), tuple(supersede))
