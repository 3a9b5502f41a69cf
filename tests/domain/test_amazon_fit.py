"""Connecting checks the Amazon account against the store and the organisation, and names it
by the business (issue #21, item 5). Field sources are in ``abxero.domain.amazon_fit``."""

from __future__ import annotations

from typing import Any

from abxero.domain.amazon_fit import (
    Mismatch,
    account_mismatch,
    business_name,
    feed_facts,
    store_for,
)

US_MARKET, UK_MARKET = "ATVPDKIKX0DER", "A1F83G8C2ARO7P"
MARKETS = {US_MARKET: "US", UK_MARKET: "UK"}


def record(
    market: str, currency: str, entity: str, payer: str = "BIZ", **extra: Any
) -> dict[str, Any]:
    return {
        "marketplaceId": market,
        "amount": {"currencyCode": currency, "amount": "1.00"},
        "legalEntityName": entity,
        "buyer": {"id": "P1", "name": "Dana Whitfield"},
        "payer": {
            "id": payer,
            "name": "Acme Robotics Inc." if payer == "BIZ" else "Dana Whitfield",
        },
        **extra,
    }


def test_the_store_follows_the_organisation_country_and_base_currency() -> None:
    assert store_for("GB", "GBP") == "UK"
    assert store_for("", "GBP") == "UK"
    assert store_for("US", "USD") == "US"
    assert store_for("NZ", "NZD") == "US"


def test_the_account_is_named_by_the_paying_business_not_its_first_legal_entity() -> None:
    records = [
        record(US_MARKET, "USD", "Acme Labs NY Corp."),
        record(US_MARKET, "USD", "Acme Robotics Texas LLC"),
    ]
    assert business_name(records) == "Acme Robotics Inc."


def test_without_a_business_payer_the_main_legal_entity_names_it() -> None:
    """Payer = buyer (personal payment methods, as in Amazon's sandbox sample)."""
    records = [
        record(US_MARKET, "USD", "Acme Labs NY Corp.", payer="P1"),
        record(US_MARKET, "USD", "Acme Robotics Inc.", payer="P1"),
        record(US_MARKET, "USD", "Acme Robotics Inc.", payer="P1"),
    ]
    assert business_name(records) == "Acme Robotics Inc."
    assert business_name([]) == ""


def test_a_gbp_business_through_the_us_store_is_refused_with_the_store_to_choose() -> None:
    facts = feed_facts([record(UK_MARKET, "GBP", "Harbour Analytics Ltd")])
    mismatch = account_mismatch(
        facts,
        region="US",
        marketplace_id=US_MARKET,
        marketplace_regions=MARKETS,
        organisation="Demo Company (US)",
        base_currency="USD",
    )
    assert mismatch == Mismatch(
        '"Acme Robotics Inc." buys on amazon.co.uk (United Kingdom), but you chose '
        "amazon.com (United States).",
        "Connect again and choose amazon.co.uk (United Kingdom).",
    )


def test_the_right_store_but_another_currency_is_refused_with_the_remedy() -> None:
    facts = feed_facts([record(UK_MARKET, "GBP", "Harbour Analytics Ltd")])
    mismatch = account_mismatch(
        facts,
        region="UK",
        marketplace_id=UK_MARKET,
        marketplace_regions=MARKETS,
        organisation="Demo Company (US)",
        base_currency="USD",
    )
    assert mismatch is not None
    assert "pays in GBP, but Demo Company (US) keeps its books in USD" in mismatch.message
    assert "base currency is GBP" in mismatch.remedy


def test_a_fitting_account_and_an_empty_window_pass() -> None:
    fits = feed_facts([record(US_MARKET, "usd", "Acme Robotics Inc.")])
    arguments: dict[str, Any] = {
        "region": "US",
        "marketplace_id": US_MARKET,
        "marketplace_regions": MARKETS,
        "organisation": "Demo Company (US)",
        "base_currency": "USD",
    }
    assert account_mismatch(fits, **arguments) is None
    assert account_mismatch(feed_facts([]), **arguments) is None
