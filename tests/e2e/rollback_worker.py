"""A worker process for the rollback crash tests: resume an interrupted rollback, or preview
and carry out the rollback of the last 90 days; then exit.

Run as ``python -m tests.e2e.rollback_worker CONNECTION_ID`` with the ABXERO_* environment
pointing at the simulators; ``ABXERO_FAILPOINT`` may kill it part-way.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from abxero.runtime import Runtime
from abxero.services import rollback
from abxero.settings import load_settings
from abxero.xero import Pacer

LEASE_SECONDS = 1.0


def main(connection_id: int) -> int:
    runtime = Runtime(load_settings(), pacer=Pacer(per_minute=100_000))
    try:
        rollback_id = rollback.unfinished(runtime.sessions, connection_id)
        if rollback_id is None:
            end = runtime.now() + timedelta(days=1)
            rollback_id = rollback.preview(
                runtime, connection_id, end - timedelta(days=120), end
            ).rollback_id
        done = rollback.carry_out(
            runtime, connection_id, rollback_id, lease_ttl=timedelta(seconds=LEASE_SECONDS)
        )
    finally:
        runtime.close()
    print(done.status, done.counts)
    return 0 if done.status == "done" else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
