"""JSON with exact decimals (never floats) and Xero's ``/Date(ms+0000)/`` dates."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def encode_json(value: Any) -> bytes:
    """Serialise a JSON-able payload; Decimals are written digit for digit."""
    return _encode(value).encode()


def _encode(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return json.dumps(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} to Xero")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    if isinstance(value, datetime | date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


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
