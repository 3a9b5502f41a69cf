"""The pure comparison: every cent of a gap between Amazon and Xero is named, per instrument."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from abxero.domain.reconciliation import (
    AmazonTransaction,
    Kind,
    OurDocument,
    XeroDocument,
    reconcile,
)

SINCE, UNTIL = date(2026, 3, 1), date(2026, 3, 31)
VISA = "Visa/0071"


def amazon(tid: str, amount: str, status: str = "posted", reason: str = "") -> AmazonTransaction:
    return AmazonTransaction(tid, VISA, "USD", Decimal(amount), status, reason)


def ours(
    tid: str, role: str, xero_id: str, amount: str, status: str = "posted", error: str = ""
) -> OurDocument:
    return OurDocument(tid, role, xero_id, Decimal(amount), status, error)


def xero(xero_id: str, kind: str, total: str, status: str = "AUTHORISED") -> XeroDocument:
    return XeroDocument(xero_id, kind, status, Decimal(total))


def test_a_posted_bill_and_payment_that_xero_holds_are_clean() -> None:
    result = reconcile(
        SINCE,
        UNTIL,
        [amazon("T1", "10.00"), amazon("T2", "-4.00")],
        [
            ours("T1", "bill", "b1", "10.00"),
            ours("T1", "payment", "p1", "10.00"),
            ours("T2", "credit_note", "c1", "4.00"),
            ours("T2", "refund", "r1", "4.00"),
            ours("T2", "allocation", "c1:b1", "4.00"),
        ],
        {
            "b1": xero("b1", "Invoices", "10.00", "PAID"),
            "p1": xero("p1", "Payments", "10.00"),
            "c1": xero("c1", "CreditNotes", "4.00", "PAID"),
            "r1": xero("r1", "Payments", "4.00"),
        },
    )
    assert result.clean
    [line] = result.lines
    assert (line.amazon_total, line.xero_total) == (Decimal("6.00"), Decimal("6.00"))
    assert (line.paid_expected, line.paid_in_xero) == (Decimal("6.00"), Decimal("6.00"))


def test_each_kind_of_difference_is_named_and_accounts_for_the_gap() -> None:
    result = reconcile(
        SINCE,
        UNTIL,
        [
            amazon("HELD", "3.00", "held", "card not mapped"),
            amazon("FAILED", "5.00", "planned"),
            amazon("NEW", "7.00", "new"),
            amazon("GONE", "11.00"),
            amazon("EDITED", "13.00"),
            amazon("UNPAID", "17.00"),
        ],
        [
            ours("FAILED", "bill", "", "5.00", "failed", "Account code '999' is not valid"),
            ours("GONE", "bill", "g1", "11.00"),
            ours("EDITED", "spend", "e1", "13.00"),
            ours("UNPAID", "bill", "u1", "17.00"),
            ours("UNPAID", "payment", "u2", "17.00"),
        ],
        {
            "g1": xero("g1", "Invoices", "11.00", "VOIDED"),
            "e1": xero("e1", "BankTransactions", "18.00"),
            "u1": xero("u1", "Invoices", "17.00"),
            "u2": xero("u2", "Payments", "17.00", "DELETED"),
        },
        [
            XeroDocument(
                "x1", "Invoices", "AUTHORISED", Decimal("2.50"), "OLD-1", None, "USD", "bill"
            )
        ],
    )
    kinds = {(d.kind, d.transaction_id or d.xero_id, d.role) for d in result.differences}
    assert kinds == {
        (Kind.HELD, "HELD", ""),
        (Kind.FAILED, "FAILED", ""),
        (Kind.PENDING, "NEW", ""),
        (Kind.MISSING, "GONE", "bill"),
        (Kind.CHANGED, "EDITED", "spend"),
        (Kind.MISSING, "UNPAID", "payment"),
        (Kind.EXTRA, "x1", "bill"),
    }
    failed = next(d for d in result.differences if d.kind is Kind.FAILED)
    assert failed.reason == "Account code '999' is not valid"
    assert not result.clean
    for line in result.lines:
        assert result.unexplained(line) == 0
    visa = next(line for line in result.lines if line.instrument == VISA)
    assert visa.difference == Decimal("3.00") + 5 + 7 + 11 - 5
    assert visa.paid_in_xero == 0
    assert visa.paid_expected == Decimal("17.00")


amounts = st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=2)
fates = st.sampled_from(["kept", "voided", "edited", "lost", "held", "quarantined"])


@given(st.lists(st.tuples(amounts, fates, amounts), min_size=1, max_size=12))
def test_whatever_happens_the_differences_add_up_to_the_gap(
    cases: list[tuple[Decimal, str, Decimal]],
) -> None:
    transactions, documents, shown = [], [], {}
    for index, (amount, fate, edit) in enumerate(cases):
        tid, xid = f"T{index}", f"x{index}"
        status = fate if fate in {"held", "quarantined"} else "posted"
        transactions.append(amazon(tid, str(amount), status))
        if status != "posted":
            continue
        role = "bill" if amount >= 0 else "credit_note"
        documents.append(ours(tid, role, xid, str(abs(amount))))
        total = abs(amount) + (edit if fate == "edited" else 0)
        if fate != "lost":
            shown[xid] = xero(
                xid, "Invoices", str(total), "VOIDED" if fate == "voided" else "AUTHORISED"
            )
    result = reconcile(SINCE, UNTIL, transactions, documents, shown)
    for line in result.lines:
        assert result.unexplained(line) == 0
    untouched = all(fate == "kept" or (fate == "edited" and not edit) for _, fate, edit in cases)
    assert result.clean == untouched
    assert len(result.differences) == sum(
        1 for _, fate, edit in cases if fate != "kept" and (fate != "edited" or edit)
    )


def test_a_declared_difference_and_a_record_changed_in_amazon_are_named() -> None:
    declared = amazon("VAT", "10.00")
    changed = AmazonTransaction("LATER", VISA, "USD", Decimal("5.00"), "posted", "", None, True)
    result = reconcile(
        SINCE,
        UNTIL,
        [declared, changed],
        [ours("VAT", "bill", "v1", "9.80"), ours("LATER", "bill", "l1", "5.00")],
        {"v1": xero("v1", "Invoices", "9.80"), "l1": xero("l1", "Invoices", "5.00")},
    )
    named = {(d.kind, d.transaction_id): d for d in result.differences}
    assert set(named) == {
        (Kind.POSTED_WITH_DIFFERENCE, "VAT"),
        (Kind.CHANGED_IN_AMAZON, "LATER"),
    }
    assert named[(Kind.POSTED_WITH_DIFFERENCE, "VAT")].effect == Decimal("0.20")
    [line] = result.lines
    assert result.unexplained(line) == 0
    assert not line.clean
