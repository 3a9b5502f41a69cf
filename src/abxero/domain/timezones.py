"""Xero's organisation time-zone names (Windows style) and the IANA zones they stand for."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

XERO_TIMEZONES: dict[str, str] = {
    "ALASKANSTANDARDTIME": "America/Anchorage",
    "ALEUTIANSTANDARDTIME": "America/Adak",
    "ATLANTICSTANDARDTIME": "America/Halifax",
    "AUSCENTRALSTANDARDTIME": "Australia/Darwin",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "CANADACENTRALSTANDARDTIME": "America/Regina",
    "CENAUSTRALIASTANDARDTIME": "Australia/Adelaide",
    "CENTRALEUROPEANSTANDARDTIME": "Europe/Warsaw",
    "CENTRALEUROPESTANDARDTIME": "Europe/Budapest",
    "CENTRALSTANDARDTIME": "America/Chicago",
    "CHINASTANDARDTIME": "Asia/Shanghai",
    "EASTERNSTANDARDTIME": "America/New_York",
    "EAUSTRALIASTANDARDTIME": "Australia/Brisbane",
    "GMTSTANDARDTIME": "Europe/London",
    "GREENWICHSTANDARDTIME": "Atlantic/Reykjavik",
    "HAWAIIANSTANDARDTIME": "Pacific/Honolulu",
    "INDIASTANDARDTIME": "Asia/Kolkata",
    "MOUNTAINSTANDARDTIME": "America/Denver",
    "NEWFOUNDLANDSTANDARDTIME": "America/St_Johns",
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "ROMANCESTANDARDTIME": "Europe/Paris",
    "SINGAPORESTANDARDTIME": "Asia/Singapore",
    "SOUTHAFRICASTANDARDTIME": "Africa/Johannesburg",
    "TASMANIASTANDARDTIME": "Australia/Hobart",
    "TOKYOSTANDARDTIME": "Asia/Tokyo",
    "USEASTERNSTANDARDTIME": "America/Indiana/Indianapolis",
    "USMOUNTAINSTANDARDTIME": "America/Phoenix",
    "UTC": "UTC",
    "WAUSTRALIASTANDARDTIME": "Australia/Perth",
    "WEUROPESTANDARDTIME": "Europe/Berlin",
}


class UnknownTimezone(ValueError):
    """Neither a Xero time-zone name we know nor an IANA zone."""


def iana_timezone(name: str) -> str:
    """The IANA zone for a Xero ``Timezone`` value (IANA names pass through)."""
    cleaned = name.strip()
    known = XERO_TIMEZONES.get(cleaned.upper())
    if known:
        return known
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as problem:
        raise UnknownTimezone(f"time zone {name!r} is not known") from problem
    return cleaned
