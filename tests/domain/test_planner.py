"""Planner behaviour the golden files do not pin down on their own."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from abxero.domain.invariants import broken_invariants
from abxero.domain.lines import LineBuilder
from abxero.domain.lookup import BillsByOrder, OriginalBill
from abxero.domain.mapping import MappingConfig, SalesTaxTarget, Taxes, TaxMode
from abxero.domain.plan import Held, HoldCode, Link, Planned, Role, resolve_links
from abxero.domain.planner import plan_record, plan_transaction
from abxero.domain.transactions import Transaction, parse_transaction
from tests.domain.domain_fixtures import uk_context, uk_mapping, us_context, us_mapping
from tests.domain.domain_records import amazon_line, amazon_transaction

ORDER = "113-1000000-0000001"


def _us_charge(**fields: Any) -> dict[str, Any]:
    line = amazon_line(
        "USD", principal="100.00", tax="7.00", tax_rate="0.07", title="Desk", orderId=ORDER
    )
    return amazon_transaction(
        "t-1", [line], currency="USD", instrument="Amex", last4="1001", **fields
    )


def _pbi_refund(amount: str = "50.00") -> dict[str, Any]:
    line = amazon_line("USD", principal=amount, title="Desk", orderId=ORDER, sign=-1)
    return amazon_transaction(
        "t-2", [line], currency="USD", kind="REFUND", instrument="Pay by Invoice"
    )


def _planned(plan: object) -> Planned:
    assert isinstance(plan, Planned), plan
    return plan


def test_card_charge_is_a_bill_paid_from_the_card_account() -> None:
    plan = _planned(plan_record(_us_charge(chargeIdentifier="RA5X"), us_mapping(), us_context()))
    bill, payment = plan.documents
    assert (bill.role, payment.role) == (Role.BILL, Role.PAYMENT)
    assert payment.links == (Link("t-1:bill", ("Invoice", "InvoiceID")),)
    sent = resolve_links(payment.payload, payment.links, {"t-1:bill": "inv-9"})
    assert sent["Invoice"] == {"InvoiceID": "inv-9"}
    assert "Invoice" not in payment.payload
    assert sent["Reference"] == "RA5X 1001"
    assert bill.payload["InvoiceNumber"] == f"{ORDER}-RA5X"


def test_pay_by_invoice_refund_allocates_to_the_posted_bill_up_to_its_amount_due() -> None:
    bill = OriginalBill("t-0:bill", Decimal("20.00"), "USD", "inv-1", order_ids=(ORDER,))
    lookup = BillsByOrder([bill])
    plan = _planned(plan_record(_pbi_refund(), us_mapping(), us_context(), lookup))
    credit, allocation = plan.documents
    assert credit.amount == Decimal("50.00")
    assert allocation.amount == Decimal("20.00")
    assert allocation.payload["Invoice"] == {"InvoiceID": "inv-1"}
    assert allocation.links == (Link("t-2:credit_note", ("CreditNote", "CreditNoteID")),)


def test_pay_by_invoice_refund_without_amount_due_is_only_a_credit_note() -> None:
    for bill in (
        None,
        OriginalBill("t-0:bill", Decimal("0.00"), "USD", "inv-1", order_ids=(ORDER,)),
    ):
        lookup = BillsByOrder([bill] if bill else [])
        plan = _planned(plan_record(_pbi_refund(), us_mapping(), us_context(), lookup))
        assert [document.role for document in plan.documents] == [Role.CREDIT_NOTE]


def test_sales_tax_to_a_chosen_account() -> None:
    mapping = MappingConfig.model_validate(
        {
            **us_mapping().model_dump(),
            "taxes": Taxes(
                mode=TaxMode.US_SALES_TAX,
                sales_tax_target=SalesTaxTarget.ACCOUNT,
                sales_tax_account="505",
            ).model_dump(),
        }
    )
    bill = _planned(plan_record(_us_charge(), mapping, us_context())).documents[0]
    tax_line = bill.payload["LineItems"][-1]
    assert (tax_line["Description"], tax_line["AccountCode"], tax_line["LineAmount"]) == (
        "Sales tax",
        "505",
        Decimal("7.00"),
    )


def test_uk_tax_remainder_goes_to_the_item_line() -> None:
    # Amazon rounded the line's tax to 4.81; shipping's 0.80 is exact, the item takes the rest
    line = amazon_line(
        "GBP",
        principal="20.05",
        shipping="3.99",
        tax="4.81",
        tax_rate="0.20",
        title="Lamp",
        orderId="202-1",
    )
    record = amazon_transaction("uk-1", [line], currency="GBP", last4="4242", shipTaxRate="0.20")
    bill = _planned(plan_record(record, uk_mapping(), uk_context())).documents[0]
    taxes = [item["TaxAmount"] for item in bill.payload["LineItems"]]
    assert taxes == [Decimal("4.01"), Decimal("0.80")]


def test_a_long_title_is_trimmed_to_xeros_limit() -> None:
    line = amazon_line("USD", principal="1.00", title="word " * 2000, orderId=ORDER, asin="B0X")
    record = amazon_transaction("t-3", [line], currency="USD", instrument="Amex", last4="1001")
    description = (
        _planned(plan_record(record, us_mapping(), us_context()))
        .documents[0]
        .payload["LineItems"][0]["Description"]
    )
    assert len(description) <= 4000
    assert description.endswith("… (ASIN B0X)")


def test_uneven_unit_price_falls_back_to_quantity_one() -> None:
    line = amazon_line("USD", principal="10.00", quantity=3, title="Pens", orderId=ORDER)
    record = amazon_transaction("t-4", [line], currency="USD", instrument="Amex", last4="1001")
    item = (
        _planned(plan_record(record, us_mapping(), us_context()))
        .documents[0]
        .payload["LineItems"][0]
    )
    assert (item["Quantity"], item["UnitAmount"], item["Description"]) == (
        Decimal(1),
        Decimal("10.00"),
        "Pens (quantity 3)",
    )


def test_uk_line_with_tax_but_no_rate_posts_at_the_mapped_rate_that_fits() -> None:
    """A missing ``taxRate`` is informational: the VAT itself is there, so the line posts."""
    line = amazon_line("GBP", principal="10.00", tax="2.00", title="Mug", orderId="202-2")
    del line["taxRate"]
    record = amazon_transaction("uk-2", [line], currency="GBP", last4="4242")
    plan = plan_record(record, uk_mapping(), uk_context())
    assert isinstance(plan, Planned)
    (item,) = plan.documents[0].payload["LineItems"]
    assert (item["TaxType"], item["TaxAmount"]) == ("INPUT2", Decimal("2.00"))
    assert any("without a readable taxRate" in note for note in plan.review_notes)


def test_missing_contact_holds() -> None:
    plan = plan_record(_us_charge(), us_mapping(), replace(us_context(), contact_id=""))
    assert isinstance(plan, Held)
    assert plan.code is HoldCode.CONTACT_MISSING


def test_archived_payment_account_holds() -> None:
    context = us_context()
    accounts = tuple(
        replace(a, status="ARCHIVED") if a.code == "091" else a for a in context.accounts
    )
    plan = plan_record(_us_charge(), us_mapping(), replace(context, accounts=accounts))
    assert isinstance(plan, Held)
    assert plan.code is HoldCode.ACCOUNT_UNUSABLE
    assert "Amex ending 1001" in plan.message
    assert "archived" in plan.message


def test_tax_type_not_allowed_on_the_account_holds() -> None:
    mapping = MappingConfig.model_validate(
        {**us_mapping().model_dump(), "taxes": {"mode": "us_sales_tax", "no_tax_type": "OUTPUT"}}
    )
    plan = plan_record(_us_charge(), mapping, us_context())
    assert isinstance(plan, Held)
    assert plan.code is HoldCode.TAX_TYPE_UNUSABLE


def test_a_plan_that_breaks_the_invariant_is_caught() -> None:
    parsed = parse_transaction(_us_charge())
    assert isinstance(parsed, Transaction)
    plan = _planned(plan_transaction(parsed, us_mapping(), us_context()))
    lines = LineBuilder(parsed, us_mapping(), us_context()).build()
    bill, payment = plan.documents
    tampered = dict(bill.payload, LineItems=bill.payload["LineItems"][:-1])
    problems = broken_invariants(
        parsed, lines, (replace(bill, payload=tampered), payment), vat=False
    )
    assert any("Xero would total 100.00, planned 107.00" in problem for problem in problems)
    assert broken_invariants(parsed, lines, plan.documents, vat=False) == []
