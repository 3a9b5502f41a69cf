"""Check the pinned dependencies against the advisories PyPI publishes, and say how many could
not be checked.

PyPI's JSON API carries a ``vulnerabilities`` list (from the OSV database) for a release at
``/pypi/<name>/<version>/json``, and for the latest release at ``/pypi/<name>/json``
(https://docs.pypi.org/api/json/). Where neither answers for the pinned version, the package is
counted as unchecked, never as clean. Exit status 1 when any advisory applies, else 0.

Usage: python .ci/audit_pypi.py requirements.lock [index URL, default https://pypi.org]
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
TIMEOUT_SECONDS = 10


@dataclass
class Verdict:
    name: str
    version: str
    checked: bool = False
    advisories: list[str] = field(default_factory=list)


def pins(text: str) -> list[tuple[str, str]]:
    found = []
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def _json(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            data = json.load(answer)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ids(data: dict[str, object]) -> list[str]:
    listed = data.get("vulnerabilities")
    ids = []
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict) and not entry.get("withdrawn"):
            ids.append(str(entry.get("id", "unknown advisory")))
    return ids


def check(index: str, name: str, version: str) -> Verdict:
    verdict = Verdict(name, version)
    release = _json(f"{index}/pypi/{name}/{version}/json")
    if release is not None and "vulnerabilities" in release:
        verdict.checked, verdict.advisories = True, _ids(release)
        return verdict
    project = _json(f"{index}/pypi/{name}/json")
    info = project.get("info") if project else None
    latest = isinstance(info, dict) and info.get("version") == version
    if project and latest and "vulnerabilities" in project:
        verdict.checked, verdict.advisories = True, _ids(project)
    return verdict


def main(argv: list[str]) -> int:
    lock = argv[1] if len(argv) > 1 else "requirements.lock"
    index = (argv[2] if len(argv) > 2 else "https://pypi.org").rstrip("/")
    with open(lock, encoding="utf-8") as handle:
        pinned = pins(handle.read())
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda pin: check(index, *pin), pinned))
    vulnerable = [v for v in verdicts if v.advisories]
    unchecked = [v for v in verdicts if not v.checked]
    for verdict in vulnerable:
        print(f"VULNERABLE {verdict.name}=={verdict.version}: {', '.join(verdict.advisories)}")
    if unchecked:
        names = ", ".join(f"{v.name}=={v.version}" for v in unchecked)
        print(
            f"pypi advisories: dependencies NOT verified: {len(unchecked)} of {len(verdicts)} "
            f"packages unchecked ({names})"
        )
    else:
        print(f"pypi advisories: all {len(verdicts)} pinned packages checked")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
