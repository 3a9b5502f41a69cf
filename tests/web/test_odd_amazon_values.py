"""Oversized or odd values from Amazon never break a page: long payment-method names and huge
amounts render (shortened for display), and the raw record is kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from abxero.store.models import SourceTransaction
from abxero.web.pages import clip, money
from tests.web.conftest import Browser, set_up_organisation

US = "Demo Company (US)"
LONG_NAME = "Corporate Card " + "X" * 185


def add_record(browser: Browser, **changes: object) -> str:
    amazon = browser.runtime.settings.amazon_api_url_na
    listed = browser.outside.get(
        f"{amazon}/_sim/transactions", params={"business_id": "us-bluebird", "count": 1}
    ).json()
    record = dict(listed["transactions"][0] if isinstance(listed, dict) else listed[0])
    now = browser.runtime.now()
    record.update(
        feedDate=(now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        transactionDate=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        **changes,
    )
    answer = browser.outside.post(
        f"{amazon}/_sim/transactions", json={"business_id": "us-bluebird", "transactions": [record]}
    )
    assert answer.status_code == 200, answer.text
    return str(record["transactionId"])


def test_money_renders_any_amount() -> None:
    assert money(Decimal("1234.5"), "USD") == "1,234.50 USD"
    huge = money(Decimal("1" * 41), "USD")
    assert huge.startswith("11,111")
    assert huge.endswith("USD")
    assert money(Decimal("NaN")) == "NaN"


def test_clip_shortens_for_display_only() -> None:
    assert clip("short") == "short"
    assert len(clip("y" * 500)) <= 81
    assert clip("y" * 500).endswith("…")


@pytest.mark.parametrize(
    "changes",
    [
        {"transactionId": "LONGCARD1", "paymentInstrumentType": LONG_NAME},
        {"transactionId": "ODDCARD1", "paymentInstrumentType": "Visa <b>&\u202e"},
        {"transactionId": "HUGE1", "amount": {"amount": "1" * 41, "currencyCode": "USD"}},
    ],
)
def test_pages_render_with_odd_amazon_values(browser: Browser, changes: dict[str, object]) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(
        browser, US, "US", "us-bluebird", {"Visa/0071": "account:093"}
    )
    transaction = add_record(browser, **changes)
    sync = f"/orgs/{organisation}/sync"
    assert browser.post(sync, {}, f"/orgs/{organisation}").status_code == 303
    for path in (f"/orgs/{organisation}", f"/orgs/{organisation}/mapping"):
        page = browser.web.get(path)
        assert page.status_code == 200, path
        assert "<b>&" not in page.text
    with browser.runtime.sessions() as session:
        stored = session.query(SourceTransaction).filter_by(transaction_id=transaction).one()
        assert transaction in stored.raw  # the raw record is kept whatever its values
