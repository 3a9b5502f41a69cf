"""The organisation's facts have one shape from Xero's client to planning: parsed once into
the client's models, kept in ``context_reads`` in Xero's field names and recalled by the same
parse, and turned into planning's context by ``xero_books.org_context``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from abxero.store.db import transaction
from abxero.store.models import ContextRead
from abxero.sync import context_reads
from abxero.sync.xero_books import org_context
from abxero.xero.models import OrganisationFacts
from tests.context_json import context_from_json
from tests.domain.domain_fixtures import TRACKING, UK_ACCOUNTS, UK_CONTACT, UK_TAX_RATES
from tests.sync.conftest import Ledger

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
ORGANISATION: dict[str, Any] = {
    "OrganisationID": "org-1",
    "Name": "Thames Office Ltd",
    "BaseCurrency": "GBP",
    "CountryCode": "GB",
    "Timezone": "GMTSTANDARDTIME",
    "ShortCode": "!tha01",
    "PeriodLockDate": "/Date(1774915200000+0000)/",
}
CURRENCIES = [{"Code": "GBP"}, {"Code": "EUR"}]


def _facts(**organisation: Any) -> OrganisationFacts:
    return OrganisationFacts.model_validate(
        {
            "organisation": {**ORGANISATION, **organisation},
            "accounts": UK_ACCOUNTS,
            "tax_rates": UK_TAX_RATES,
            "currencies": CURRENCIES,
            "tracking_categories": TRACKING,
        }
    )


def test_the_typed_facts_give_the_context_the_json_reading_gives() -> None:
    from_json = context_from_json(
        ORGANISATION, UK_ACCOUNTS, UK_TAX_RATES, CURRENCIES, TRACKING, UK_CONTACT
    )
    facts = _facts()
    dumped = facts.model_dump(by_alias=True, mode="json")  # what the run used to pass around
    from_dump = context_from_json(
        dumped["organisation"],
        dumped["accounts"],
        dumped["tax_rates"],
        dumped["currencies"],
        dumped["tracking_categories"],
        UK_CONTACT,
    )
    context = org_context(facts, UK_CONTACT)
    assert context == from_json == from_dump
    assert context.period_lock_date == date(2026, 3, 31)
    assert context.enabled_currencies == {"GBP", "EUR"}
    assert context.tax_rate("INPUT2") is not None


def test_an_unknown_time_zone_falls_back_to_utc_with_a_note() -> None:
    context = org_context(_facts(Timezone="MARSSTANDARDTIME"), UK_CONTACT)
    assert context.timezone == "UTC"
    assert len(context.notes) == 1


def test_a_kept_read_is_recalled_as_the_same_facts(memory_ledger: Ledger) -> None:
    facts = _facts()
    with transaction(memory_ledger.factory) as session:
        context_reads.remember(session, memory_ledger.connection_id, facts, NOW)
    with memory_ledger.factory() as session:
        recalled = context_reads.recall(session, memory_ledger.connection_id, NOW)
        stale = context_reads.recall(
            session, memory_ledger.connection_id, NOW + context_reads.CONTEXT_MAX_AGE
        )
        early = context_reads.recall(
            session, memory_ledger.connection_id, NOW - timedelta(seconds=1)
        )
    assert recalled == facts
    assert (stale, early) == (None, None)


def test_a_read_kept_in_an_older_shape_is_read_again(memory_ledger: Ledger) -> None:
    """Reads kept before the facts were stored in the client's shape (a ``tracking`` list)."""
    with transaction(memory_ledger.factory) as session:
        session.add(
            ContextRead(
                xero_connection_id=memory_ledger.connection_id,
                read_at=NOW,
                body='{"organisation": {}, "accounts": [], "tax_rates": [], "currencies": [], '
                '"tracking": []}',
            )
        )
    with memory_ledger.factory() as session:
        assert context_reads.recall(session, memory_ledger.connection_id, NOW) is None
