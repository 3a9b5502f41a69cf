"""The organisation context is read once for back-to-back runs and again when it may be stale.

Xero has no 304 for the context: ``If-Modified-Since`` is declared only on list endpoints
(``GET /Accounts`` and ``GET /Contacts`` among them, not ``/Organisation``, ``/TaxRates``,
``/Currencies``, ``/TrackingCategories`` or ``/Contacts/{ContactID}``; computed from
``../shared/specs/xero/xero_accounting.yaml``), and on those it filters the list rather than
answering "not modified" (docs/xero-api.md §5, "If-Modified-Since header … for incremental
sync"). So a conditional request costs a call all the same; abxero keeps the last read in the
database and reads again after ``CONTEXT_MAX_AGE`` or when Xero refuses a document.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from abxero.store.models import ContextRead, Event, XeroConnection
from abxero.sync.mappings import latest_mapping
from tests.e2e.harness import Harness, exactly_once_report
from tests.e2e.test_failed_runs import import_and_finish

CONTEXT_READS = ("Organisation", "Accounts", "TaxRates", "Currencies", "TrackingCategories")


def requests(harness: Harness) -> Counter[str]:
    return Counter(harness.xero_admin("GET", "/_sim/stats")["requests"])


def context_reads_in(counts: Counter[str]) -> int:
    return sum(n for key, n in counts.items() if key.startswith("GET") and _is_context(key))


def _is_context(endpoint: str) -> bool:
    return any(endpoint.rstrip("/").endswith(f"/{name}") for name in CONTEXT_READS)


def stored_read(harness: Harness, connection_id: int) -> ContextRead | None:
    with harness.runtime.sessions() as session:
        return session.get(ContextRead, connection_id)


def expense_account(harness: Harness, connection_id: int) -> str:
    with harness.runtime.sessions() as session:
        found = latest_mapping(session, connection_id)
    assert found is not None
    return found[1].expenses.default_account


def events(harness: Harness, connection_id: int, code: str) -> list[Event]:
    with harness.runtime.sessions() as session:
        return list(
            session.scalars(
                select(Event).where(Event.xero_connection_id == connection_id, Event.code == code)
            )
        )


def test_back_to_back_runs_reuse_the_read_made_at_set_up(harness: Harness) -> None:
    connection_id = import_and_finish(harness)
    assert stored_read(harness, connection_id) is not None
    before = requests(harness)
    first = harness.runtime.engine_for(connection_id).post_pending()
    second = harness.runtime.engine_for(connection_id).sync()
    spent = requests(harness) - before
    assert first.error == second.error == ""
    assert first.documents_posted > 0
    assert context_reads_in(spent) == 0, dict(spent)


def test_a_stored_read_older_than_the_limit_is_read_again(harness: Harness) -> None:
    connection_id = import_and_finish(harness)
    before = requests(harness)
    report = harness.runtime.engine_for(connection_id, context_max_age=timedelta(0)).sync()
    spent = requests(harness) - before
    assert report.error == ""
    assert context_reads_in(spent) == len(CONTEXT_READS), dict(spent)


def test_an_account_archived_after_the_read_holds_its_purchases_in_the_same_run(
    harness: Harness,
) -> None:
    connection_id = import_and_finish(harness)
    code = expense_account(harness, connection_id)
    tenant = harness.tenant_id("UK")
    harness.xero_admin("POST", f"/_sim/orgs/{tenant}", {"accounts": {code: {"Status": "ARCHIVED"}}})
    before = requests(harness)
    report = harness.runtime.engine_for(connection_id).post_pending()
    spent = requests(harness) - before
    assert context_reads_in(spent) == len(CONTEXT_READS), dict(spent)  # Xero's refusal → read
    assert report.held > 0
    assert report.documents_failed == 0
    assert report.documents_posted == 0
    held = [s for s in harness.sources("UK") if s.status == "held"]
    assert {s.reason_code for s in held} == {"account_unusable"}
    assert all(s.remedy for s in held)
    fresh = stored_read(harness, connection_id)
    assert fresh is not None
    assert '"ARCHIVED"' in fresh.body

    harness.xero_admin("POST", f"/_sim/orgs/{tenant}", {"accounts": {code: {"Status": "ACTIVE"}}})
    again = harness.runtime.engine_for(connection_id).post_pending()
    assert again.documents_posted > 0  # the holds were checked against a fresh read
    assert not [s for s in harness.sources("UK") if s.status in {"held", "failed"}]
    result = exactly_once_report(harness, "UK")
    assert result["xero_documents"] == result["ledger_documents"] > 0
    assert result["unknown_in_xero"] == []


def test_an_archived_contact_is_noticed_before_posting_even_with_a_stored_read(
    harness: Harness,
) -> None:
    connection_id = import_and_finish(harness)
    harness.runtime.engine_for(connection_id).post_pending()
    with harness.runtime.sessions() as session:
        contact_id = session.get_one(XeroConnection, connection_id).contact_id
    harness.xero_admin(
        "POST",
        f"/_sim/orgs/{harness.tenant_id('UK')}",
        {"contacts": {contact_id: {"ContactStatus": "ARCHIVED"}}},
    )
    harness.runtime.engine_for(connection_id).sync()
    assert stored_read(harness, connection_id) is not None
    [archived] = events(harness, connection_id, "contact_archived")
    assert "archived" in archived.message
    assert archived.remedy
