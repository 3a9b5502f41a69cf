"""The pure alert rules and the checks on what the manage page accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from abxero.alerts.config import (
    ConfigInvalid,
    check_stale_hours,
    check_webhook_url,
    parse_recipients,
)
from abxero.domain.alerts import AlertKind, Facts, OpenAlert, changes, conditions

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def facts(**values: object) -> Facts:
    base: dict[str, object] = {
        "now": NOW,
        "setup_done": True,
        "failures_in_a_row": 0,
        "last_success": NOW - timedelta(minutes=5),
        "watched_since": NOW - timedelta(days=3),
        "stale_after": timedelta(hours=6),
        "xero_refreshed_at": NOW - timedelta(minutes=20),
    }
    return Facts(**(base | values))  # type: ignore[arg-type]


def kinds(found: Facts) -> set[AlertKind]:
    return {condition.kind for condition in conditions(found)}


def test_a_healthy_organisation_has_no_conditions() -> None:
    assert conditions(facts()) == []


def test_one_failed_run_is_not_an_alert_two_are() -> None:
    assert kinds(facts(failures_in_a_row=1)) == set()
    assert kinds(facts(failures_in_a_row=2)) == {AlertKind.SYNC_FAILING}


def test_stale_counts_from_the_last_success_or_from_the_start() -> None:
    assert AlertKind.SYNC_STALE in kinds(facts(last_success=NOW - timedelta(hours=6)))
    assert AlertKind.SYNC_STALE not in kinds(facts(last_success=NOW - timedelta(hours=5)))
    assert AlertKind.SYNC_STALE in kinds(facts(last_success=None))
    never = facts(last_success=None, watched_since=NOW - timedelta(hours=1))
    assert AlertKind.SYNC_STALE not in kinds(never)


def test_a_revoked_consent_is_its_own_alert_not_also_a_stale_sync() -> None:
    assert kinds(facts(last_success=None, xero_status="needs_reconnect")) == {
        AlertKind.XERO_CONSENT
    }
    assert kinds(facts(last_success=None, amazon_problem="refused")) == {AlertKind.AMAZON_CONSENT}


def test_a_parked_organisation_is_told_about_the_day_limit_not_a_stale_sync() -> None:
    parked = facts(last_success=NOW - timedelta(hours=9), parked_until=NOW + timedelta(hours=2))
    assert kinds(parked) == {AlertKind.DAY_LIMIT}


def test_the_xero_grant_warns_ten_days_before_its_sixty_days_lapse() -> None:
    assert kinds(facts(xero_refreshed_at=NOW - timedelta(days=49))) == set()
    warned = conditions(facts(xero_refreshed_at=NOW - timedelta(days=50)))
    assert [c.kind for c in warned] == [AlertKind.XERO_TOKEN_EXPIRING]
    assert "2026-12-15" in warned[0].detail


def test_nothing_about_syncing_before_the_wizard_finishes() -> None:
    assert kinds(facts(setup_done=False, failures_in_a_row=5, last_success=None)) == set()


def test_each_unmapped_payment_method_is_its_own_occurrence() -> None:
    found = conditions(facts(unmapped_methods=("Visa/1", "Amex/2"), held=3))
    keys = {(c.kind, c.key) for c in found}
    assert (AlertKind.PAYMENT_METHOD_UNMAPPED, "Visa/1") in keys
    assert (AlertKind.PAYMENT_METHOD_UNMAPPED, "Amex/2") in keys
    assert (AlertKind.HELD_DIGEST, "2026-12-05") in keys


def test_changes_raise_new_resolve_cleared_and_supersede_yesterdays_digest() -> None:
    active = conditions(facts(held=1, parked_until=NOW + timedelta(hours=1)))
    open_alerts = [
        OpenAlert(1, "held_digest", "2026-12-04"),
        OpenAlert(2, "sync_failing", ""),
        OpenAlert(3, "xero_day_limit", ""),
    ]
    todo = changes(open_alerts, active)
    assert [(c.kind, c.key) for c in todo.raise_] == [(AlertKind.HELD_DIGEST, "2026-12-05")]
    assert todo.resolve == (2,)
    assert todo.supersede == (1,)


def test_a_cleared_digest_is_resolved() -> None:
    todo = changes([OpenAlert(1, "held_digest", "2026-12-05")], [])
    assert (todo.resolve, todo.supersede) == ((1,), ())


def test_recipients_are_checked_and_deduplicated() -> None:
    assert parse_recipients(" a@example.com,\nB@example.com; a@EXAMPLE.com ") == (
        "a@example.com",
        "B@example.com",
    )
    assert parse_recipients("") == ()
    for bad in ("not-an-address", "a@b", "x@example.com>\r\nBcc: y@example.com", "<a@b.com>"):
        with pytest.raises(ConfigInvalid):
            parse_recipients(bad)
    with pytest.raises(ConfigInvalid, match="At most 20"):
        parse_recipients(" ".join(f"p{i}@example.com" for i in range(21)))


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/abxero", "http://127.0.0.1:8080/x", "http://localhost/x"],
)
def test_webhook_urls_accepted(url: str) -> None:
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/abxero",
        "ftp://example.com/x",
        "https://user:pw@example.com/x",
        "https:///nohost",
        "javascript:alert(1)",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.8/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://example.com/" + "x" * 2000,
    ],
)
def test_webhook_urls_refused(url: str) -> None:
    with pytest.raises(ConfigInvalid):
        check_webhook_url(url)


def test_stale_hours_bounds() -> None:
    assert check_stale_hours("") == 6
    assert check_stale_hours("12") == 12
    for bad in ("0", "-1", "abc", "100000"):
        with pytest.raises(ConfigInvalid):
            check_stale_hours(bad)


def test_smtp_urls_default_to_starttls_and_decode_credentials() -> None:
    from abxero.alerts.mail import parse_smtp_url

    plain = parse_smtp_url("smtp://alerts:p%40ss%20word@mail.example.com")
    assert (plain.host, plain.port, plain.starttls, plain.implicit_tls) == (
        "mail.example.com",
        587,
        True,
        False,
    )
    assert (plain.username, plain.password) == ("alerts", "p@ss word")
    relay = parse_smtp_url("smtp://127.0.0.1:25?starttls=0")
    assert (relay.port, relay.starttls, relay.username) == (25, False, "")
    implicit = parse_smtp_url("smtps://u:p@mail.example.com")
    assert (implicit.port, implicit.implicit_tls, implicit.starttls) == (465, True, False)
