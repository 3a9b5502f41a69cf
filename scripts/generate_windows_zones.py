"""Write ``src/abxero/domain/windows_zones.py``: Windows time-zone names → IANA zones.

Xero names an organisation's time zone by its Windows name, upper-cased without spaces (the
``TimeZone`` enum of the Accounting API spec, e.g. ``SAWESTERNSTANDARDTIME``). The maintained
mapping from Windows names to IANA zones is Unicode CLDR's ``windowsZones.xml`` (the zone for
territory ``001`` of each Windows name). tzlocal ships it, regenerated from CLDR, as
``tzlocal/windows_tz.py`` (``win_tz``); this script reads that module, replaces CLDR's stable
but deprecated zone names (``Asia/Calcutta``) by the current IANA names (``Asia/Kolkata``) using
the link lines of tzdata's ``tzdata.zi``, and adds the two zones Windows still lists as
"- Old" but CLDR no longer maps.

Usage (from the repository root)::

    pip download tzlocal --no-deps -d /tmp/tzlocal && unzip -o /tmp/tzlocal/*.whl -d /tmp/tzlocal
    python scripts/generate_windows_zones.py /tmp/tzlocal/tzlocal/windows_tz.py \
        --tzlocal-version 5.4.5 [--tzdata /usr/share/zoneinfo/tzdata.zi]
"""

from __future__ import annotations

import argparse
import json
import runpy
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "abxero" / "domain" / "windows_zones.py"

RETIRED = {
    # Windows: "(UTC-02:00) Mid-Atlantic - Old"; CLDR maps UTC-02:00 ("UTC-02") to Etc/GMT+2.
    "Mid-Atlantic Standard Time": "Etc/GMT+2",
    # Windows: "(UTC+12:00) Petropavlovsk-Kamchatsky - Old"; CLDR's "Russia Time Zone 11"
    # (the same place today) maps to Asia/Kamchatka.
    "Kamchatka Standard Time": "Asia/Kamchatka",
}


def tzdata_links(tzdata_zi: Path) -> tuple[str, dict[str, str]]:
    """tzdata's version and its links, old name → current name."""
    version, links = "", {}
    for line in tzdata_zi.read_text().splitlines():
        if line.startswith("# version "):
            version = line.removeprefix("# version ").strip()
        elif line.startswith("L "):
            _, target, name = line.split()
            links[name] = target
    return version, links


def current_name(zone: str, links: dict[str, str]) -> str:
    seen = {zone}
    while zone in links and links[zone] not in seen:
        zone = links[zone]
        seen.add(zone)
    return zone


def render(mapping: dict[str, str], tzlocal_version: str, tzdata_version: str) -> str:
    rows = "\n".join(
        f"    {json.dumps(name)}: {json.dumps(zone)}," for name, zone in sorted(mapping.items())
    )
    return (
        '"""Windows time-zone names and the IANA zone each stands for. Generated: do not edit.\n'
        "\n"
        "Source: Unicode CLDR windowsZones.xml (territory 001), as shipped in tzlocal "
        f"{tzlocal_version}\n"
        "(tzlocal/windows_tz.py); deprecated zone names replaced by current ones with the links "
        f"of\ntzdata {tzdata_version}; retired Windows zones added by "
        "scripts/generate_windows_zones.py, which\nwrote this file.\n"
        '"""\n'
        "\n"
        "from __future__ import annotations\n"
        "\n"
        f'SOURCE = "CLDR windowsZones.xml via tzlocal {tzlocal_version}; tzdata {tzdata_version}"\n'
        "\n"
        "WINDOWS_ZONES: dict[str, str] = {\n"
        f"{rows}\n"
        "}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("windows_tz", type=Path, help="tzlocal's windows_tz.py")
    parser.add_argument("--tzlocal-version", required=True)
    parser.add_argument("--tzdata", type=Path, default=Path("/usr/share/zoneinfo/tzdata.zi"))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args()
    cldr: dict[str, str] = runpy.run_path(str(arguments.windows_tz))["win_tz"]
    tzdata_version, links = tzdata_links(arguments.tzdata)
    mapping = {name: current_name(zone, links) for name, zone in {**RETIRED, **cldr}.items()}
    arguments.output.write_text(render(mapping, arguments.tzlocal_version, tzdata_version))
    print(f"wrote {len(mapping)} zones to {arguments.output}")


if __name__ == "__main__":
    main()
