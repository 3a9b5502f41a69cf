"""One Accounting API request as the resource handlers see it, and the replies they give."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from abxero_sim.xero.documents import BuildContext
from abxero_sim.xero.state import Org, Record
from abxero_sim.xero.wire import dumps


@dataclass
class Reply:
    """A handler's answer: status, body bytes, content type, and whether data changed."""

    status: int
    body: bytes
    content_type: str = "application/json"
    wrote: bool = False


@dataclass
class Call:
    """The parsed request a handler works on."""

    method: str
    parts: list[str]
    query: dict[str, str]
    body: bytes
    content_type: str
    org: Org
    ctx: BuildContext
    payload: Any = None
    provider: str = "abxero simulator"
    rollback_failed_batches: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        return default if value is None else value.strip().lower() == "true"

    def envelope(self, plural: str, items: list[Record], **more: Any) -> Reply:
        """Xero's plural-root response envelope."""
        body = {
            "Id": self.ctx.ids.guid("response"),
            "Status": "OK",
            "ProviderName": self.provider,
            "DateTimeUTC": self.ctx.now,
            **more,
            plural: items,
        }
        return Reply(200, dumps(body))


def problem(status: int, title: str, detail: str) -> Reply:
    """A problem-details style error (401/403/404/429 bodies)."""
    return Reply(status, dumps({"Title": title, "Status": status, "Detail": detail}))


def validation_exception(elements: list[Record] | None = None, message: str | None = None) -> Reply:
    """Xero's 400 ValidationException."""
    body: dict[str, Any] = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": message or "A validation exception occurred",
    }
    if elements is not None:
        body["Elements"] = elements
    return Reply(400, dumps(body))


def not_found(what: str) -> Reply:
    return problem(404, "Not Found", f"The resource you're looking for cannot be found ({what})")


def snapshot(org: Org) -> dict[str, Any]:
    """Enough of an organisation to undo a rejected batch."""
    return copy.deepcopy(org.__dict__)


def restore(org: Org, saved: dict[str, Any]) -> None:
    org.__dict__.update(saved)
