"""Pages that tell the truth (issue #21, items 5–7): connecting checks store and currency, the
manage page puts what blocks posting first and never fails on a Xero refusal, held reasons are
current, quarantined records can be decided on, a disconnected organisation offers only
reconnecting, the review counts every document kind, and the mapping form shows every problem
at once."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from abxero.store.models import (
    AmazonConnection,
    Event,
    OutboxDocument,
    SourceTransaction,
    XeroConnection,
)
from tests.web.conftest import Browser, set_up_organisation
from tests.web.web_support import form_fields

US, UK = "Demo Company (US)", "Demo Company (UK)"
CARDS = {"Visa/0071": "account:093", "Mastercard/8830": "account:092"}


def forget_context(browser: Browser, organisation: int) -> None:
    """Pages reuse a Xero read for up to a minute; these tests change Xero in between."""
    app: Any = browser.web.app
    app.state.contexts.forget(organisation)


def patch_xero(browser: Browser, key: str, body: dict[str, Any]) -> None:
    xero = browser.runtime.settings.xero_api_url
    browser.outside.post(f"{xero}/_sim/orgs/{key}", json=body).raise_for_status()


def amazon_records(browser: Browser, business_id: str, count: int = 60) -> list[dict[str, Any]]:
    amazon = browser.runtime.settings.amazon_api_url_na
    listed = browser.outside.get(
        f"{amazon}/_sim/transactions", params={"business_id": business_id, "count": count}
    ).json()
    return list(listed["transactions"] if isinstance(listed, dict) else listed)


def add_records(browser: Browser, business_id: str, records: list[dict[str, Any]]) -> None:
    amazon = browser.runtime.settings.amazon_api_url_na
    answer = browser.outside.post(
        f"{amazon}/_sim/transactions", json={"business_id": business_id, "transactions": records}
    )
    assert answer.status_code == 200, answer.text


def recent(browser: Browser, record: dict[str, Any], ident: str, hours: int) -> dict[str, Any]:
    now = browser.runtime.now()
    return {
        **record,
        "transactionId": ident,
        "feedDate": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "transactionDate": (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def section(page: str, ident: str) -> str:
    found = re.search(rf'<section[^>]*id="{ident}".*?</section>', page, re.S)
    return found.group(0) if found else ""


# -- item 5: connecting -----


def test_a_gbp_business_through_the_us_store_is_refused_before_anything_is_stored(
    browser: Browser,
) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    page = browser.connect_amazon(organisation, "US", "uk-harbour")
    assert page.status_code == 400
    assert "This Amazon Business account does not fit this organisation" in page.text
    assert "buys on amazon.co.uk (United Kingdom)" in page.text
    assert "choose amazon.co.uk" in page.text
    with browser.runtime.sessions() as session:
        assert session.query(AmazonConnection).count() == 0
        assert session.query(SourceTransaction).count() == 0


def test_the_right_store_but_another_base_currency_is_refused(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    page = browser.connect_amazon(organisation, "UK", "uk-harbour")
    assert page.status_code == 400
    assert "pays in GBP, but Demo Company (US) keeps its books in USD" in page.text


def test_the_store_is_preselected_from_the_organisation_and_the_account_named_by_its_business(
    browser: Browser,
) -> None:
    browser.sign_in(["us", "uk"])
    ids = browser.organisation_ids()
    uk_page = browser.web.get(f"/orgs/{ids[UK]}/setup/amazon").text
    assert re.search(r'id="region-UK" checked', uk_page)
    us_page = browser.web.get(f"/orgs/{ids[US]}/setup/amazon").text
    assert re.search(r'id="region-US" checked', us_page)
    assert browser.connect_amazon(ids[US], "US", "us-acme").status_code == 303
    with browser.runtime.sessions() as session:
        names = [row.business_name for row in session.query(AmazonConnection)]
    assert names == ["Acme Robotics Inc."]  # not its first legal entity, "Acme Labs NY Corp."


# -- item 6: the manage page -----


def test_a_xero_400_while_reading_the_organisation_renders_the_page_with_the_cause(
    browser: Browser,
) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    forget_context(browser, organisation)
    xero = browser.runtime.settings.xero_api_url
    browser.outside.post(
        f"{xero}/_sim/faults", json={"server_errors": 20, "server_error_status": 400}
    ).raise_for_status()
    page = browser.web.get(f"/orgs/{organisation}")
    assert page.status_code == 200
    assert 'class="status bad"' in page.text
    assert 'id="problem-xero_unreadable"' in page.text
    assert "Xero could not be read" in page.text
    assert page.text.index("problem-xero_unreadable") < page.text.index('id="health"')
    mapping = browser.web.get(f"/orgs/{organisation}/mapping")
    forget_context(browser, organisation)
    assert mapping.status_code == 502
    assert "What to do:" in mapping.text


def test_an_archived_contact_is_the_first_thing_the_page_says(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    assert 'class="status ok"' in browser.web.get(f"/orgs/{organisation}").text
    with browser.runtime.sessions() as session:
        contact_id = session.get_one(XeroConnection, organisation).contact_id
    patch_xero(browser, "us", {"contacts": {contact_id: {"ContactStatus": "ARCHIVED"}}})
    page = browser.web.get(f"/orgs/{organisation}").text
    assert 'class="status bad"' in page
    assert page.index('id="problem-contact_archived"') < page.index('id="health"')
    assert "Restore" in page


def test_held_reasons_are_planned_again_when_the_lock_date_moves(browser: Browser) -> None:
    browser.sign_in(["us"])
    today = browser.runtime.now().date()
    patch_xero(browser, "us", {"organisation": {"PeriodLockDate": today.isoformat()}})
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    held = section(browser.web.get(f"/orgs/{organisation}").text, "held")
    assert "lock" in held.lower()
    patch_xero(browser, "us", {"organisation": {"PeriodLockDate": date(2000, 1, 1).isoformat()}})
    forget_context(browser, organisation)
    held = section(browser.web.get(f"/orgs/{organisation}").text, "held")
    assert "Ready to post" in held
    assert "lock" not in held.lower()


def test_a_quarantined_record_is_told_plainly_and_can_be_marked_entered_by_hand(
    browser: Browser,
) -> None:
    browser.sign_in(["us"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    record = recent(browser, amazon_records(browser, "us-bluebird", 1)[0], "BROKENAMOUNT1", 2)
    record["amount"] = {"currencyCode": "USD", "amount": "12.3.4"}
    add_records(browser, "us-bluebird", [record])
    browser.post(f"/orgs/{organisation}/sync", page=f"/orgs/{organisation}")
    shown = section(browser.web.get(f"/orgs/{organisation}").text, "quarantine")
    order = record["transactionLineItems"][0]["orderId"]
    assert "Amazon&#39;s amount for it is not a number." in shown
    assert order in shown
    assert f"{record['paymentInstrumentType']} ending {record['paymentInstrumentLast4Digits']}" in (
        shown
    )
    assert record["transactionDate"][:10] in shown
    assert "12.3.4 USD" in shown
    decided = browser.post(
        f"/orgs/{organisation}/quarantine",
        {"transaction_id": "BROKENAMOUNT1", "decision": "entered_by_hand"},
        f"/orgs/{organisation}",
    )
    assert decided.status_code == 303
    with browser.runtime.sessions() as session:
        source = session.query(SourceTransaction).filter_by(transaction_id="BROKENAMOUNT1").one()
        assert source.status == "entered_by_hand"
        events = session.query(Event).filter_by(code="quarantine_entered_by_hand").all()
        assert len(events) == 1
    shown = section(browser.web.get(f"/orgs/{organisation}").text, "quarantine")
    assert "1 set aside by a person" in shown
    assert 'value="entered_by_hand"' not in shown
    # Amazon sending a corrected record later never posts it on top of the hand entry
    record["amount"] = {"currencyCode": "USD", "amount": "12.34"}
    add_records(browser, "us-bluebird", [record])
    browser.post(f"/orgs/{organisation}/sync", page=f"/orgs/{organisation}")
    with browser.runtime.sessions() as session:
        source = session.query(SourceTransaction).filter_by(transaction_id="BROKENAMOUNT1").one()
        assert source.status == "entered_by_hand"
        assert source.needs_review
        assert not session.query(OutboxDocument).filter_by(transaction_id="BROKENAMOUNT1").count()


def test_a_disconnected_organisation_offers_only_reconnecting(browser: Browser) -> None:
    browser.sign_in(["us", "uk"])
    organisation = set_up_organisation(browser, US, "US", "us-bluebird", CARDS)
    browser.post(f"/orgs/{organisation}/disconnect", page=f"/orgs/{organisation}")
    page = browser.web.get(f"/orgs/{organisation}").text
    assert 'id="problem-disconnected"' in page
    assert 'class="status bad"' in page
    for offered in ('id="sync-now"', 'id="start-import"', 'id="edit-mapping"', 'id="disconnect"'):
        assert offered not in page
    assert 'id="reconnect-amazon"' not in page
    assert "Reconnect Xero" in page
    listed = browser.web.get("/orgs").text
    assert f'id="org-{organisation}-disconnected"' in listed  # marked on the organisations list
    today = browser.runtime.now().date().isoformat()
    refused = browser.post(
        f"/orgs/{organisation}/import", {"first": today, "last": today}, f"/orgs/{organisation}"
    )
    assert refused.headers["location"] == f"/orgs/{organisation}"
    assert browser.web.get(f"/orgs/{organisation}/mapping").status_code == 303


# -- the review counts every kind -----


def test_the_review_counts_allocations_and_matches_what_finish_posts(browser: Browser) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()[US]
    assert browser.connect_amazon(organisation, "US", "us-acme").status_code == 303
    charge = next(
        record
        for record in amazon_records(browser, "us-acme", 200)
        if record["paymentInstrumentType"] == "Pay by Invoice"
        and record["transactionType"] == "CHARGE"
    )
    refund = {
        **recent(browser, charge, "PBIREFUND1", 1),
        "transactionType": "REFUND",
        "amount": {**charge["amount"], "amount": f"-{charge['amount']['amount']}"},
    }
    add_records(browser, "us-acme", [recent(browser, charge, "PBICHARGE1", 2), refund])
    today = browser.runtime.now().date()
    page = f"/orgs/{organisation}/setup/import"
    browser.post(page, {"first": (today - timedelta(days=3)).isoformat(), "last": str(today)}, page)
    browser.post(f"{page}/continue", {}, page)
    fields = form_fields(browser.web.get(f"/orgs/{organisation}/setup/mapping").text)
    assert browser.web.post(f"/orgs/{organisation}/setup/mapping", data=fields).status_code == 303
    review = browser.web.get(f"/orgs/{organisation}/setup/review").text
    to_create = int(re.search(r'id="docs-to-create">(\d+)<', review).group(1))  # type: ignore[union-attr]
    assert "credit note allocations to bills" in review
    browser.post(f"/orgs/{organisation}/setup/finish", {}, f"/orgs/{organisation}/setup/review")
    with browser.runtime.sessions() as session:
        posted = session.query(OutboxDocument).filter_by(xero_connection_id=organisation).all()
        assert {document.role for document in posted} >= {"bill", "credit_note", "allocation"}
        assert len(posted) == to_create


# -- item 7: the mapping form -----


def test_every_mapping_problem_is_shown_at_once_next_to_its_field(browser: Browser) -> None:
    browser.sign_in(["uk"])
    organisation = browser.organisation_ids()[UK]
    assert browser.connect_amazon(organisation, "UK", "uk-harbour").status_code == 303
    today = browser.runtime.now().date()
    page = f"/orgs/{organisation}/setup/import"
    browser.post(page, {"first": (today - timedelta(days=5)).isoformat(), "last": str(today)}, page)
    browser.post(f"{page}/continue", {}, page)
    form = browser.web.get(f"/orgs/{organisation}/setup/mapping").text
    fields = form_fields(form)
    cards = sorted(
        key for key in fields if key.startswith("payment_methods[") and "Invoice" not in key
    )
    assert cards
    assert all(fields[key] == "" for key in cards)  # no brand or digits named: none mapped
    assert "Bill paid from an account" in form
    assert "Spend money from an account" in form
    fields["expenses.default_account"] = ""
    fields[cards[0]] = "account:094"  # the EUR account for a GBP card
    fields["pay_by_invoice.terms_days"] = "1000"
    answer = browser.web.post(f"/orgs/{organisation}/setup/mapping", data=fields)
    assert answer.status_code == 400
    summary = re.search(r'id="mapping-errors".*?</div>', answer.text, re.S)
    assert summary is not None
    links = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert {"f-expenses-default-account", "f-pay-by-invoice-terms-days"} <= set(links)
    assert len(links) == 3
    for target in links:  # each summary line leads to its field
        assert f'id="{target}"' in answer.text
    assert "holds EUR; choose an account in GBP" in answer.text
    assert "Choose the default expense account" in answer.text
    assert "Enter a number of days from 0 to 365." in answer.text
    assert "Value error" not in answer.text
    assert "String should have" not in answer.text


def test_a_card_remapped_to_an_account_in_another_currency_is_refused_on_the_manage_page(
    browser: Browser,
) -> None:
    browser.sign_in(["uk"])
    organisation = set_up_organisation(
        browser, UK, "UK", "uk-thistle", {"Visa/6604": "account:092"}
    )
    page = f"/orgs/{organisation}"
    fields = {k: v for k, v in form_fields(browser.web.get(page).text).items() if "[" in k}
    fields["payment_methods['Visa/6604']"] = "spend:094"  # Spend Money from the EUR account
    answer = browser.post(f"{page}/payment-methods", fields, page)
    assert answer.status_code == 400
    summary = re.search(r'id="payment-errors".*?</div>', answer.text, re.S)
    assert summary is not None
    assert "Visa ending 6604 pays in GBP, but 094 Euro Account holds EUR" in summary.group(0)
    assert 'href="#f-payment-methods-Visa-6604"' in summary.group(0)
    assert 'id="f-payment-methods-Visa-6604"' in answer.text
