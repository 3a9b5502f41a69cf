"""What one run did (``SyncReport``): counted as it goes, shown on its progress bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field


@dataclass
class SyncReport:
    """What one run did; also what progress callbacks see while it runs."""

    kind: str
    fetched: int = 0
    new: int = 0
    unchanged: int = 0
    updated: int = 0
    flagged: int = 0
    planned: int = 0
    held: int = 0
    quarantined: int = 0
    skipped: int = 0
    documents_posted: int = 0
    documents_failed: int = 0
    windows_done: int = 0
    windows_total: int = 0
    posting: bool = False
    error: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if isinstance(value, int)}


Progress = Callable[[SyncReport], None]


def percent(report: SyncReport) -> int:
    if not report.windows_total:
        return 0
    return min(99, report.windows_done * 100 // report.windows_total)
