"""The import rules of ARCHITECTURE.md hold: import-linter checks the contracts of pyproject.toml.

import-linter (a dev dependency, pinned in requirements.lock) reads ``[tool.importlinter]``; a
broken contract fails here with the offending import chain in the output. The second test
proves the check can fail at all, on a contract the code is known to break.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import importlinter  # noqa: F401 - a dev dependency; without it this module fails, never skips

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "domain imports nothing else of abxero",
    "the product never imports the simulators",
    "web over services over sync and store",
}


LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))"
)


def run(config: Path) -> subprocess.CompletedProcess[str]:
    """import-linter in its own process (it configures logging), over this checkout's src."""
    paths = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return subprocess.run(
        [sys.executable, "-c", LINT, str(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_contract_is_declared() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {contract["name"] for contract in settings["tool"]["importlinter"]["contracts"]}
    assert declared == CONTRACTS


def test_the_import_contracts_hold() -> None:
    done = run(ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout


def test_a_broken_contract_fails(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["abxero", "abxero_sim"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "the simulators never import the product"\n'
        'type = "forbidden"\n'
        'source_modules = ["abxero_sim"]\n'
        'forbidden_modules = ["abxero"]\n',
        encoding="utf-8",
    )
    done = run(config)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the simulators never import the product BROKEN" in done.stdout
    assert "abxero_sim.demo -> abxero" in done.stdout
