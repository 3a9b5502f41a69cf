"""The mapping page's tracking-rule editor and seller choices over HTTP: shown with what the
data holds, validated next to their fields, saved, shown again, and what Finish posts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abxero.domain.mapping import RECLAIM, TrackingSource, seller_key
from abxero.services import setup
from tests.web.conftest import Browser, sim_invoices, xero_state
from tests.web.web_support import form_fields

UK = "Demo Company (UK)"
NON_GB_SELLER = "Mizuta Trading Co., Ltd"


@pytest.fixture
def uk_mapping_page(browser: Browser) -> str:
    """The UK organisation paired with Harbour Analytics, 20 days imported, at the mapping step."""
    browser.sign_in(["uk"])
    organisation = browser.organisation_ids()[UK]
    assert browser.connect_amazon(organisation, "UK", "uk-harbour").status_code == 303
    page = f"/orgs/{organisation}/setup/import"
    today = browser.runtime.now().date()
    browser.post(
        page, {"first": (today - timedelta(days=20)).isoformat(), "last": today.isoformat()}, page
    )
    browser.post(f"{page}/continue", {}, page)
    return f"/orgs/{organisation}/setup/mapping"


def _override(name: str) -> str:
    return f"sellers.tax_overrides['{seller_key(name)}']"


def test_the_page_lists_sellers_with_their_flags_and_the_tracking_categories(
    browser: Browser, uk_mapping_page: str
) -> None:
    shown = browser.web.get(uk_mapping_page).text
    fields = form_fields(shown)
    assert 'id="tracking-rules"' in shown
    assert '<option value="Department">Department</option>' in shown
    assert fields["tracking[0].category"] == ""
    assert fields["sellers.contact"] == "one"
    assert fields["sellers.flagged_tax_type"] == ""
    assert 'id="sellers-table"' in shown
    assert NON_GB_SELLER in shown
    assert "looks non-GB" in shown
    assert fields[_override(NON_GB_SELLER)] == ""
    assert '<option value="NONE">' in shown.split('name="sellers.flagged_tax_type"')[1]
    flagged_options = shown.split('name="sellers.flagged_tax_type"')[1].split("</select>")[0]
    assert 'value="INPUT2"' not in flagged_options  # only 0 % rates are offered


def test_a_tracking_rule_from_business_order_info_needs_its_field_name(
    browser: Browser, uk_mapping_page: str
) -> None:
    fields = form_fields(browser.web.get(uk_mapping_page).text)
    fields["tracking[0].category"] = "Department"
    fields["tracking[0].source"] = TrackingSource.BUSINESS_ORDER_INFO.value
    answer = browser.web.post(uk_mapping_page, data=fields)
    assert answer.status_code == 400
    assert 'id="f-tracking-0-label-error"' in answer.text
    assert "e.g. Cost centre" in answer.text


def test_a_tracking_category_twice_or_a_seller_rate_above_zero_is_refused(
    browser: Browser, uk_mapping_page: str
) -> None:
    fields = form_fields(browser.web.get(uk_mapping_page).text)
    fields["tracking[0].category"] = fields["tracking[1].category"] = "Region"
    fields["tracking[0].source"] = fields["tracking[1].source"] = "legal_entity"
    answer = browser.web.post(uk_mapping_page, data=fields)
    assert answer.status_code == 400
    assert "one rule only" in answer.text
    fields["tracking[1].category"] = ""
    fields["sellers.flagged_tax_type"] = "INPUT2"  # not offered; a hand-made request
    answer = browser.web.post(uk_mapping_page, data=fields)
    assert answer.status_code == 400
    assert 'id="f-sellers-flagged-tax-type-error"' in answer.text
    assert "choose a 0 % rate" in answer.text


def test_saved_choices_show_again_and_finish_posts_them(
    browser: Browser, uk_mapping_page: str
) -> None:
    fields = form_fields(browser.web.get(uk_mapping_page).text)
    fields.update(
        {
            "tracking[0].category": "Department",
            "tracking[0].source": "business_order_info",
            "tracking[0].label": "Cost centre",
            "tracking[0].default_option": "Operations",
            "tracking[1].category": "Region",
            "tracking[1].source": "legal_entity",
            "tracking[1].default_option": "London",
            "tracking[1].options": "Harbour Analytics Ltd = Manchester\n",
            "sellers.contact": "per_seller",
            "sellers.flagged_tax_type": "NONE",
            _override("Viking Direct Ltd"): "EXEMPTINPUT",
            _override(NON_GB_SELLER): RECLAIM,
        }
    )
    for key in [k for k in fields if k.startswith("payment_methods[")]:
        fields[key] = fields[key] or "account:090"
    answer = browser.web.post(uk_mapping_page, data=fields)
    assert answer.status_code == 303, answer.text
    organisation = int(uk_mapping_page.split("/")[2])
    saved = setup.saved_mapping(browser.runtime.sessions, organisation)
    assert saved is not None
    assert [(r.category, r.source.value, r.default_option) for r in saved.tracking] == [
        ("Department", "business_order_info", "Operations"),
        ("Region", "legal_entity", "London"),
    ]
    assert saved.tracking[1].options == {"Harbour Analytics Ltd": "Manchester"}
    assert saved.sellers.contact_per_seller
    assert saved.sellers.flagged_tax_type == "NONE"
    assert saved.sellers.override_for(NON_GB_SELLER) == RECLAIM
    shown = form_fields(browser.web.get(uk_mapping_page).text)
    assert shown["tracking[0].label"] == "Cost centre"
    assert shown["sellers.contact"] == "per_seller"
    assert shown[_override("Viking Direct Ltd")] == "EXEMPTINPUT"

    review = f"/orgs/{organisation}/setup/review"
    summary = browser.web.get(review).text
    assert 'id="review-contact">One per seller<' in summary
    assert "VAT not reclaimed: No VAT" in summary
    assert "2 sellers set by hand" in summary
    assert "Business Order Info “Cost centre”, else “Operations”" in summary
    browser.post(f"/orgs/{organisation}/setup/finish", {}, review)
    bills = sim_invoices(browser, "uk")
    assert bills
    organisation_state = next(
        org
        for org in xero_state(browser)["organisations"]
        if org["key"] == "uk"  # type: ignore[union-attr]
    )
    names = {c["ContactID"]: c["Name"] for c in organisation_state["contacts"]}
    billed = {names[bill["Contact"]["ContactID"]] for bill in bills}  # type: ignore[index]
    assert {"Viking Direct Ltd", NON_GB_SELLER} <= billed
    for bill in bills:
        lines = bill["LineItems"]
        assert all(line.get("Tracking") for line in lines)  # type: ignore[union-attr]
        seller = names[bill["Contact"]["ContactID"]]  # type: ignore[index]
        regions = {p["Option"] for line in lines for p in line["Tracking"] if p["Name"] == "Region"}  # type: ignore[index,union-attr]
        assert regions <= {"Manchester", "London"}
        if seller == "Viking Direct Ltd":
            assert {line["TaxType"] for line in lines} == {"EXEMPTINPUT"}  # type: ignore[index,union-attr]


def test_tracking_options_are_checked_line_by_line_and_against_xero(
    browser: Browser, uk_mapping_page: str
) -> None:
    fields = form_fields(browser.web.get(uk_mapping_page).text)
    fields["tracking[0].category"] = "Region"
    fields["tracking[0].source"] = "legal_entity"
    fields["tracking[0].options"] = "Harbour Analytics Ltd London"
    answer = browser.web.post(uk_mapping_page, data=fields)
    assert answer.status_code == 400
    assert 'id="f-tracking-0-options-error"' in answer.text
    assert "value = option" in answer.text
    fields["tracking[0].category"] = ""  # the rule in the second row is the first rule
    fields["tracking[1].category"] = "Region"
    fields["tracking[1].source"] = "legal_entity"
    fields["tracking[1].options"] = "Harbour Analytics Scotland Ltd = Edinburgh"  # archived
    answer = browser.web.post(uk_mapping_page, data=fields)
    assert answer.status_code == 400
    assert 'id="f-tracking-1-category-error"' in answer.text
    assert "no active option &#39;Edinburgh&#39;" in answer.text


def test_a_us_organisation_chooses_contacts_per_seller_without_vat_choices(
    browser: Browser,
) -> None:
    browser.sign_in(["us"])
    organisation = browser.organisation_ids()["Demo Company (US)"]
    assert browser.connect_amazon(organisation, "US", "us-acme").status_code == 303
    page = f"/orgs/{organisation}/setup/import"
    browser.post(f"{page}/continue", {}, page)
    mapping_page = f"/orgs/{organisation}/setup/mapping"
    shown = browser.web.get(mapping_page).text
    assert 'name="sellers.contact"' in shown
    assert "sellers.flagged_tax_type" not in shown
    fields = form_fields(shown)
    fields["sellers.contact"] = "per_seller"
    fields["sellers.tax_overrides['acme widgets llc']"] = "NONE"  # ignored outside the UK
    assert browser.web.post(mapping_page, data=fields).status_code == 303
    saved = setup.saved_mapping(browser.runtime.sessions, organisation)
    assert saved is not None
    assert saved.sellers.contact_per_seller
    assert saved.sellers.flagged_tax_type is None
    assert saved.sellers.tax_overrides == {}
