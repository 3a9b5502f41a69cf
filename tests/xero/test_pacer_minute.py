"""The in-process pacer's minute: a sliding window, corrected by Xero's remaining-calls header.

Xero allows 60 calls a minute per organisation and says what is left in
``X-MinLimit-Remaining`` on every answer (docs/xero-api.md §2.1, developer.xero.com/faq/limits).
"""

from __future__ import annotations

from abxero.xero import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _call(pacer: Pacer, clock: Clock, remaining: int, took: float = 0.5) -> None:
    with pacer.slot("t"):
        clock.now += took
    pacer.observe("t", {"x-minlimit-remaining": str(remaining)})


def test_a_used_up_minute_of_our_own_calls_waits_only_for_the_window() -> None:
    """Three calls spread over 40 s use up a limit of 3: the fourth goes a minute after the
    first was answered, not a minute after the third (the old hold lost 40 s each minute)."""
    clock = Clock()
    pacer = Pacer(per_minute=3, monotonic=clock.monotonic, sleep=clock.sleep)
    for remaining in (2, 1, 0):
        _call(pacer, clock, remaining)
        clock.now += 19.5
    # answered at 1000.5, 1020.5, 1040.5; now 1060.0
    with pacer.slot("t"):
        assert clock.now == 1060.5
    assert clock.sleeps == [0.5]


def test_calls_xero_counted_that_were_not_ours_hold_a_used_up_minute() -> None:
    """One call of ours, but Xero says none are left: someone else used the rest of its
    window, whose end we cannot know, so the tenant waits a whole minute from now."""
    clock = Clock()
    pacer = Pacer(per_minute=3, monotonic=clock.monotonic, sleep=clock.sleep)
    _call(pacer, clock, remaining=0)
    with pacer.slot("t"):
        assert clock.now == 1060.5


def test_calls_counted_elsewhere_fill_the_window_from_now() -> None:
    """Xero counted one more call than ours: it takes a place in the window until a minute
    from when we learnt of it."""
    clock = Clock()
    pacer = Pacer(per_minute=3, monotonic=clock.monotonic, sleep=clock.sleep)
    _call(pacer, clock, remaining=1)  # ours at 1000.5, one more counted at 1000.5
    clock.now += 10
    _call(pacer, clock, remaining=0)  # ours at 1011.0: Xero counted exactly these three
    with pacer.slot("t"):
        assert clock.now == 1060.5
