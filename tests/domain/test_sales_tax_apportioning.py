"""US sales tax under "same account as the item": apportioned over the accounts the lines post to.

The rule (``abxero.domain.lines``): weights are each account's line amounts times Amazon's tax
rates (plain amounts when a rate is missing or all are zero); shares are rounded half up and
the cent left over goes to the largest share, so the tax lines add up to Amazon's tax exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.plan import Planned, document_totals
from abxero.domain.planner import plan_record
from tests.domain.domain_records import amazon_line, amazon_transaction
from tests.domain.domain_strategies import FAST, US, as_refund, charge_records
from tests.domain.test_properties import amazon_tax, main_document, planned

ORDER = "114-0000311-1156610"


def _tax_lines(plan: Planned) -> dict[str, Decimal]:
    """Sales tax per account code (and tracking, when a line has any) on the main document."""
    lines = main_document(plan).payload["LineItems"]
    taxes: dict[str, Decimal] = {}
    for line in lines:
        if line["Description"] == "Sales tax":
            tracking = " ".join(f"{t['Name']}={t['Option']}" for t in line.get("Tracking", ()))
            key = f"{line['AccountCode']} {tracking}".strip()
            assert key not in taxes, "one sales-tax line per account and tracking"
            taxes[key] = Decimal(line["LineAmount"])
    return taxes


def _book_and_toner(book_tax: str, toner_tax: str, *, book_rate: str = "0.07") -> dict[str, Any]:
    book = amazon_line(
        "USD",
        principal="20.00",
        tax=book_tax,
        tax_rate=book_rate,
        title="Book",
        orderId=ORDER,
        orderLineItemId="li-book",
        businessOrderInfo={"GL code": "535-office"},
    )
    toner = amazon_line(
        "USD",
        principal="60.00",
        tax=toner_tax,
        tax_rate="0.07",
        title="Toner cartridge",
        orderId=ORDER,
        orderLineItemId="li-toner",
    )
    return amazon_transaction(
        "US00006X1ER5", [book, toner], currency="USD", instrument="Amex", last4="1001"
    )


def test_the_orders_tax_on_one_line_is_shared_by_both_items_accounts() -> None:
    """Amazon put all 5.60 of tax on the book's line; the toner's account carries its share."""
    plan = planned(US, _book_and_toner("5.60", "0.00"))
    assert _tax_lines(plan) == {"535": Decimal("1.40"), "461": Decimal("4.20")}


def test_an_exempt_item_gets_no_share_of_the_tax() -> None:
    """A book taxed at 0 % with the toner at 7 %: all the tax is the toner's account's."""
    plan = planned(US, _book_and_toner("0.00", "4.20", book_rate="0.00"))
    assert _tax_lines(plan) == {"461": Decimal("4.20")}


def test_the_cent_rounding_leaves_goes_to_the_largest_share() -> None:
    """1.00 over weights 1:1:1 → 0.33 each, the leftover cent to the first of the largest."""
    lines = [
        amazon_line(
            "USD",
            principal="10.00",
            tax="1.00" if index == 0 else "0.00",
            tax_rate="0.10",
            title=title,
            orderId=ORDER,
            **extra,
        )
        for index, (title, extra) in enumerate(
            (
                ("Book", {"businessOrderInfo": {"GL code": "535-office"}}),
                ("Toner", {}),
                ("Chair", {}),
            )
        )
    ]
    record = amazon_transaction("t-round", lines, currency="USD", instrument="Amex", last4="1001")
    plan = planned(US, record)
    assert _tax_lines(plan) == {
        "535": Decimal("0.34"),
        "461": Decimal("0.33"),
        "429": Decimal("0.33"),
    }


@FAST
@given(charge_records(US), st.sampled_from(["CHARGE", "REFUND", "OVERREFUND"]))
def test_apportioned_tax_adds_up_to_amazons_and_the_document_to_its_amount(
    drawn: tuple[Any, dict[str, Any]], kind: str
) -> None:
    region, record = drawn
    if kind != "CHARGE":
        record = as_refund(record, kind)
    plan = plan_record(record, region.mapping, region.context)
    if not isinstance(plan, Planned):
        return  # held (e.g. an unmapped card); holds have their own tests
    document = main_document(plan)
    sign = -1 if kind != "CHARGE" else 1
    assert document_totals(document.payload).total == sign * Decimal(record["amount"]["amount"])
    taxes = _tax_lines(plan)
    assert sum(taxes.values(), Decimal(0)) == amazon_tax(record)
    posted_to = {
        line["AccountCode"]
        for line in document.payload["LineItems"]
        if line["Description"] != "Sales tax"
    }
    assert {key.split()[0] for key in taxes} <= posted_to
