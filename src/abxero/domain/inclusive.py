"""Spend / Receive Money in UK VAT mode: tax-inclusive lines whose VAT Xero computes itself.

Xero rejects an explicit ``TaxAmount`` on a bank transaction line when it differs from its own
computation ("Tax amount 52.23 is incorrect for INPUT2 tax type, should be 52.28",
https://github.com/XeroAPI/xero-node/issues/768), while the same override is accepted on bills.
So bank transactions are posted ``LineAmountTypes=Inclusive`` with each line at its gross
(net + Amazon's VAT) and no ``TaxAmount``; Xero then computes gross × rate / (1 + rate) per line,
rounded to the cent (:func:`~abxero.domain.money.inclusive_tax`).

When that computation would not give Amazon's VAT for a line, the line's gross is moved to the
nearest gross on which it does (:func:`~abxero.domain.money.gross_for_tax`) and the difference
goes on a separate "VAT rounding" line with the no-tax rate, one per account and tracking. The
document total stays Amazon's amount to the cent and its VAT Amazon's VAT.

Only where no gross can carry Amazon's VAT (the line's Xero rate is 0 % but Amazon shows VAT on
it) does the line post at its gross with Xero's VAT; the difference is returned as
:attr:`GrossLines.tax_shortfall`, becomes a review note, and is the one difference the invariants
accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from abxero.domain.coding import TrackingPick
from abxero.domain.context import Account, OrgContext
from abxero.domain.lines import DraftLine, LineKind
from abxero.domain.mapping import MappingConfig
from abxero.domain.mapping_checks import tax_type_problem
from abxero.domain.money import ZERO, exact_unit_price, gross_for_tax, inclusive_tax
from abxero.domain.outcomes import PlanningHold
from abxero.domain.plan import HoldCode

ROUNDING_LABEL = "VAT rounding (Xero computes VAT per line)"


def xero_rate(context: OrgContext, tax_type: str) -> Decimal:
    """The rate Xero applies for ``tax_type``, as a fraction (``EffectiveRate`` is in percent)."""
    rate = context.tax_rate(tax_type)
    if rate is None or rate.effective_rate is None:
        return ZERO
    return rate.effective_rate / 100


def xero_rates(context: OrgContext, lines: Iterable[DraftLine]) -> dict[str, Decimal]:
    return {line.tax_type: xero_rate(context, line.tax_type) for line in lines}


@dataclass(frozen=True)
class GrossLines:
    lines: tuple[DraftLine, ...]
    tax_shortfall: Decimal = ZERO
    """Amazon's VAT minus the VAT Xero will compute (non-zero only on a 0 % Xero rate)."""


def inclusive_lines(
    lines: tuple[DraftLine, ...], mapping: MappingConfig, context: OrgContext
) -> GrossLines:
    """``lines`` as gross, tax-inclusive lines, plus the rounding lines that keep Amazon's VAT."""
    gross_lines: list[DraftLine] = []
    rounding: dict[tuple[str, str, tuple[TrackingPick, ...]], DraftLine] = {}
    shortfall = ZERO
    for line in lines:
        gross = line.line_amount + line.tax_amount
        rate = xero_rate(context, line.tax_type)
        taxed = gross if inclusive_tax(gross, rate) == line.tax_amount else None
        taxed = taxed if taxed is not None else gross_for_tax(line.tax_amount, rate, gross)
        if taxed is None:
            computed = inclusive_tax(gross, rate)
            shortfall += line.tax_amount - computed
            gross_lines.append(_at_gross(line, gross, computed))
            continue
        gross_lines.append(_at_gross(line, taxed, line.tax_amount))
        if taxed != gross:
            _add_rounding(rounding, line, gross - taxed, mapping, context)
    extra = [line for line in rounding.values() if line.line_amount != 0]
    return GrossLines((*gross_lines, *extra), shortfall)


def _at_gross(line: DraftLine, gross: Decimal, tax: Decimal) -> DraftLine:
    quantity = line.quantity
    unit = exact_unit_price(gross, int(quantity)) if quantity > 1 else None
    if unit is None:
        quantity, unit = Decimal(1), gross
    return DraftLine(
        line.kind,
        line.description,
        quantity,
        unit,
        gross,
        line.account,
        line.tax_type,
        tax,
        line.tracking,
    )


def _add_rounding(
    rounding: dict[tuple[str, str, tuple[TrackingPick, ...]], DraftLine],
    line: DraftLine,
    amount: Decimal,
    mapping: MappingConfig,
    context: OrgContext,
) -> None:
    key = (line.account.account_id, line.account.code, line.tracking)
    known = rounding.get(key)
    total = amount + (known.line_amount if known else ZERO)
    rounding[key] = DraftLine(
        LineKind.ROUNDING,
        ROUNDING_LABEL,
        Decimal(1),
        total,
        total,
        line.account,
        _no_tax_type(mapping, context, line.account),
        ZERO,
        line.tracking,
    )


def _no_tax_type(mapping: MappingConfig, context: OrgContext, account: Account) -> str:
    tax_type = mapping.taxes.no_tax_type
    problem = tax_type_problem(tax_type, context, account)
    if problem:
        raise PlanningHold(
            HoldCode.TAX_TYPE_UNUSABLE,
            problem,
            "Choose a no-tax rate allowed on this account (Taxes) for VAT rounding lines.",
        )
    return tax_type
