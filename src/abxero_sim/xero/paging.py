"""``page`` / ``pageSize`` the way Xero pages list endpoints."""

from __future__ import annotations

import math
from typing import Any

from abxero_sim.xero.call import Call
from abxero_sim.xero.state import Record

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_of(call: Call, items: list[Record]) -> tuple[list[Record], dict[str, Any]]:
    """The requested page (all items when no page is asked for) and the pagination block."""
    if "page" not in call.query:
        return items, {}
    try:
        page = max(1, int(call.query["page"]))
        size = min(MAX_PAGE_SIZE, max(1, int(call.query.get("pageSize", DEFAULT_PAGE_SIZE))))
    except ValueError:
        page, size = 1, DEFAULT_PAGE_SIZE
    start = (page - 1) * size
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": math.ceil(len(items) / size),
        "itemCount": len(items),
    }
    return items[start : start + size], {"pagination": pagination}
