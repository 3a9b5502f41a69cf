"""The planning thread stays a few pages ahead of the poster (``sync/pipeline.py``)."""

from __future__ import annotations

import threading
from typing import Any, cast

from abxero.domain.context import OrgContext
from abxero.sync.pipeline import AHEAD_PAGES, Ahead

CONTEXT = cast(OrgContext, object())


def _planner(ahead: Ahead) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(ahead.planning_context()), daemon=True)
    thread.start()
    return thread, got


def test_the_planner_waits_once_it_is_a_few_pages_ahead_until_the_poster_runs_dry() -> None:
    ahead = Ahead(None)
    ahead.start_planning(CONTEXT)
    for _ in range(AHEAD_PAGES - 1):
        assert ahead.planning_context() is CONTEXT
        ahead.planned.set()
    assert ahead.planning_context() is CONTEXT  # still within the bound
    ahead.planned.set()
    thread, got = _planner(ahead)
    thread.join(0.5)
    assert thread.is_alive()  # the poster has not caught up
    assert not got
    ahead.planned.clear()
    ahead.planned.wait(0.01)  # the poster found no full batch: it has caught up
    thread.join(5)
    assert got == [CONTEXT]


def test_a_stopped_or_failed_poster_never_leaves_the_planner_waiting() -> None:
    for end in ("stop", "give_up"):
        ahead = Ahead(None)
        ahead.start_planning(CONTEXT)
        for _ in range(AHEAD_PAGES):
            ahead.planned.set()
        thread, got = _planner(ahead)
        thread.join(0.3)
        assert thread.is_alive()
        if end == "stop":
            ahead.stop()
        else:
            ahead.start_planning(None)  # the poster failed: fetch the rest, plan nothing
        thread.join(5)
        assert got == [None]
