"""Where the simulators find Xero's and Amazon's published descriptions, and what happens when
they are not there: an error naming the path and ABXERO_SPECS_DIR, never checks quietly off."""

from __future__ import annotations

from pathlib import Path

import pytest

from abxero_sim import amazon as amazon_sim
from abxero_sim import xero as xero_sim
from abxero_sim.specs import (
    SPECS_ENV,
    SpecsMissing,
    amazon_models_dir,
    default_specs_dir,
    specs_dir,
    xero_spec_path,
)

ROOT = Path(__file__).absolute().parents[2]


def test_the_default_is_shared_specs_beside_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPECS_ENV, raising=False)
    assert default_specs_dir() == ROOT.parent / "shared" / "specs"
    assert specs_dir() == default_specs_dir()


def test_the_variable_names_the_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPECS_ENV, str(tmp_path))
    assert specs_dir() == tmp_path


def test_the_test_run_has_the_specs() -> None:
    assert xero_spec_path().name == "xero_accounting.yaml"
    assert (amazon_models_dir() / "reconciliation-2021-01-08.json").is_file()


def test_a_missing_folder_names_the_path_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(SPECS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(SpecsMissing, match=SPECS_ENV) as xero:
        xero_spec_path()
    assert str(tmp_path / "nowhere" / "xero" / "xero_accounting.yaml") in str(xero.value)
    with pytest.raises(SpecsMissing, match=SPECS_ENV) as amazon:
        amazon_models_dir()
    assert str(tmp_path / "nowhere" / "amazon-business") in str(amazon.value)


def test_the_simulators_refuse_to_start_without_them_unless_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(SPECS_ENV, str(tmp_path))
    with pytest.raises(SpecsMissing):
        xero_sim.create_app(seed=1)
    with pytest.raises(SpecsMissing):
        amazon_sim.create_app(1)
    assert xero_sim.create_app(seed=1, validate_spec=False).state.sim.spec is None
    assert not amazon_sim.create_app(1, specs_dir=None).state.sandbox.samples
