"""JSON text with exact decimals: ``Decimal`` is written as a number literal, never a float.

What the ledger stores is the exact text it sends to Xero, so a resend with the same
Idempotency-Key repeats the request byte for byte. Reading back parses numbers with a
fraction as ``Decimal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    """Canonical JSON text (sorted keys, no spaces) with decimals written exactly."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, bool) or value is None:
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, int | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in ledger JSON; use Decimal")
    elif isinstance(value, Mapping):
        _write_object(value, out)
    elif isinstance(value, Sequence):
        _write_array(value, out)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_object(value: Mapping[Any, Any], out: list[str]) -> None:
    out.append("{")
    for index, name in enumerate(sorted(value, key=str)):
        if index:
            out.append(",")
        out.append(json.dumps(str(name), ensure_ascii=False))
        out.append(":")
        _write(value[name], out)
    out.append("}")


def _write_array(value: Sequence[Any], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _write(item, out)
    out.append("]")
