"""Xero's error texts lead to the remedy that fits them."""

from __future__ import annotations

from abxero.sync.remedies import remedy_for


def test_a_refused_bank_tax_override_is_not_blamed_on_the_mapping() -> None:
    """Xero's wording from xero-node #768; the mapping is not what is wrong."""
    message = "Tax amount 52.23 is incorrect for INPUT2 tax type, should be 52.28"
    remedy = remedy_for([message])
    assert remedy.startswith("Retry")
    assert "mapping page" not in remedy


def test_a_tax_type_not_allowed_still_points_at_the_mapping() -> None:
    remedy = remedy_for(["The TaxType code INPUT2 cannot be used with account code 800."])
    assert "mapping page" in remedy
