"""Xero's organisation time-zone names (Windows style) and the IANA zones they stand for.

Xero's ``Organisation.Timezone`` is a Windows time-zone name upper-cased with spaces, dots and
hyphens dropped: "SA Western Standard Time" arrives as ``SAWESTERNSTANDARDTIME``, "UTC-02" as
``UTC02``, "Central Standard Time (Mexico)" as ``CENTRALSTANDARDTIME(MEXICO)`` (the ``TimeZone``
enum of Xero's Accounting API spec). The Windows → IANA table is generated from CLDR, see
:mod:`abxero.domain.windows_zones`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from abxero.domain.windows_zones import WINDOWS_ZONES

FALLBACK = "UTC"
_DROPPED = re.compile(r"[\s.\-]")


def xero_name(windows_name: str) -> str:
    """How Xero spells a Windows time-zone name."""
    return _DROPPED.sub("", windows_name).upper()


XERO_TIMEZONES: dict[str, str] = {xero_name(name): zone for name, zone in WINDOWS_ZONES.items()}


class UnknownTimezone(ValueError):
    """Neither a Xero time-zone name we know nor an IANA zone."""


def iana_timezone(name: str) -> str:
    """The IANA zone for a Xero ``Timezone`` value (IANA names pass through)."""
    cleaned = name.strip()
    known = XERO_TIMEZONES.get(xero_name(cleaned))
    if known:
        return known
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as problem:
        raise UnknownTimezone(f"time zone {name!r} is not known") from problem
    return cleaned


@dataclass(frozen=True)
class ResolvedTimezone:
    """The zone dates are computed in, and a note when it is a fallback."""

    zone: str
    note: str = ""


def resolve_timezone(name: str) -> ResolvedTimezone:
    """Like :func:`iana_timezone`, but an unknown name falls back to UTC with a note."""
    try:
        return ResolvedTimezone(iana_timezone(name))
    except UnknownTimezone:
        return ResolvedTimezone(
            FALLBACK,
            f"Xero's time zone {name.strip()!r} for this organisation is not known to abxero, "
            "so transaction dates are taken in UTC; a purchase made close to midnight may be "
            "dated a day earlier or later than in the organisation's own time.",
        )
