"""A worker killed mid-sync blocks its organisation for one short lease, not ten minutes."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from abxero.sync.leases import BEATS_PER_TTL, release, try_acquire
from tests.e2e.crash_worker import LEASE_SECONDS
from tests.e2e.harness import exactly_once_report, running_harness
from tests.e2e.test_crash_safety import _worker_process

pytestmark = pytest.mark.slow


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def test_a_sigkilled_holder_is_replaced_within_one_lease_length(tmp_path: Path) -> None:
    """Bug: a worker killed while holding an organisation's lease blocked it until the lease
    lapsed, ten minutes. The worker here is SIGKILLed right after Xero answered its first
    batch (mid-sync, lease held and renewed by its heartbeat); a second holder then tries every
    20 ms. The gap between the kill and the takeover is bounded by the lease length: the dead
    holder's last renewal was at most one heartbeat before the kill."""
    database_url = f"sqlite:///{tmp_path / 'abxero.db'}"
    with running_harness(tmp_path, database_url, orders_per_day=1.2) as harness:
        connection_id = harness.connections["US"]
        now = harness.runtime.now()
        harness.runtime.engine_for(connection_id).import_range(
            now - timedelta(days=90), now - timedelta(days=60)
        )
        harness.map_and_finish("US")
        assert _worker_process(harness, "US", 0, "batch_answered:1") == -signal.SIGKILL
        killed_at = time.monotonic()
        ttl = timedelta(seconds=LEASE_SECONDS)
        lease = f"sync:{connection_id}"
        attempts = 0
        while not try_acquire(harness.runtime.sessions, lease, "replacement", ttl, _wall_clock):
            attempts += 1
            assert time.monotonic() - killed_at < 60, "the dead holder's lease never lapsed"
            time.sleep(0.02)
        gap = time.monotonic() - killed_at
        taken_after_a_wait = attempts > 0
        release(harness.runtime.sessions, lease, "replacement")
        assert _worker_process(harness, "US", 300, None) == 0
        result = exactly_once_report(harness, "US")
    assert taken_after_a_wait, "the killed worker did not hold the lease"
    beat = LEASE_SECONDS / BEATS_PER_TTL
    assert gap <= LEASE_SECONDS + beat, f"took {gap:.2f} s to replace a {LEASE_SECONDS} s lease"
    assert result["xero_documents"] == result["ledger_documents"] > 0
    assert result["unknown_in_xero"] == []
