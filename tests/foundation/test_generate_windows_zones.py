"""The script that writes the Windows → IANA time-zone table from CLDR's data and tzdata's links."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

from abxero.domain import windows_zones

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_windows_zones.py"


def test_the_script_takes_cldr_zones_resolves_old_names_and_adds_retired_ones(
    tmp_path: Path,
) -> None:
    cldr = tmp_path / "windows_tz.py"
    cldr.write_text(
        "win_tz = {\n"
        '    "India Standard Time": "Asia/Calcutta",\n'
        '    "SA Western Standard Time": "America/La_Paz",\n'
        '    "UTC-02": "Etc/GMT+2",\n'
        "}\n"
    )
    tzdata = tmp_path / "tzdata.zi"
    tzdata.write_text("# version 2099z\nZ Asia/Kolkata 5:30 - IST\nL Asia/Kolkata Asia/Calcutta\n")
    output = tmp_path / "zones.py"
    completed = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(cldr),
            "--tzlocal-version",
            "9.9",
            "--tzdata",
            str(tzdata),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    written = runpy.run_path(str(output))
    assert written["WINDOWS_ZONES"] == {
        "India Standard Time": "Asia/Kolkata",
        "SA Western Standard Time": "America/La_Paz",
        "UTC-02": "Etc/GMT+2",
        "Mid-Atlantic Standard Time": "Etc/GMT+2",
        "Kamchatka Standard Time": "Asia/Kamchatka",
    }
    assert written["SOURCE"] == "CLDR windowsZones.xml via tzlocal 9.9; tzdata 2099z"


def test_the_shipped_table_says_where_it_came_from() -> None:
    assert windows_zones.SOURCE.startswith("CLDR windowsZones.xml via tzlocal ")
    assert "generate_windows_zones.py" in (windows_zones.__doc__ or "")
    assert len(windows_zones.WINDOWS_ZONES) >= 141
