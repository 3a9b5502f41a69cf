"""Every time zone Xero can name maps to a real IANA zone; an unknown one falls back to UTC.

The names are the ``TimeZone`` enum of Xero's official Accounting API spec
(``shared/specs/xero/xero_accounting.yaml``, components.schemas.TimeZone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from abxero.domain.timezones import XERO_TIMEZONES, iana_timezone, resolve_timezone, xero_name
from abxero_sim.xero.spec import find_spec
from tests.context_json import context_from_json


def spec_timezones() -> list[str]:
    path = find_spec()  # SpecsMissing (path and ABXERO_SPECS_DIR) when it is not there
    with path.open() as handle:
        document = yaml.safe_load(handle)
    names: list[str] = document["components"]["schemas"]["TimeZone"]["enum"]
    return names


def test_every_timezone_in_xeros_spec_maps_to_a_loadable_zone() -> None:
    names = spec_timezones()
    assert len(names) > 100
    unmapped = [name for name in names if name not in XERO_TIMEZONES]
    assert unmapped == []
    for name in names:
        ZoneInfo(iana_timezone(name))


@pytest.mark.parametrize(
    ("xero", "zone"),
    [
        ("SAWESTERNSTANDARDTIME", "America/La_Paz"),
        ("WESTPACIFICSTANDARDTIME", "Pacific/Port_Moresby"),
        ("EEUROPESTANDARDTIME", "Europe/Chisinau"),
        ("YUKONSTANDARDTIME", "America/Whitehorse"),
        ("INDIASTANDARDTIME", "Asia/Kolkata"),
        ("CENTRALSTANDARDTIME(MEXICO)", "America/Mexico_City"),
        ("UTC02", "Etc/GMT+2"),
        ("UTC+12", "Etc/GMT-12"),
        ("MIDATLANTICSTANDARDTIME", "Etc/GMT+2"),
        ("KAMCHATKASTANDARDTIME", "Asia/Kamchatka"),
    ],
)
def test_windows_names_spelled_the_xero_way(xero: str, zone: str) -> None:
    assert iana_timezone(xero) == zone


def test_xero_spelling_drops_spaces_dots_and_hyphens() -> None:
    assert xero_name("E. South America Standard Time") == "ESOUTHAMERICASTANDARDTIME"
    assert xero_name("UTC-11") == "UTC11"
    assert xero_name("Pacific Standard Time (Mexico)") == "PACIFICSTANDARDTIME(MEXICO)"


def test_an_iana_name_passes_through() -> None:
    assert iana_timezone("America/Chicago") == "America/Chicago"


def test_an_unknown_timezone_falls_back_to_utc_with_a_note() -> None:
    context = context_from_json(_organisation("MARSSTANDARDTIME"), [], [], [], [], "c")
    assert context.timezone == "UTC"
    assert len(context.notes) == 1
    assert "MARSSTANDARDTIME" in context.notes[0]
    assert "UTC" in context.notes[0]
    assert context.local_date(datetime(2026, 4, 1, 23, 30, tzinfo=UTC)) == date(2026, 4, 1)


def test_a_known_timezone_leaves_no_note() -> None:
    assert resolve_timezone("SAWESTERNSTANDARDTIME").note == ""
    context = context_from_json(_organisation("WESTPACIFICSTANDARDTIME"), [], [], [], [], "c")
    assert context.notes == ()
    assert context.local_date(datetime(2026, 4, 1, 15, 0, tzinfo=UTC)) == date(2026, 4, 2)


def _organisation(timezone: str) -> dict[str, str]:
    return {"OrganisationID": "org-1", "Name": "Test", "BaseCurrency": "USD", "Timezone": timezone}
