"""JSON text with exact decimals: ``Decimal`` is written as a number literal, never a float.

The ledger stores the exact text it sends to Xero, so a resend with the same Idempotency-Key
repeats the request byte for byte; the Xero client writes its requests with the same function.
Reading back parses numbers with a fraction as ``Decimal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any


def dumps(value: Any, *, sort_keys: bool = True) -> str:
    """JSON text without spaces, decimals written exactly; keys sorted unless told otherwise."""
    parts: list[str] = []
    _write(value, parts, sort_keys)
    return "".join(parts)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


#: What ``json.dumps(text, ensure_ascii=False)`` writes for a string, without its set-up cost
#: (this writer runs for every stored record and every planned document).
_string = encode_basestring
_LITERALS = {True: "true", False: "false"}


def _write(value: Any, out: list[str], sort_keys: bool) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append(_LITERALS[value])
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    elif isinstance(value, datetime | date):
        out.append(json.dumps(value.isoformat()))
    elif isinstance(value, Mapping):
        _write_object(value, out, sort_keys)
    elif isinstance(value, Sequence):
        _write_array(value, out, sort_keys)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_object(value: Mapping[Any, Any], out: list[str], sort_keys: bool) -> None:
    out.append("{")
    names = sorted(value, key=str) if sort_keys else list(value)
    for index, name in enumerate(names):
        if index:
            out.append(",")
        out.append(_string(str(name)))
        out.append(":")
        _write(value[name], out, sort_keys)
    out.append("}")


def _write_array(value: Sequence[Any], out: list[str], sort_keys: bool) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _write(item, out, sort_keys)
    out.append("]")
