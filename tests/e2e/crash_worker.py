"""A worker process for the crash tests: one import of the last 90 days, then exit.

Run as ``python -m tests.e2e.crash_worker CONNECTION_ID KEY_LIFETIME_SECONDS`` with the ABXERO_*
environment pointing at the simulators; ``ABXERO_FAILPOINT`` may kill it part-way.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from abxero.runtime import Runtime
from abxero.settings import load_settings
from abxero.xero import Pacer

LEASE_SECONDS = 1.0
"""A killed worker's lease lapses after this long (production uses minutes)."""


def main(connection_id: int, key_lifetime: float) -> int:
    runtime = Runtime(load_settings(), pacer=Pacer(per_minute=100_000))
    engine = runtime.engine_for(
        connection_id,
        key_lifetime=timedelta(seconds=key_lifetime),
        lease_ttl=timedelta(seconds=LEASE_SECONDS),
    )
    end = runtime.now()
    report = engine.import_range(end - timedelta(days=90), end)
    runtime.close()
    print(report.counts())
    return 1 if report.error else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), float(sys.argv[2])))
