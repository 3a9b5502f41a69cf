"""Does an Amazon Business account fit the store chosen and the Xero organisation? And what is
it called?

Pure: the caller reads a recent feed window and the organisation, and passes in what they say.

Field sources (Reconciliation API 2021-01-08, ``../shared/specs/amazon-business/
reconciliation-2021-01-08.json``, definition ``Transaction``):

* ``marketplaceId`` — "The identifier of the marketplace where the item was bought": the store
  (ATVPDKIKX0DER is amazon.com, A1F83G8C2ARO7P amazon.co.uk; see the marketplace table in
  ``../shared/docs/amazon-business-api.md`` §1.2);
* ``amount.currencyCode`` — ISO 4217 code of the amount (definition ``Money``);
* ``payer`` — "The customer account that owns the payment instrument with which the order was
  paid", a ``Customer`` with ``id`` and ``name``. A business's shared payment methods belong to
  the business account, so a payer who is nobody's ``buyer`` is the business itself and its
  ``name`` is the business name;
* ``legalEntityName`` — "The name of the Business Legal Entity on behalf of which the order was
  placed": the fallback when every payer is also a buyer (personal payment methods, as in the
  sandbox sample, where payer and buyer are the same person).

No model carries a separate "business name" field (``PhysicalAddress.companyName`` exists only
on Japanese invoice details).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STORE_NAMES = {"US": "amazon.com (United States)", "UK": "amazon.co.uk (United Kingdom)"}
UK_COUNTRIES = frozenset({"GB", "UK"})


def store_for(country_code: str, base_currency: str) -> str:
    """The store an organisation most likely buys from: UK for GB or GBP books, else US."""
    if country_code.upper() in UK_COUNTRIES or base_currency.upper() == "GBP":
        return "UK"
    return "US"


@dataclass(frozen=True)
class Mismatch:
    """Why the account does not fit, and what to do; both in plain words for the page."""

    message: str
    remedy: str


@dataclass(frozen=True)
class FeedFacts:
    """What a recent feed window says about the account."""

    marketplaces: frozenset[str]
    currencies: frozenset[str]
    name: str

    @property
    def empty(self) -> bool:
        return not self.marketplaces and not self.currencies


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _customer(record: Mapping[str, Any], role: str) -> tuple[str, str]:
    customer = record.get(role)
    if not isinstance(customer, Mapping):
        return "", ""
    return _text(customer.get("id")), _text(customer.get("name"))


def business_name(records: Iterable[Mapping[str, Any]]) -> str:
    """The business's own name: the paying business account, else the main legal entity.

    The main legal entity is the one named on most records (ties: alphabetical), never simply
    the first one listed.
    """
    rows = list(records)
    buyers = {_customer(record, "buyer")[0] for record in rows} - {""}
    accounts: Counter[str] = Counter()
    for record in rows:
        ident, name = _customer(record, "payer")
        if ident and name and ident not in buyers:
            accounts[name] += 1
    if accounts:
        return _most_common(accounts)
    entities = Counter(_text(record.get("legalEntityName")) for record in rows)
    entities.pop("", None)
    return _most_common(entities) if entities else ""


def _most_common(counts: Counter[str]) -> str:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


def feed_facts(records: Iterable[Mapping[str, Any]]) -> FeedFacts:
    rows = list(records)
    marketplaces = {_text(record.get("marketplaceId")) for record in rows} - {""}
    currencies: set[str] = set()
    for record in rows:
        amount = record.get("amount")
        if isinstance(amount, Mapping):
            code = _text(amount.get("currencyCode")).upper()
            if code:
                currencies.add(code)
    return FeedFacts(frozenset(marketplaces), frozenset(currencies), business_name(rows))


def account_mismatch(
    facts: FeedFacts,
    *,
    region: str,
    marketplace_id: str,
    marketplace_regions: Mapping[str, str],
    organisation: str,
    base_currency: str,
) -> Mismatch | None:
    """Why this account should not be connected here, or ``None`` when it fits.

    A window without records proves nothing either way, so it fits.
    """
    named = f'"{facts.name}"' if facts.name else "This Amazon Business account"
    other = sorted(facts.marketplaces - {marketplace_id})
    if other:
        where = sorted({marketplace_regions.get(market, "") for market in other} - {""})
        stores = " and ".join(STORE_NAMES[key] for key in where) or "another Amazon store"
        better = where[0] if len(where) == 1 else ""
        return Mismatch(
            f"{named} buys on {stores}, but you chose {STORE_NAMES.get(region, region)}.",
            f"Connect again and choose {STORE_NAMES[better]}."
            if better
            else "Connect again and choose the store this account buys on.",
        )
    foreign = sorted(facts.currencies - {base_currency.upper()})
    if foreign and base_currency:
        return Mismatch(
            f"{named} pays in {', '.join(foreign)}, but {organisation or 'this organisation'} "
            f"keeps its books in {base_currency.upper()}.",
            f"Connect this Amazon account to the Xero organisation whose base currency is "
            f"{foreign[0]}, or sign in to Amazon with the account that buys in "
            f"{base_currency.upper()}.",
        )
    return None
