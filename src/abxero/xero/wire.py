"""JSON with exact decimals (never floats) and Xero's ``/Date(ms+0000)/`` dates."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from abxero.domain import jsontext

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def encode_json(value: Any) -> bytes:
    """Serialise a JSON-able payload; Decimals are written digit for digit."""
    return jsontext.dumps(value, sort_keys=False).encode()


def decode_json(raw: bytes | str) -> Any:
    """Parse a response, every non-integer number as Decimal."""
    return json.loads(raw, parse_float=Decimal)


def parse_xero_datetime(value: Any) -> datetime | None:
    """``/Date(ms+0000)/`` or ISO text as an aware datetime; None otherwise."""
    if not isinstance(value, str):
        return None
    found = _MS_DATE.match(value)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_xero_date(value: Any) -> date | None:
    moment = parse_xero_datetime(value)
    return moment.date() if moment else None
