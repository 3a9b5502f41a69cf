"""Fixtures: the paired two-organisation world of the end-to-end harness, on SQLite or on both
database backends, and helpers that post a stretch of history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, running_harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """The world on a SQLite ledger (most faults do not depend on the backend)."""
    with running_harness(tmp_path, f"sqlite:///{tmp_path / 'abxero.db'}") as world:
        yield world


@pytest.fixture
def any_db_harness(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    """The world on each database backend."""
    with running_harness(tmp_path, database_url) as world:
        yield world
