"""Idempotency, rate limits and injected faults, seen through the client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from abxero.xero import (
    AccountingTransport,
    DayLimitError,
    NeedsReconnectError,
    Pacer,
    RetriableError,
    RetryPolicy,
    XeroAccounting,
)
from abxero_sim.clock import ManualClock
from abxero_sim.xero import LimitSettings
from tests.xero.xero_support import BASE, ApiFactory, bill, put_batch, state


def contact(api: XeroAccounting) -> str:
    return next(c.contact_id for c in api.find_contacts() if c.name == "Amazon Business")


def stats(http: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = http.get("/_sim/stats").json()
    return body


def test_same_key_same_body_replays_the_first_response(
    http: httpx.Client, uk: XeroAccounting
) -> None:
    batch = [bill(contact(uk))]
    first = put_batch(uk, "Invoices", batch, "batch-0001")
    again = put_batch(uk, "Invoices", batch, "batch-0001")
    assert again.elements[0].xero_id == first.elements[0].xero_id
    assert len(state(http, "uk")["invoices"]) == 1
    assert stats(http)["idempotent_replays"] == 1


def test_same_key_other_body_is_refused(uk: XeroAccounting) -> None:
    put_batch(uk, "Invoices", [bill(contact(uk))], "batch-0002")
    with pytest.raises(Exception, match="different request"):
        put_batch(uk, "Invoices", [bill(contact(uk), InvoiceNumber="other")], "batch-0002")


def test_keys_expire_after_the_window(
    http: httpx.Client, uk: XeroAccounting, clock: ManualClock
) -> None:
    batch = [bill(contact(uk))]
    put_batch(uk, "Invoices", batch, "batch-0003")
    clock.advance(timedelta(minutes=6, seconds=1).total_seconds())
    put_batch(uk, "Invoices", batch, "batch-0003")
    assert len(state(http, "uk")["invoices"]) == 2


def test_lost_response_then_retry_with_the_same_key_posts_once(
    http: httpx.Client, uk: XeroAccounting
) -> None:
    http.post("/_sim/faults", json={"lose_responses": 1})
    batch = [bill(contact(uk))]
    with pytest.raises(RetriableError) as lost:
        put_batch(uk, "Invoices", batch, "batch-0004")
    assert lost.value.may_have_applied
    retried = put_batch(uk, "Invoices", batch, "batch-0004")
    assert retried.all_ok
    assert len(state(http, "uk")["invoices"]) == 1


@pytest.fixture
def limits() -> LimitSettings:
    return LimitSettings(per_minute=4, per_day=6)


def test_pacing_from_headers_avoids_the_minute_limit(
    http: httpx.Client, make_api: ApiFactory, sleeps: list[float]
) -> None:
    api = make_api("us")
    for _ in range(5):
        assert api.organisation().base_currency == "USD"
    assert stats(http)["rate_limited"] == {}
    assert sleeps == [60.0]


def test_minute_429_waits_retry_after_then_succeeds(
    http: httpx.Client, make_api: ApiFactory, sleeps: list[float]
) -> None:
    http.post("/_sim/faults", json={"rate_limit_storm": 2, "storm_retry_after": 3})
    assert make_api("uk").organisation().base_currency == "GBP"
    assert stats(http)["rate_limited"] == {"minute": 2}
    assert sleeps == [3.0, 3.0]


def test_day_limit_raises_come_back_at(make_api: ApiFactory, clock: ManualClock) -> None:
    api = make_api("uk")
    for _ in range(6):
        api.currencies()
    with pytest.raises(DayLimitError) as stop:
        api.currencies()
    assert stop.value.retry_at > clock.now() + timedelta(hours=23)


def test_headers_report_what_is_left(http: httpx.Client, sim_token: dict[str, Any]) -> None:
    headers = {
        "Authorization": f"Bearer {sim_token['access_token']}",
        "xero-tenant-id": sim_token["tenants"]["us"],
    }
    answer = http.get("/api.xro/2.0/Organisation", headers=headers)
    assert answer.headers["X-MinLimit-Remaining"] == "3"
    assert answer.headers["X-DayLimit-Remaining"] == "5"
    assert int(answer.headers["X-AppMinLimit-Remaining"]) > 0


def test_long_minute_429_is_given_back_not_slept(
    http: httpx.Client, make_api: ApiFactory, sleeps: list[float]
) -> None:
    http.post("/_sim/faults", json={"rate_limit_storm": 1, "storm_retry_after": 600})
    api = make_api("uk", retry=RetryPolicy(max_retry_after=30))
    with pytest.raises(RetriableError) as slow:
        api.organisation()
    assert slow.value.retry_after == 600
    assert not sleeps


def test_server_errors_and_revocation(http: httpx.Client, make_api: ApiFactory) -> None:
    api = make_api("uk")
    http.post("/_sim/faults", json={"server_errors": 1, "server_error_status": 503})
    with pytest.raises(RetriableError):
        api.organisation()
    assert api.organisation().base_currency == "GBP"
    http.post("/_sim/faults", json={"revoke_tokens": True})
    with pytest.raises(NeedsReconnectError):
        api.organisation()


def test_disconnected_tenant_fault(
    http: httpx.Client, make_api: ApiFactory, sim_token: dict[str, Any]
) -> None:
    http.post("/_sim/faults", json={"disconnected_tenants": [sim_token["tenants"]["uk"]]})
    with pytest.raises(NeedsReconnectError, match="tenant"):
        make_api("uk").organisation()


def test_missing_tenant_header_is_forbidden(http: httpx.Client, sim_token: dict[str, Any]) -> None:
    answer = http.get(
        "/api.xro/2.0/Organisation",
        headers={"Authorization": f"Bearer {sim_token['access_token']}"},
    )
    assert answer.status_code == 403
    assert answer.json()["Detail"] == "AuthenticationUnsuccessful"


def test_the_days_remaining_calls_are_learnt_from_every_answer(
    http: httpx.Client, sim_token: dict[str, Any], clock: ManualClock
) -> None:
    """``X-DayLimit-Remaining`` feeds the ETA of a long history (services/setup.posting_state);
    it is forgotten after ten minutes, as Xero's day window resets at a per-tenant time."""
    tenant = sim_token["tenants"]["uk"]
    pacer = Pacer(monotonic=clock.monotonic, sleep=clock.advance)
    api = XeroAccounting(
        AccountingTransport(
            http,
            f"{BASE}/api.xro/2.0",
            tenant,
            lambda: str(sim_token["access_token"]),
            pacer=pacer,
            sleep=clock.advance,
            now=clock.now,
        )
    )
    assert pacer.day_remaining(tenant) is None
    api.currencies()
    api.currencies()
    assert pacer.day_remaining(tenant) == 4  # six a day in these tests
    clock.advance(601)
    assert pacer.day_remaining(tenant) is None
