"""How the simulator writes JSON the way Xero does: exact decimals and ``/Date(ms+0000)/``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms_date(value: date | datetime) -> str:
    """``/Date(ms+0000)/`` for a date (midnight UTC) or an aware datetime."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time(), UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def parse_date(value: object) -> date | None:
    """A request date: ``YYYY-MM-DD``, an ISO datetime or ``/Date(ms)/``; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    found = _MS_DATE.match(value)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def to_decimal(value: object) -> Decimal | None:
    """A JSON number (or numeric string) as Decimal; None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return ms_date(value)
    return value


class _DecimalEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:  # pragma: no cover - only reached for Decimal
        raise TypeError(f"cannot encode {type(o).__name__}")


def dumps(document: Any) -> bytes:
    """JSON bytes with decimals written exactly and dates in Xero's format."""
    text = _encode(_plain(document))
    return text.encode()


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        inner = ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    return json.dumps(value, cls=_DecimalEncoder)


def loads(raw: bytes) -> Any:
    """Parse request JSON keeping every number as Decimal."""
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)
