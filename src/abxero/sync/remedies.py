"""What a user can do about a document Xero refused, from Xero's own error text."""

from __future__ import annotations

import re
from collections.abc import Sequence

REMEDIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), remedy)
    for pattern, remedy in (
        (
            r"account.*archived|archived.*account",
            "Pick an active account for this line type on the mapping page, then retry.",
        ),
        (
            r"contact.*archived|archived.*contact",
            'Restore the "Amazon Business" contact in Xero, then retry.',
        ),
        (
            r"lock|closed period|period.*locked",
            "Move the lock date in Xero (Settings → Advanced → Financial settings), then retry.",
        ),
        (
            # Xero refuses a stated TaxAmount on Spend/Receive Money that differs from its own
            # per-line figure: "Tax amount 52.23 is incorrect for INPUT2 tax type, should be
            # 52.28" (xero-node #768). It is not the mapping's fault; a retry re-plans the lines.
            r"tax amount .* is incorrect",
            "Retry: abxero posts the lines again so that Xero computes the VAT itself.",
        ),
        (
            r"tax.*(not|cannot).*(used|applied)|tax type|taxtype",
            "Choose a purchase tax rate allowed on that account on the mapping page, then retry.",
        ),
        (
            r"currency",
            "Add the currency in Xero (Settings → Currencies), then retry.",
        ),
        (
            r"payment.*exceed|amount due|overpay",
            "Check the bill in Xero: something else was already paid against it.",
        ),
        (
            r"enable.*payments|bank account|payments.*account",
            "Map this payment method to a bank or credit-card account, then retry.",
        ),
    )
)


def remedy_for(errors: Sequence[str]) -> str:
    """The first remedy whose pattern matches one of ``errors``; empty when none does."""
    for message in errors:
        for pattern, remedy in REMEDIES:
            if pattern.search(message):
                return remedy
    return ""
