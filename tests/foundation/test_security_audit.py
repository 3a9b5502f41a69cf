"""The dependency audit never counts an unchecked package as clean (.ci/audit_pypi.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from abxero.web.serving import free_port, served

AUDIT = Path(__file__).resolve().parents[2] / ".ci" / "audit_pypi.py"
RELEASES = {
    ("safe", "1.0"): {"info": {"version": "1.0"}, "vulnerabilities": []},
    ("bad", "1.0"): {
        "info": {"version": "1.0"},
        "vulnerabilities": [{"id": "PYSEC-2099-1", "withdrawn": None}],
    },
}
PROJECTS = {"old": {"info": {"version": "2.0"}, "vulnerabilities": []}}


def fake_pypi() -> Starlette:
    """PyPI's JSON API shape: per release, and per project (the latest release)."""

    async def release(request: Request) -> Response:
        key = (request.path_params["name"], request.path_params["version"])
        return JSONResponse(RELEASES[key]) if key in RELEASES else Response(status_code=404)

    async def project(request: Request) -> Response:
        name = request.path_params["name"]
        return JSONResponse(PROJECTS[name]) if name in PROJECTS else Response(status_code=404)

    return Starlette(
        routes=[
            Route("/pypi/{name}/{version}/json", release),
            Route("/pypi/{name}/json", project),
        ]
    )


def audit(lock: Path, index: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AUDIT), str(lock), index],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unreachable_advisories_are_reported_as_not_verified(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("safe==1.0\nold==1.0 \\\n    --hash=sha256:00\n# a comment\n")
    result = audit(lock, f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 0
    assert "dependencies NOT verified: 2 of 2 packages unchecked" in result.stdout


def test_an_advisory_fails_and_an_unknown_version_is_counted_unchecked(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("safe==1.0\nbad==1.0\nold==1.0\n")
    with served(fake_pypi()) as index:
        result = audit(lock, index.url)
    assert result.returncode == 1
    assert "VULNERABLE bad==1.0: PYSEC-2099-1" in result.stdout
    assert "dependencies NOT verified: 1 of 3 packages unchecked (old==1.0)" in result.stdout


def test_all_checked_and_clean_passes(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("safe==1.0\n")
    with served(fake_pypi()) as index:
        result = audit(lock, index.url)
    assert result.returncode == 0
    assert "all 1 pinned packages checked" in result.stdout
