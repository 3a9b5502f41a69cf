"""The organisation context built from Xero JSON, and the money helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from abxero.domain.money import exact_unit_price, round_money, tax_on
from abxero.xero.wire import parse_xero_date
from tests.context_json import context_from_json
from tests.domain.domain_fixtures import UK_ACCOUNTS, UK_TAX_RATES, uk_context, us_context


def test_context_from_xero_json() -> None:
    context = context_from_json(
        organisation={
            "OrganisationID": "org-1",
            "Name": "Thames Office Ltd",
            "BaseCurrency": "GBP",
            "CountryCode": "GB",
            "Timezone": "GMTSTANDARDTIME",
            "PeriodLockDate": "/Date(1543536000000+0000)/",
            "EndOfYearLockDate": "2018-03-31T00:00:00",
            "ShortCode": "!abc",
        },
        accounts=UK_ACCOUNTS,
        tax_rates=UK_TAX_RATES,
        currencies=[{"Code": "EUR"}],
        tracking=[],
        contact_id="c-1",
    )
    assert context.timezone == "Europe/London"
    assert context.enabled_currencies == {"GBP", "EUR"}
    assert context.period_lock_date == date(2018, 11, 30)
    assert context.lock_date == date(2018, 11, 30)
    assert context.is_locked(date(2018, 11, 30))
    assert not context.is_locked(date(2018, 12, 1))
    card = context.account("091")
    assert card is not None
    assert card.is_bank
    assert card.bank_account_type == "CREDITCARD"
    assert context.account("acc-091") == card
    output = context.tax_rate("OUTPUT2")
    assert output is not None
    assert output.is_sales_side
    assert context.is_uk
    assert context.short_code == "!abc"


def test_local_date_follows_the_organisation_timezone() -> None:
    late_evening_utc = datetime(2026, 4, 1, 23, 30, tzinfo=UTC)
    assert uk_context().local_date(late_evening_utc) == date(2026, 4, 2)
    early_morning_utc = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert us_context().local_date(early_morning_utc) == date(2026, 3, 1)


def test_xero_dates() -> None:
    assert parse_xero_date(None) is None
    assert parse_xero_date("2026-01-31") == date(2026, 1, 31)
    assert parse_xero_date("/Date(1543536000000+0000)/") == date(2018, 11, 30)
    assert parse_xero_date("soon") is None  # the client's models read an unreadable date as none


def test_rounding_is_half_up_to_the_cent() -> None:
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")
    assert tax_on(Decimal("3.99"), Decimal("0.20")) == Decimal("0.80")


@pytest.mark.parametrize(
    ("amount", "quantity", "price"),
    [
        ("24.98", 2, "12.49"),
        ("9.9999", 3, "3.3333"),
        ("10.00", 3, None),
        ("0.00", 4, "0.00"),
        ("5.00", 0, None),
    ],
)
def test_exact_unit_price(amount: str, quantity: int, price: str | None) -> None:
    found = exact_unit_price(Decimal(amount), quantity)
    assert (None if found is None else str(found)) == price
