"""When an organisation is synced next: the one rule the scheduler, the engine, the manage page
and ``abxero status`` all follow (the facts are read by ``sync/due.py``).

An organisation is synced on its interval once setup is finished, its Xero connection works and
an Amazon Business feed reaches it (its own account, or another organisation's that routes legal
entities to it). A finished organisation that has never synced is due at once: finishing setup
is what starts its syncs. Three things push the next sync later: the interval since the last
successful sync, a pause after Xero's per-organisation day limit (``parked_until``; shared docs
xero-api.md, "per day, per tenant", from https://developer.xero.com/documentation/guides/oauth2/
limits/), and the growing wait after failed runs in a row. Pure: the caller passes ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from abxero.domain.lifecycles import ConnectionStatus, SetupStep


@dataclass(frozen=True)
class SyncFacts:
    """What the rule needs to know about one organisation."""

    setup_step: str
    status: str  # the Xero connection
    fed: bool  # an Amazon Business feed reaches it (its own connected account, or a route)
    interval: timedelta
    last_sync_at: datetime | None = None  # the last successful sync
    parked_until: datetime | None = None
    failures: int = 0  # finished runs in a row that failed, most recent first
    last_failed_at: datetime | None = None


def may_post(setup_step: str, status: str, parked_until: datetime | None, now: datetime) -> bool:
    """Whether a run may send documents to Xero now: setup finished, Xero connected, and not
    paused after the daily limit. A run started by hand posts whatever the interval says."""
    if setup_step != SetupStep.DONE or status != ConnectionStatus.CONNECTED:
        return False
    return parked_until is None or parked_until <= now


def retry_delay(failures: int, interval: timedelta) -> timedelta:
    """How long after a failed run the scheduler tries again: 2, 4, 8 … minutes, at most the
    organisation's interval. A failing run does not move ``last_sync_at``; without this the
    minute tick would retry it every minute and spend the organisation's daily Xero calls on
    failures."""
    return min(timedelta(minutes=2 ** min(max(failures, 1), 10)), interval)


def retry_after(facts: SyncFacts) -> datetime | None:
    """When the scheduler tries again after failed runs in a row, or None."""
    if not facts.failures or facts.last_failed_at is None:
        return None
    return facts.last_failed_at + retry_delay(facts.failures, facts.interval)


def scheduled(facts: SyncFacts) -> bool:
    """Whether the scheduler syncs this organisation at all."""
    return (
        facts.setup_step == SetupStep.DONE
        and facts.status == ConnectionStatus.CONNECTED
        and facts.fed
    )


def next_sync(facts: SyncFacts, now: datetime) -> datetime | None:
    """When the next scheduled sync is (``now`` when it is due), or None when none is."""
    if not scheduled(facts):
        return None
    moments = [now]
    if facts.last_sync_at is not None:
        moments.append(facts.last_sync_at + facts.interval)
    if facts.parked_until is not None:
        moments.append(facts.parked_until)
    retry = retry_after(facts)
    if retry is not None:
        moments.append(retry)
    return max(moments)


def is_due(facts: SyncFacts, now: datetime) -> bool:
    """Whether the scheduler should queue a sync now."""
    moment = next_sync(facts, now)
    return moment is not None and moment <= now
