"""Amazon Business failing or sending bad data, and the Xero set-up drifting after mapping:
each is held or quarantined with its reason, nothing wrong reaches Xero, and the fix resumes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from abxero.sync.mappings import latest_mapping
from tests.e2e.harness import Harness
from tests.hardening.support import (
    assert_exactly_once,
    connection,
    event_codes,
    events,
    import_and_finish,
    post,
    statuses,
)

pytestmark = pytest.mark.slow
BUSINESS = {"US": "us-acme", "UK": "uk-harbour"}


def _sync(harness: Harness, region: str) -> Any:
    return harness.runtime.engine_for(harness.connections[region]).sync()


def _org(harness: Harness, region: str, change: dict[str, Any]) -> None:
    harness.xero_admin("POST", f"/_sim/orgs/{harness.tenant_id(region)}", change)


def _holds(harness: Harness, region: str) -> dict[str, str]:
    return {s.reason_code: s.reason for s in harness.sources(region) if s.status == "held"}


@pytest.mark.parametrize("side_effect", ["revoke", "expire-tokens"])
def test_amazon_consent_revoked_or_token_expired_asks_for_a_reconnect(
    harness: Harness, side_effect: str
) -> None:
    import_and_finish(harness, "US")
    post(harness, "US")
    body = {"business_id": BUSINESS["US"]} if side_effect == "revoke" else {}
    harness.amazon_admin("POST", f"/_sim/{side_effect}", body)
    if side_effect == "expire-tokens":  # the refresh token is gone too when consent lapses
        harness.amazon_admin("POST", "/_sim/revoke", {"business_id": BUSINESS["US"]})
    report = _sync(harness, "US")
    assert report.error
    notice = events(harness, "US")[-1]
    assert notice.code == "amazon_needs_reconnect"
    assert "Reconnect Amazon Business" in notice.remedy
    assert_exactly_once(harness, "US")  # what was posted stays, nothing doubled


def test_a_malformed_amazon_page_quarantines_the_bad_records_and_posts_the_rest(
    harness: Harness,
) -> None:
    harness.amazon_admin("POST", "/_sim/faults", {"malformed_every": 4})
    import_and_finish(harness, "UK")
    report = post(harness, "UK")
    assert report.error == ""
    quarantined = [s for s in harness.sources("UK") if s.status == "quarantined"]
    assert quarantined
    assert all(s.reason for s in quarantined)
    assert "posted" in statuses(harness, "UK")
    assert_exactly_once(harness, "UK")


def _import_more(harness: Harness, region: str) -> Any:
    end = harness.runtime.now()
    engine = harness.runtime.engine_for(harness.connections[region])
    return engine.import_range(end - timedelta(days=60), end)


def test_an_archived_supplier_contact_stops_posting_until_restored(harness: Harness) -> None:
    import_and_finish(harness, "US", days=5)
    post(harness, "US")
    contact_id = connection(harness, "US").contact_id
    _org(harness, "US", {"contacts": {contact_id: {"ContactStatus": "ARCHIVED"}}})
    blocked = _import_more(harness, "US")
    assert blocked.new > 0
    assert blocked.documents_posted == 0
    assert event_codes(harness, "US")[-1] == "contact_archived"
    assert "Restore the contact" in events(harness, "US")[-1].remedy
    _org(harness, "US", {"contacts": {contact_id: {"ContactStatus": "ACTIVE"}}})
    assert post(harness, "US").documents_posted > 0
    assert_exactly_once(harness, "US")


def test_a_renamed_supplier_contact_is_still_used_by_its_id(harness: Harness) -> None:
    import_and_finish(harness, "UK", days=5)
    post(harness, "UK")
    contact_id = connection(harness, "UK").contact_id
    _org(harness, "UK", {"contacts": {contact_id: {"Name": "Amazon (renamed by the bookkeeper)"}}})
    assert _import_more(harness, "UK").documents_posted > 0
    assert connection(harness, "UK").contact_id == contact_id
    names = [c["Name"] for c in harness.organisation_state("UK")["contacts"]]
    assert "Amazon Business" not in names  # no second contact was made
    assert_exactly_once(harness, "UK")


def _card_accounts(harness: Harness, region: str) -> list[str]:
    with harness.runtime.sessions() as session:
        found = latest_mapping(session, harness.connections[region])
    assert found is not None
    return sorted(
        {str(m.account) for m in found[1].payment_methods.values() if hasattr(m, "account")}
    )


def test_an_account_archived_after_mapping_holds_until_restored(harness: Harness) -> None:
    import_and_finish(harness, "US")
    codes = _card_accounts(harness, "US")
    _org(harness, "US", {"accounts": {code: {"Status": "ARCHIVED"} for code in codes}})
    held = post(harness, "US")
    assert held.held > 0
    assert "account_unusable" in _holds(harness, "US")
    _org(harness, "US", {"accounts": {code: {"Status": "ACTIVE"} for code in codes}})
    assert post(harness, "US").documents_posted > 0
    assert "held" not in statuses(harness, "US")
    assert_exactly_once(harness, "US")


def test_a_period_locked_after_mapping_holds_until_unlocked(harness: Harness) -> None:
    import_and_finish(harness, "UK")
    today = harness.runtime.now().date().isoformat()
    _org(harness, "UK", {"organisation": {"PeriodLockDate": today}})
    held = post(harness, "UK")
    assert held.held > 0
    assert held.documents_posted == 0
    assert "locked period" in _holds(harness, "UK")["period_locked"]
    _org(harness, "UK", {"organisation": {"PeriodLockDate": None}})
    assert post(harness, "UK").documents_posted > 0
    assert_exactly_once(harness, "UK")


def test_a_currency_the_organisation_cannot_use_is_held(harness: Harness) -> None:
    record = harness.amazon_admin(
        "GET", f"/_sim/transactions?business_id={BUSINESS['UK']}&count=1"
    )["transactions"][0]
    fed = harness.runtime.now() - timedelta(minutes=5)
    now = fed.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    euro = _in_currency(record, "GBP", "EUR") | {"transactionId": "EURO-0001", "feedDate": now}
    harness.amazon_admin(
        "POST", "/_sim/transactions", {"business_id": BUSINESS["UK"], "transactions": [euro]}
    )
    _org(harness, "UK", {"currencies": [{"Code": "GBP", "Description": "Pound Sterling"}]})
    import_and_finish(harness, "UK", days=2)
    post(harness, "UK")
    euro_source = next(s for s in harness.sources("UK") if s.transaction_id == "EURO-0001")
    assert (euro_source.status, euro_source.reason_code) == ("held", "currency_not_enabled")
    assert "EUR" in euro_source.remedy
    assert not [d for d in harness.documents("UK") if d.transaction_id == "EURO-0001"]


def _in_currency(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {key: _in_currency(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_currency(item, old, new) for item in value]
    return new if value == old else value
