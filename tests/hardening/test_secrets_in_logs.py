"""No token or client secret ever reaches a log line: a whole journey (sign in, consent, import,
post, a forced refresh, a sync) is logged at DEBUG and searched for every secret we hold."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from abxero.logs import configure_logging
from abxero.store.models import EncryptedTokenSet
from abxero.store.tokens import read_token_set
from abxero_sim import amazon as amazon_sim
from abxero_sim.demo import SIM_XERO_CLIENT
from tests.e2e.harness import Harness
from tests.hardening.support import import_and_finish, post

pytestmark = pytest.mark.slow
SECRET_FIELDS = ("access_token", "refresh_token", "id_token")


def _stored_secrets(harness: Harness) -> set[str]:
    with harness.runtime.sessions() as session:
        rows = session.scalars(select(EncryptedTokenSet)).all()
        found = set()
        for row in rows:
            data = read_token_set(harness.runtime.cipher, row)
            found |= {str(data[name]) for name in SECRET_FIELDS if data.get(name)}
    return found


def test_a_full_journey_logs_no_token_and_no_client_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json_output=True, level=logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    secrets = _stored_secrets(harness)  # issued at sign-in and consent
    for region in ("US", "UK"):
        import_and_finish(harness, region, days=10)
        post(harness, region)
    harness.xero_admin("POST", "/_sim/faults", {"expire_access_tokens": True})
    harness.amazon_admin("POST", "/_sim/expire-tokens")
    for region in ("US", "UK"):
        harness.runtime.engine_for(harness.connections[region]).import_range(
            harness.runtime.now() - timedelta(days=3), harness.runtime.now()
        )
    secrets |= _stored_secrets(harness)  # the refreshed ones
    secrets |= {SIM_XERO_CLIENT[1], amazon_sim.DEFAULT_CLIENT_SECRET}
    out, err = capfd.readouterr()
    captured = "\n".join([out, err, caplog.text])
    assert len(secrets) >= 8
    assert captured.strip()  # the journey did log
    leaked = sorted(secret[:6] + "…" for secret in secrets if secret in captured)
    assert leaked == []
