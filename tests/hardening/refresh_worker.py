"""A worker process for the refresh race: refresh the organisation's Xero token, then read it.

Run as ``python -m tests.hardening.refresh_worker CONNECTION_ID`` with the ABXERO_* environment
pointing at the simulators; prints the organisation's name and exits 0 when both steps worked.
"""

from __future__ import annotations

import sys

from abxero.runtime import Runtime
from abxero.settings import load_settings
from abxero.store.models import XeroConnection


def main(connection_id: int) -> int:
    runtime = Runtime(load_settings())
    try:
        with runtime.sessions() as session:
            token_set_id = session.get_one(XeroConnection, connection_id).token_set_id
        assert token_set_id is not None
        runtime.xero_tokens(token_set_id).force_refresh()
        print(runtime.xero_api(connection_id).org_context().organisation.name)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
