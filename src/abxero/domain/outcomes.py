"""Signals raised inside planning and turned into a Held or Quarantined plan at its edge."""

from __future__ import annotations

from abxero.domain.plan import HoldCode


class PlanningHold(Exception):
    """The mapping or the organisation stops this transaction until the user acts."""

    def __init__(self, code: HoldCode, message: str, remedy: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.remedy = remedy


class BadData(Exception):
    """The Amazon data itself cannot be posted faithfully."""
