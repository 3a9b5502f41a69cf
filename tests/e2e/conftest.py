"""A paired world per test, on each database backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Harness, running_harness


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    with running_harness(tmp_path, database_url) as world:
        yield world
