"""Planning's context from Xero's JSON items, through the production path: the Xero client's
models parse them (as `XeroAccounting.org_context` does) and `xero_books.org_context` turns
them into the domain's context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from abxero.domain.context import OrgContext
from abxero.sync.xero_books import org_context
from abxero.xero.models import (
    Account,
    Currency,
    Organisation,
    OrganisationFacts,
    TaxRate,
    TrackingCategory,
)

Items = Sequence[Mapping[str, Any]]


def context_from_json(
    organisation: Mapping[str, Any],
    accounts: Items,
    tax_rates: Items,
    currencies: Items,
    tracking: Items,
    contact_id: str,
) -> OrgContext:
    facts = OrganisationFacts(
        organisation=Organisation.model_validate(organisation),
        accounts=tuple(Account.model_validate(item) for item in accounts),
        tax_rates=tuple(TaxRate.model_validate(item) for item in tax_rates),
        currencies=tuple(Currency.model_validate(item) for item in currencies),
        tracking_categories=tuple(TrackingCategory.model_validate(item) for item in tracking),
    )
    return org_context(facts, contact_id)
