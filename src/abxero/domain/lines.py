"""Xero line items from an Amazon transaction's lines, with tax split to the cent.

Signs: refunds are planned as positive credit notes, so every amount is multiplied by the
transaction's sign first. UK: each line is ``Exclusive`` with its own ``TaxAmount``; the tax of an
Amazon line is split across its parts by their rates (shipping at ``shipTaxRate``, gift wrap at
``giftWrapTaxRate``, everything else at the line's ``taxRate``) and the remainder is the item's.
US: lines carry no tax; sales tax becomes its own lines, one per account and tracking. With
"same account as the item" the transaction's whole sales tax is apportioned over the accounts
its lines post to, in proportion to each account's taxed amount (line amount × Amazon's
``taxRate``, ``shipTaxRate`` for shipping, ``giftWrapTaxRate`` for gift wrap; the plain line
amounts when a rate is missing or every rate is zero). Each share is rounded half up and the
cent rounding leaves over goes to the largest share (:func:`~abxero.domain.transactions.apportion`),
so the tax lines always add up to Amazon's tax. Only when no such weighting fits (amounts of
both signs, or none) is each Amazon line's own tax put on its item's account.

Amount is the truth: whatever the transaction's amount holds beyond its lines
(:attr:`~abxero.domain.transactions.Transaction.unexplained`) goes on one "Amazon adjustment" line
without tax, to the mapping's ``line_types.adjustment`` account (default: the first item's
account, or the default expense account when Amazon sent no lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from abxero.domain.coding import TrackingPick, item_account, line_tracking
from abxero.domain.context import Account, OrgContext
from abxero.domain.mapping import MappingConfig, SalesTaxTarget, TaxMode
from abxero.domain.mapping_checks import expense_account_problem, tax_type_problem
from abxero.domain.money import ZERO, exact_unit_price, money_sum, tax_on
from abxero.domain.outcomes import PlanningHold
from abxero.domain.plan import HoldCode
from abxero.domain.sellers import lines_flag, seller_tax_type
from abxero.domain.transactions import LineItem, Transaction, apportion

DESCRIPTION_LIMIT = 4000
SHORT_TITLE = 80
FALLBACK_TITLE = "Amazon Business purchase"
ADJUSTMENT_LABEL = "Amazon adjustment"
NO_LINES = "no readable line detail from Amazon for this amount"


class LineKind(StrEnum):
    ITEM = "item"
    SHIPPING = "shipping"
    GIFT_WRAP = "gift_wrap"
    REGULATORY_FEE = "regulatory_fee"
    DISCOUNT = "discount"
    SALES_TAX = "sales_tax"
    ADJUSTMENT = "adjustment"
    ROUNDING = "rounding"


PART_LABELS = {
    LineKind.SHIPPING: "Shipping",
    LineKind.GIFT_WRAP: "Gift wrap",
    LineKind.REGULATORY_FEE: "Regulatory fee",
    LineKind.DISCOUNT: "Discount",
}


@dataclass(frozen=True)
class DraftLine:
    """A line of a planned document, before it becomes Xero JSON."""

    kind: LineKind
    description: str
    quantity: Decimal
    unit_amount: Decimal
    line_amount: Decimal
    account: Account
    tax_type: str
    tax_amount: Decimal
    tracking: tuple[TrackingPick, ...] = ()

    def payload(self, *, explicit_tax: bool) -> dict[str, Any]:
        line: dict[str, Any] = {
            "Description": self.description,
            "Quantity": self.quantity,
            "UnitAmount": self.unit_amount,
            "LineAmount": self.line_amount,
        }
        if self.account.code:
            line["AccountCode"] = self.account.code
        else:
            line["AccountID"] = self.account.account_id
        line["TaxType"] = self.tax_type
        if explicit_tax:
            line["TaxAmount"] = self.tax_amount
        if self.tracking:
            line["Tracking"] = [
                {"Name": pick.category, "Option": pick.option} for pick in self.tracking
            ]
        return line


def trimmed(text: str, limit: int) -> str:
    """``text`` with runs of white space collapsed, cut to ``limit`` characters with an ellipsis."""
    limit = max(limit, 1)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class _Parts:
    """One Amazon line's amounts, signed for the document being planned."""

    principal: Decimal
    shipping: Decimal
    gift_wrap: Decimal
    regulatory_fee: Decimal
    discount: Decimal
    tax: Decimal

    @classmethod
    def of(cls, line: LineItem, sign: int) -> _Parts:
        return cls(
            line.principal * sign,
            line.shipping * sign,
            line.gift_wrap * sign,
            line.regulatory_fee * sign,
            line.discount * sign,
            line.tax * sign,
        )

    def extras(self) -> tuple[tuple[LineKind, Decimal], ...]:
        return (
            (LineKind.SHIPPING, self.shipping),
            (LineKind.GIFT_WRAP, self.gift_wrap),
            (LineKind.REGULATORY_FEE, self.regulatory_fee),
            (LineKind.DISCOUNT, self.discount),
        )


class LineBuilder:
    """Builds the draft lines of one transaction under one mapping and organisation."""

    def __init__(self, transaction: Transaction, mapping: MappingConfig, context: OrgContext):
        self.transaction = transaction
        self.mapping = mapping
        self.context = context
        self.sign = -1 if transaction.transaction_type.is_refund else 1
        self.vat = mapping.taxes.mode is TaxMode.UK_VAT
        self.notes: list[str] = []
        """What the builder had to decide that a person should review."""
        self.unreclaimed = ZERO
        """Amazon's VAT put into the cost of lines whose seller gets a 0 % rate (UK sellers
        without a GB VAT number, :mod:`abxero.domain.sellers`), in document signs."""

    def build(self) -> tuple[DraftLine, ...]:
        lines: list[DraftLine] = []
        drafted: list[tuple[LineItem, list[DraftLine]]] = []
        for item in self.transaction.line_items:
            item_lines = self._amazon_line(item)
            lines.extend(item_lines)
            drafted.append((item, item_lines))
        taxes = [] if self.vat else self._sales_taxes(drafted)
        first = lines[0] if lines else None
        return (*lines, *taxes, *self._adjustment(first))

    def _sales_taxes(self, drafted: list[tuple[LineItem, list[DraftLine]]]) -> list[DraftLine]:
        """The sales-tax lines: apportioned by account (see the module notes), else per line."""
        per_line = [tax for item, lines in drafted for tax in self._sales_tax(item, lines[0])]
        total = money_sum(tuple(line.line_amount for line in per_line))
        taxes = self.mapping.taxes
        if total == 0 or taxes.sales_tax_target is SalesTaxTarget.ACCOUNT:
            return _grouped(per_line)
        weights = _fitting_weights(
            self._taxed_amounts(drafted, rated=True), self._taxed_amounts(drafted, rated=False)
        )
        if weights is None:
            return _grouped(per_line)
        keys = list(weights)
        shares = apportion([weights[key][2] for key in keys], total)
        return [
            DraftLine(
                LineKind.SALES_TAX,
                "Sales tax",
                Decimal(1),
                share,
                share,
                weights[key][0],
                self._tax_type(ZERO, weights[key][0]),
                ZERO,
                weights[key][1],
            )
            for key, share in zip(keys, shares, strict=True)
            if share != 0
        ]

    def _taxed_amounts(
        self, drafted: list[tuple[LineItem, list[DraftLine]]], *, rated: bool
    ) -> _Weights | None:
        """Per account and tracking: the amounts its lines post, times their Amazon tax rate
        when ``rated`` (``None`` when a rate is missing)."""
        weights: _Weights = {}
        for item, lines in drafted:
            for line in lines:
                rate = self._us_rate(item, line.kind) if rated else Decimal(1)
                if rate is None:
                    return None
                key = (line.account.account_id, line.account.code, line.tracking)
                _, _, known = weights.get(key, (line.account, line.tracking, ZERO))
                weights[key] = (line.account, line.tracking, known + line.line_amount * rate)
        return weights

    def _us_rate(self, item: LineItem, kind: LineKind) -> Decimal | None:
        if kind is LineKind.SHIPPING and self.transaction.ship_tax_rate is not None:
            return self.transaction.ship_tax_rate
        if kind is LineKind.GIFT_WRAP and self.transaction.gift_wrap_tax_rate is not None:
            return self.transaction.gift_wrap_tax_rate
        return item.tax_rate

    def _adjustment(self, first: DraftLine | None) -> list[DraftLine]:
        amount = self.transaction.unexplained * self.sign
        if amount == 0:
            return []
        reference = self.mapping.line_types.adjustment
        if reference is not None:
            account = self._account(reference, None)
        elif first is not None:
            account = first.account
        else:
            account = self._account(self.mapping.expenses.default_account, None)
        description = ADJUSTMENT_LABEL if first else f"{ADJUSTMENT_LABEL}: {NO_LINES}"
        return [
            DraftLine(
                LineKind.ADJUSTMENT,
                description,
                Decimal(1),
                amount,
                amount,
                account,
                self._no_tax_type(account),
                ZERO,
                first.tracking if first else (),
            )
        ]

    def _no_tax_type(self, account: Account) -> str:
        """The mapping's no-tax type, checked against ``account``."""
        tax_type = self.mapping.taxes.no_tax_type
        problem = tax_type_problem(tax_type, self.context, account)
        if problem:
            raise PlanningHold(
                HoldCode.TAX_TYPE_UNUSABLE,
                problem,
                "Choose a no-tax rate allowed on the adjustment account (Taxes, Line item types).",
            )
        return tax_type

    def _amazon_line(self, item: LineItem) -> list[DraftLine]:
        parts = _Parts.of(item, self.sign)
        account = self._account(item_account(item, self.transaction, self.mapping.expenses), item)
        tracking = line_tracking(self.mapping.tracking, item, self.transaction, self.context)
        seller_type = self._seller_tax_type(item)
        if seller_type is not None:
            return self._unreclaimable_line(item, parts, account, tracking, seller_type)
        rates = self._rates(item, parts)
        extra_taxes = {
            kind: tax_on(amount, rates[kind]) if self.vat else ZERO
            for kind, amount in parts.extras()
        }
        item_tax = parts.tax - money_sum(tuple(extra_taxes.values())) if self.vat else ZERO
        quantity, unit = _quantity_and_unit(parts.principal, item.quantity)
        lines = [
            DraftLine(
                LineKind.ITEM,
                _item_description(item, quantity),
                quantity,
                unit,
                parts.principal,
                account,
                self._tax_type(rates[LineKind.ITEM], account),
                item_tax,
                tracking,
            )
        ]
        for kind, amount in parts.extras():
            if amount == 0 and extra_taxes[kind] == 0:
                continue
            part_account = self._part_account(kind, account, item)
            tax_type = self._tax_type(rates[kind], part_account)
            lines.append(
                _part_line(kind, item, amount, part_account, tax_type, extra_taxes[kind], tracking)
            )
        return lines

    def _seller_tax_type(self, item: LineItem) -> str | None:
        if not self.vat:
            return None
        flag = lines_flag(item.seller, self.transaction.line_items)
        return seller_tax_type(self.mapping.sellers, item.seller, flag)

    def _unreclaimable_line(
        self,
        item: LineItem,
        parts: _Parts,
        account: Account,
        tracking: tuple[TrackingPick, ...],
        tax_type: str,
    ) -> list[DraftLine]:
        """The seller's VAT cannot be reclaimed: each part posts at its gross (the VAT of the
        whole line rides on the item part) with the seller's 0 % rate and no tax."""
        if parts.tax:
            self.unreclaimed += parts.tax
            self.notes.append(
                f"VAT {parts.tax} shown by seller {trimmed(item.seller, SHORT_TITLE)!r} is "
                f"posted as cost at {tax_type} (no GB VAT number to reclaim it with)"
            )
        gross = parts.principal + parts.tax
        quantity, unit = _quantity_and_unit(gross, item.quantity)
        lines = [
            DraftLine(
                LineKind.ITEM,
                _item_description(item, quantity),
                quantity,
                unit,
                gross,
                account,
                self._zero_rate(tax_type, account),
                ZERO,
                tracking,
            )
        ]
        for kind, amount in parts.extras():
            if amount == 0:
                continue
            part_account = self._part_account(kind, account, item)
            zero_rate = self._zero_rate(tax_type, part_account)
            lines.append(_part_line(kind, item, amount, part_account, zero_rate, ZERO, tracking))
        return lines

    def _zero_rate(self, tax_type: str, account: Account) -> str:
        """``tax_type`` checked on ``account``, and 0 %: VAT not reclaimed carries no tax."""
        problem = tax_type_problem(tax_type, self.context, account)
        rate = self.context.tax_rate(tax_type)
        if not problem and rate is not None and rate.effective_rate:
            problem = f"tax rate {tax_type} is {rate.effective_rate}%, not 0 %"
        if problem:
            raise PlanningHold(
                HoldCode.TAX_TYPE_UNUSABLE,
                problem,
                "Choose an active 0 % purchase tax rate (e.g. No VAT) for flagged sellers "
                "(Sellers).",
            )
        return tax_type

    def _rates(self, item: LineItem, parts: _Parts) -> dict[LineKind, Decimal]:
        if not self.vat:
            return dict.fromkeys(LineKind, ZERO)
        line_rate = item.tax_rate
        if line_rate is None:
            line_rate = self._fitting_rate(item, parts) if parts.tax != 0 else ZERO
        return self._part_rates(line_rate)

    def _part_rates(self, line_rate: Decimal) -> dict[LineKind, Decimal]:
        ship = self.transaction.ship_tax_rate
        wrap = self.transaction.gift_wrap_tax_rate
        rates = dict.fromkeys(LineKind, line_rate)
        rates[LineKind.SHIPPING] = line_rate if ship is None else ship
        rates[LineKind.GIFT_WRAP] = line_rate if wrap is None else wrap
        return rates

    def _fitting_rate(self, item: LineItem, parts: _Parts) -> Decimal:
        """The mapped VAT rate whose tax on the line's parts comes closest to Amazon's VAT.

        Used when a line shows VAT but its ``taxRate`` is missing or unreadable.
        """
        mapped = sorted(Decimal(text) for text in self.mapping.taxes.vat_rates)
        if not mapped:
            raise PlanningHold(
                HoldCode.TAX_RATE_NOT_MAPPED,
                "a line shows VAT without a VAT rate, and the mapping has no VAT rates",
                "Map Amazon's VAT rates to the organisation's purchase tax rates (Taxes).",
            )

        def distance(rate: Decimal) -> tuple[Decimal, Decimal]:
            rates = self._part_rates(rate)
            taxed = [(LineKind.ITEM, parts.principal), *parts.extras()]
            computed = money_sum(tuple(tax_on(amount, rates[kind]) for kind, amount in taxed))
            return abs(computed - parts.tax), rate

        rate = min(mapped, key=distance)
        line = item.order_line_item_id or trimmed(item.title or FALLBACK_TITLE, SHORT_TITLE)
        self.notes.append(
            f"line {line!r} shows VAT {parts.tax} without a readable taxRate; taken as "
            f"{rate:.2%}, the mapped rate that fits its amounts"
        )
        return rate

    def _account(self, reference: str, item: LineItem | None) -> Account:
        problem = expense_account_problem(reference, self.context)
        account = self.context.account(reference)
        if problem or account is None:
            coding = (
                trimmed(item.title or FALLBACK_TITLE, SHORT_TITLE) if item else ADJUSTMENT_LABEL
            )
            raise PlanningHold(
                HoldCode.ACCOUNT_UNUSABLE,
                f"{problem} (coding {coding!r})",
                "Choose an active expense account in the mapping's Expenses or Line item types.",
            )
        return account

    def _part_account(self, kind: LineKind, item_account: Account, item: LineItem) -> Account:
        reference: str | None = getattr(self.mapping.line_types, kind.value)
        return item_account if reference is None else self._account(reference, item)

    def _tax_type(self, rate: Decimal, account: Account) -> str:
        taxes = self.mapping.taxes
        tax_type = taxes.tax_type_for(rate) if self.vat else taxes.no_tax_type
        if tax_type is None:
            raise PlanningHold(
                HoldCode.TAX_RATE_NOT_MAPPED,
                f"Amazon VAT rate {rate:.2%} has no Xero tax rate in the mapping",
                "Map this VAT rate to one of the organisation's purchase tax rates (Taxes).",
            )
        problem = tax_type_problem(tax_type, self.context, account)
        if problem:
            raise PlanningHold(
                HoldCode.TAX_TYPE_UNUSABLE,
                problem,
                "Choose an active purchase tax rate allowed on the account (Taxes).",
            )
        return tax_type

    def _sales_tax(self, item: LineItem, item_line: DraftLine) -> list[DraftLine]:
        amount = item.tax * self.sign
        if amount == 0:
            return []
        taxes = self.mapping.taxes
        account = item_line.account
        if taxes.sales_tax_target is SalesTaxTarget.ACCOUNT and taxes.sales_tax_account:
            account = self._account(taxes.sales_tax_account, item)
        tax_type = self._tax_type(ZERO, account)
        return [
            DraftLine(
                LineKind.SALES_TAX,
                "Sales tax",
                Decimal(1),
                amount,
                amount,
                account,
                tax_type,
                ZERO,
                item_line.tracking,
            )
        ]


_WeightKey = tuple[str, str, tuple[TrackingPick, ...]]
_Weights = dict[_WeightKey, tuple[Account, tuple[TrackingPick, ...], Decimal]]


def _fitting_weights(*candidates: _Weights | None) -> _Weights | None:
    """The first candidate whose weights share one sign and do not sum to zero."""
    for weights in candidates:
        if weights is None:
            continue
        whole = sum((weight for _, _, weight in weights.values()), ZERO)
        if whole != 0 and all(weight * whole >= 0 for _, _, weight in weights.values()):
            return weights
    return None


def _grouped(taxes: list[DraftLine]) -> list[DraftLine]:
    """One sales-tax line per account and tracking, in order of first appearance."""
    groups: dict[tuple[str, str, tuple[TrackingPick, ...]], DraftLine] = {}
    for line in taxes:
        key = (line.account.account_id, line.account.code, line.tracking)
        known = groups.get(key)
        if known is None:
            groups[key] = line
            continue
        total = known.line_amount + line.line_amount
        groups[key] = DraftLine(
            known.kind,
            known.description,
            known.quantity,
            total,
            total,
            known.account,
            known.tax_type,
            ZERO,
            known.tracking,
        )
    return [line for line in groups.values() if line.line_amount != 0]


def _quantity_and_unit(amount: Decimal, quantity: int) -> tuple[Decimal, Decimal]:
    """Quantity × unit = amount exactly: the real quantity when a 4 dp price exists, else 1."""
    price = exact_unit_price(amount, quantity) if quantity > 1 else None
    return (Decimal(quantity), price) if price is not None else (Decimal(1), amount)


def _item_description(item: LineItem, quantity: Decimal) -> str:
    notes = []
    if item.asin:
        notes.append(f"ASIN {item.asin}")
    if item.quantity > 1 and quantity == 1:
        notes.append(f"quantity {item.quantity}")
    if item.refund_reason:
        notes.append(f"refund: {trimmed(item.refund_reason, SHORT_TITLE)}")
    suffix = f" ({', '.join(notes)})" if notes else ""
    title = trimmed(item.title or FALLBACK_TITLE, DESCRIPTION_LIMIT - len(suffix))
    return title + suffix


def _part_line(
    kind: LineKind,
    item: LineItem,
    amount: Decimal,
    account: Account,
    tax_type: str,
    tax: Decimal,
    tracking: tuple[TrackingPick, ...],
) -> DraftLine:
    """One line for a part of an item (shipping, gift wrap, a fee …), quantity one."""
    title = trimmed(item.title or FALLBACK_TITLE, SHORT_TITLE)
    return DraftLine(
        kind,
        f"{PART_LABELS[kind]}: {title}",
        Decimal(1),
        amount,
        amount,
        account,
        tax_type,
        tax,
        tracking,
    )
