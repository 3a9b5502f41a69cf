"""The mapping model: storage round trip, its own validation, and checks against organisations."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from abxero.domain.defaults import NoExpenseAccount, default_mapping
from abxero.domain.mapping import (
    MAPPING_VERSION,
    AccountPayment,
    ExpenseRule,
    Expenses,
    LineTypes,
    MappingConfig,
    PayByInvoice,
    PaymentPolicy,
    RuleField,
    SalesTaxTarget,
    SellerCoding,
    Taxes,
    TaxMode,
    TrackingRule,
    TrackingSource,
)
from abxero.domain.mapping_checks import MappingProblem, check_mapping
from abxero.domain.transactions import Instrument
from tests.domain.domain_fixtures import uk_context, uk_mapping, us_context, us_mapping


def test_json_round_trip_keeps_every_choice() -> None:
    for mapping in (us_mapping(), uk_mapping()):
        text = mapping.to_json()
        assert MappingConfig.from_json(text) == mapping
        assert '"version":2' in text


def test_stored_json_of_an_unknown_version_is_refused() -> None:
    text = us_mapping().to_json().replace('"version":2', '"version":3')
    with pytest.raises(ValidationError):
        MappingConfig.from_json(text)


def test_a_version_1_mapping_stored_before_sellers_existed_still_loads() -> None:
    """``stored/mapping_v1_uk.json`` is a mapping as version 1 wrote it (no ``sellers``)."""
    text = (Path(__file__).parent / "stored" / "mapping_v1_uk.json").read_text()
    loaded = MappingConfig.from_json(text)
    assert loaded.version == MAPPING_VERSION == 2
    assert loaded.sellers == SellerCoding()
    assert loaded.expenses.rules[0].label == "GL code"
    assert loaded.tracking[0].category == "Department"
    assert MappingConfig.from_json(loaded.to_json()) == loaded


def test_seller_overrides_compare_names_without_case_or_spacing() -> None:
    sellers = SellerCoding(tax_overrides={"  Shenzhen  Widget Co., Ltd ": "NONE"})
    assert sellers.override_for("shenzhen widget co., ltd") == "NONE"
    with pytest.raises(ValidationError):
        SellerCoding(tax_overrides={"Someone": " "})


def test_at_most_two_tracking_rules() -> None:
    rules = tuple(
        TrackingRule(category=name, source=TrackingSource.PURCHASING_GROUP)
        for name in ("A", "B", "C")
    )
    with pytest.raises(ValidationError):
        replace_tracking(rules)


def test_vat_rate_keys_are_canonical() -> None:
    taxes = Taxes(
        mode=TaxMode.UK_VAT, vat_rates={"0.2": "INPUT2", "0": "ZERORATEDINPUT", "0.175": "X"}
    )
    assert taxes.vat_rates == {"0.20": "INPUT2", "0.00": "ZERORATEDINPUT", "0.175": "X"}
    assert taxes.tax_type_for(Decimal("0.200")) == "INPUT2"
    assert taxes.tax_type_for(Decimal("0.10")) is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: ExpenseRule(match=RuleField.BUSINESS_ORDER_INFO, value="535", account="535"),
        lambda: Taxes(mode=TaxMode.US_SALES_TAX, sales_tax_target=SalesTaxTarget.ACCOUNT),
        lambda: Taxes(mode=TaxMode.UK_VAT, vat_rates={"1.5": "INPUT2"}),
        lambda: PayByInvoice(terms_days=-1),
        lambda: TrackingRule(category="Department", source=TrackingSource.BUSINESS_ORDER_INFO),
    ],
)
def test_incomplete_entries_are_rejected(build: object) -> None:
    with pytest.raises(ValidationError):
        build()  # type: ignore[operator]


def test_at_most_two_distinct_tracking_categories() -> None:
    rule = TrackingRule(category="Project", source=TrackingSource.PURCHASING_GROUP).model_dump()
    other = TrackingRule(category="Region", source=TrackingSource.LEGAL_ENTITY).model_dump()
    base = us_mapping().model_dump()
    with pytest.raises(ValidationError, match="one rule only"):
        MappingConfig.model_validate({**base, "tracking": [rule, rule]})
    with pytest.raises(ValidationError):
        MappingConfig.model_validate({**base, "tracking": [*base["tracking"], other]})


def test_pay_by_invoice_instruments_fall_back_to_the_default() -> None:
    mapping = us_mapping()
    assert mapping.payment_method(Instrument("PayStation")) == PayByInvoice(terms_days=45)
    assert mapping.payment_method(Instrument("Pay by Invoice")) == PayByInvoice(terms_days=30)
    assert mapping.payment_method(Instrument("Visa", "9999")) is None


def test_the_fixture_mappings_are_valid_except_the_archived_seller_rule() -> None:
    assert check_mapping(us_mapping(), us_context()) == ()
    assert check_mapping(uk_mapping(), uk_context()) == (
        MappingProblem("expenses.rules[1].account", "account 466 Old Office Costs is archived"),
    )


def _with(mapping: MappingConfig, **changes: object) -> MappingConfig:
    return MappingConfig.model_validate({**mapping.model_dump(), **changes})


def test_problems_name_the_offending_entry() -> None:
    mapping = _with(
        us_mapping(),
        payment_methods={
            "Amex/1001": AccountPayment(account="429").model_dump(),
            "Visa/2002": AccountPayment(account="470").model_dump(),
            "Visa/3003": AccountPayment(
                account="800", policy=PaymentPolicy.SPEND_MONEY
            ).model_dump(),
        },
        expenses=Expenses(default_account="200").model_dump(),
    )
    problems = {problem.entry: problem.message for problem in check_mapping(mapping, us_context())}
    assert problems == {
        "payment_methods['Amex/1001'].account": (
            "account 429 General Expenses does not accept payments"
        ),
        "payment_methods['Visa/2002'].account": "account 470 Old Stationery is archived",
        "payment_methods['Visa/3003'].account": (
            "account 800 Accounts Payable is not a bank or credit-card account"
        ),
        "expenses.default_account": "account 200 Sales is a REVENUE account, not one for purchases",
    }


def test_sales_side_and_disallowed_tax_types_are_rejected() -> None:
    mapping = _with(
        uk_mapping(),
        expenses=Expenses(default_account="429").model_dump(),
        taxes=Taxes(
            mode=TaxMode.UK_VAT,
            vat_rates={"0.20": "OUTPUT2", "0.05": "CAPEXINPUT2", "0.00": "NOPE"},
        ).model_dump(),
    )
    problems = {problem.entry: problem.message for problem in check_mapping(mapping, uk_context())}
    assert problems == {
        "taxes.vat_rates['0.20']": (
            "tax type OUTPUT2 (20% (VAT on Income)) is for sales, not purchases"
        ),
        "taxes.vat_rates['0.05']": (
            "tax type CAPEXINPUT2 cannot be used with account 429 General Expenses"
        ),
        "taxes.vat_rates['0.00']": "tax type 'NOPE' does not exist in the organisation",
    }


def test_unknown_tracking_options_are_rejected() -> None:
    rule = TrackingRule(
        category="Department", source=TrackingSource.PURCHASING_GROUP, options={"Ops": "Logistics"}
    )
    mapping = _with(us_mapping(), tracking=[rule.model_dump()])
    assert check_mapping(mapping, us_context()) == (
        MappingProblem(
            "tracking[0]", "tracking category Department has no active option 'Logistics'"
        ),
    )


def test_default_mapping_for_a_uk_organisation() -> None:
    instruments = [
        Instrument("Visa", "4242"),
        Instrument("Pay by Invoice"),
        Instrument("Visa", "4242"),
    ]
    mapping = default_mapping(uk_context(), instruments)
    assert mapping.taxes.mode is TaxMode.UK_VAT
    assert mapping.taxes.vat_rates == {
        "0.20": "INPUT2",
        "0.05": "RRINPUT",
        "0.00": "ZERORATEDINPUT",
    }
    assert mapping.expenses.default_account == "429"
    assert mapping.payment_methods["Pay by Invoice"] == PayByInvoice(terms_days=30)
    # the UK org has two active credit-card accounts: the user must choose
    assert "Visa/4242" not in mapping.payment_methods
    assert check_mapping(mapping, uk_context()) == ()


def test_default_mapping_for_a_us_organisation_with_one_card_account() -> None:
    context = us_context()
    context = replace(context, accounts=tuple(a for a in context.accounts if a.code != "092"))
    mapping = default_mapping(context, [Instrument("Amex", "1001"), Instrument("PayStation")])
    assert mapping.taxes.mode is TaxMode.US_SALES_TAX
    assert mapping.payment_methods["Amex/1001"] == AccountPayment(account="091")
    assert mapping.payment_methods["PayStation"] == PayByInvoice(terms_days=30)
    assert check_mapping(mapping, context) == ()


def test_default_expense_account_without_general_expenses() -> None:
    context = us_context()
    context = replace(context, accounts=tuple(a for a in context.accounts if a.code != "429"))
    assert default_mapping(context, []).expenses.default_account == "461"
    empty = replace(context, accounts=())
    with pytest.raises(NoExpenseAccount):
        default_mapping(empty, [])


def test_an_unusable_adjustment_account_is_a_problem_named_by_its_entry() -> None:
    mapping = uk_mapping().model_copy(
        update={"line_types": LineTypes(shipping="425", adjustment="466")}
    )
    problems = {problem.entry: problem.message for problem in check_mapping(mapping, uk_context())}
    assert problems.get("line_types.adjustment") == "account 466 Old Office Costs is archived"


def replace_tracking(rules: tuple[TrackingRule, ...]) -> MappingConfig:
    return MappingConfig.model_validate({**us_mapping().model_dump(), "tracking": rules})
