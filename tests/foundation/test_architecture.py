"""The import rules of ARCHITECTURE.md hold: import-linter checks the contracts of pyproject.toml.

import-linter (a dev dependency, pinned in requirements.lock) reads ``[tool.importlinter]``; a
broken contract fails here with the offending import chain in the output. The second test
proves the check can fail at all, on a contract the code is known to break.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "domain imports nothing else of abxero",
    "the product never imports the simulators",
    "web over services over sync and store",
}


def run(config: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT / "src"))
    return lint_imports(config_filename=str(config), no_cache=True, no_logo=True)


def test_every_contract_is_declared() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {contract["name"] for contract in settings["tool"]["importlinter"]["contracts"]}
    assert declared == CONTRACTS


def test_the_import_contracts_hold(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(ROOT / "pyproject.toml", monkeypatch)
    output = capsys.readouterr().out
    assert code == 0, output
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in output


def test_a_broken_contract_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
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
    code = run(config, monkeypatch)
    output = capsys.readouterr().out
    assert code == 1, output
    assert "abxero_sim.demo -> abxero" in output
