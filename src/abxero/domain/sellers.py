"""Sellers in the Amazon data: UK VAT treatment and the contact a document is posted to.

Amazon's Reconciliation lines name the seller only by ``merchantLegalName``; the model has no
seller VAT number or country for the UK (amazon-business-api.md §6 item 8 and §7: "any VAT
registration numbers for UK sellers (JP has them, UK not in the model)"). So a seller is
recognised from what the data does show:

* **non-GB**: the legal name ends in a legal form of another country (GmbH, S.A.R.L., B.V.,
  Co., Ltd, LLC …);
* **No VAT**: every line of the seller in the transaction carries no VAT although it costs
  something (Amazon's "No VAT" badge marks sellers exempt from VAT registration, market.md).

VAT on an invoice without a GB VAT number cannot be reclaimed (market.md, the council VAT
guidance), so the mapping may give such sellers' lines a 0 % tax rate: any VAT they show is then
part of the cost, not input VAT. Amazon's own selling entities are never flagged. Recognition is
a hint the mapping page shows; the per-seller override decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from abxero.domain.mapping import RECLAIM, SellerCoding, seller_key
from abxero.domain.transactions import LineItem, Transaction

AMAZON_SELLER = re.compile(r"^\s*amazon\b", re.IGNORECASE)
FOREIGN_LEGAL_FORMS = re.compile(
    r"(?:^|[\s,.(])("
    r"gmbh|ag|kg|ug|e\.?\s?k|s\.?\s?a\.?\s?r\.?\s?l|s\.?\s?a\.?\s?s|s\.?\s?r\.?\s?l|s\.?\s?p\.?\s?a"
    r"|s\.?\s?l\.?\s?u?|s\.?\s?a|b\.?\s?v|n\.?\s?v|sp\.?\s?z\.?\s?o\.?\s?o|s\.?\s?r\.?\s?o|a/s|aps"
    r"|oy|ab|co\.?,\s?ltd|co\.?,\s?limited|llc|inc|corp|pty\.?\s?ltd|k\.?\s?k"
    r")\.?\s*\)?\s*$",
    re.IGNORECASE,
)
"""Legal forms at the end of a company name that are not British (German, French, Spanish,
Italian, Dutch, Polish, Czech, Nordic, Chinese "Co., Ltd", US, Australian, Japanese)."""


class SellerFlag(StrEnum):
    NON_GB = "non_gb"
    NO_VAT = "no_vat"

    @property
    def label(self) -> str:
        return "looks non-GB" if self is SellerFlag.NON_GB else "charged no VAT"


def is_amazon(seller: str) -> bool:
    return bool(AMAZON_SELLER.match(seller))


def name_flag(seller: str) -> SellerFlag | None:
    """``NON_GB`` when the legal name ends in a foreign legal form (never for Amazon)."""
    if not seller.strip() or is_amazon(seller):
        return None
    return SellerFlag.NON_GB if FOREIGN_LEGAL_FORMS.search(seller.strip()) else None


def lines_flag(seller: str, lines: Iterable[LineItem]) -> SellerFlag | None:
    """The seller's flag for these lines: by name, else ``NO_VAT`` when none shows VAT."""
    flag = name_flag(seller)
    if flag is not None or not seller.strip() or is_amazon(seller):
        return flag
    own = [line for line in lines if seller_key(line.seller) == seller_key(seller)]
    charged = any(line.total != 0 for line in own)
    if own and charged and all(line.tax == 0 for line in own):
        return SellerFlag.NO_VAT
    return None


def seller_tax_type(coding: SellerCoding, seller: str, flag: SellerFlag | None) -> str | None:
    """The 0 % tax type this seller's lines get, or ``None`` for the usual VAT-rate mapping."""
    if not seller.strip():
        return None
    override = coding.override_for(seller)
    if override is not None:
        return None if override == RECLAIM else override
    return coding.flagged_tax_type if flag is not None else None


def document_seller(transaction: Transaction) -> str:
    """The seller a transaction's documents name: its lines' one seller, else ``""`` (no
    lines, or several sellers in one charge: those keep the single default contact)."""
    names = {seller_key(line.seller): line.seller.strip() for line in transaction.line_items}
    if len(names) != 1:
        return ""
    return next(iter(names.values()))


@dataclass(frozen=True)
class SellerSeen:
    """A seller in the stored data, as the mapping page lists it."""

    name: str
    transactions: int
    total: Decimal
    tax: Decimal
    currency: str
    flag: SellerFlag | None


def sellers_seen(transactions: Iterable[Transaction]) -> list[SellerSeen]:
    """Every seller of ``transactions`` with its counts and its flag over all its lines."""
    lines: dict[str, list[LineItem]] = {}
    names: dict[str, str] = {}
    counts: dict[str, set[str]] = {}
    currency: dict[str, str] = {}
    for transaction in transactions:
        for line in transaction.line_items:
            key = seller_key(line.seller)
            if not key:
                continue
            names.setdefault(key, " ".join(line.seller.split()))
            lines.setdefault(key, []).append(line)
            counts.setdefault(key, set()).add(transaction.transaction_id)
            currency.setdefault(key, transaction.currency)
    seen = [
        SellerSeen(
            names[key],
            len(counts[key]),
            sum((line.total for line in own), Decimal(0)),
            sum((line.tax for line in own), Decimal(0)),
            currency[key],
            lines_flag(names[key], own),
        )
        for key, own in lines.items()
    ]
    return sorted(seen, key=lambda item: (item.flag is None, item.name.casefold()))
