"""Where the simulators read Xero's and Amazon's published API descriptions.

The descriptions are not copied into this repository: they live in one folder, ``specs/``, with
``xero/xero_accounting.yaml`` (Xero's OpenAPI description, github.com/XeroAPI/Xero-OpenAPI) and
``amazon-business/*.json`` (Amazon's Business API models). That folder is
``$ABXERO_SPECS_DIR`` when set, else ``shared/specs`` beside the checkout (``<repo>/../shared/
specs``, derived from where this package's source lives, never from the working directory).

A folder or file that is not there raises :class:`SpecsMissing`, naming the path and the
variable; nothing here turns a check off on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

SPECS_ENV = "ABXERO_SPECS_DIR"
XERO_SPEC = Path("xero") / "xero_accounting.yaml"
AMAZON_MODELS = Path("amazon-business")
AMAZON_SPEC_FILES = ("reconciliation-2021-01-08.json", "document-2021-09-30.json")


class SpecsMissing(FileNotFoundError):
    """A published API description the simulators need is not where the settings point."""


def repository_root() -> Path:
    """The checkout that holds ``src/abxero_sim`` (an editable install keeps it there); a
    symlinked checkout counts where the link is, since that is what sits beside ``shared``."""
    return Path(__file__).absolute().parents[2]


def default_specs_dir() -> Path:
    """``shared/specs`` beside the checkout: CI and every worktree put the folder there."""
    return repository_root().parent / "shared" / "specs"


def specs_dir() -> Path:
    """``$ABXERO_SPECS_DIR``, else :func:`default_specs_dir` (neither is checked here)."""
    configured = os.environ.get(SPECS_ENV)
    return Path(configured) if configured else default_specs_dir()


def _missing(what: str, path: Path) -> SpecsMissing:
    origin = f"${SPECS_ENV}" if os.environ.get(SPECS_ENV) else f"the default (${SPECS_ENV} unset)"
    return SpecsMissing(
        f"{what} not found at {path} (specs folder from {origin}); set {SPECS_ENV} to the "
        "folder that holds xero/xero_accounting.yaml and amazon-business/"
    )


def xero_spec_path(folder: Path | None = None) -> Path:
    """Xero's ``xero_accounting.yaml``; raises :class:`SpecsMissing` when it is not there."""
    path = (folder or specs_dir()) / XERO_SPEC
    if not path.is_file():
        raise _missing("Xero's OpenAPI description", path)
    return path


def amazon_models_dir(folder: Path | None = None) -> Path:
    """The folder of Amazon's models; raises :class:`SpecsMissing` when one is not there."""
    path = (folder or specs_dir()) / AMAZON_MODELS
    for name in AMAZON_SPEC_FILES:
        if not (path / name).is_file():
            raise _missing(f"Amazon Business model {name}", path / name)
    return path
