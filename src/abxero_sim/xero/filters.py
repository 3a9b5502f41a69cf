"""The subset of Xero's ``where`` expressions the simulator understands.

Supported: ``Field == value``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, dotted paths such as
``Contact.ContactID``, values as "strings", ``Guid("...")``, ``DateTime(y,m,d)``, numbers,
``true``/``false``, joined with ``AND`` / ``OR`` (AND binds tighter), and the string methods
``Field.Contains("x")``, ``Field.StartsWith("x")``, ``Field.EndsWith("x")`` (Xero's "Requests and
responses" guide, https://developer.xero.com/documentation/api/requests-and-responses, as quoted
by https://linx.software/docs/reference/plugins/xero/filters/where/ and
https://help.coupler.io/article/237-how-to-use-where-parameter-in-xero-importer).
Strings compare case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_TERM = re.compile(
    r"""\s*(?P<path>[A-Za-z][\w.]*)\s*(?P<op>==|!=|<=|>=|<|>)\s*
    (?P<value>"[^"]*"|Guid\("[^"]*"\)|DateTime\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)|true|false|-?\d+(?:\.\d+)?)\s*""",
    re.VERBOSE | re.IGNORECASE,
)


_METHOD = re.compile(
    r"""\s*(?P<path>[A-Za-z][\w.]*)\.(?P<method>Contains|StartsWith|EndsWith)\(\s*"(?P<value>[^"]*)"\s*\)\s*""",
    re.IGNORECASE,
)
_METHODS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, part: part in text,
    "startswith": lambda text, part: text.startswith(part),
    "endswith": lambda text, part: text.endswith(part),
}


class WhereError(ValueError):
    """The expression is outside the supported subset."""


def _value(text: str) -> Any:
    lowered = text.lower()
    if text.startswith('"'):
        return text[1:-1]
    if lowered.startswith("guid("):
        return text[6:-2]
    if lowered.startswith("datetime("):
        year, month, day = (int(p) for p in text[9:-1].split(","))
        return date(year, month, day)
    if lowered in {"true", "false"}:
        return lowered == "true"
    return Decimal(text)


def _lookup(record: dict[str, Any], path: str) -> Any:
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    left, right = _normal(actual), _normal(expected)
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or type(left) is not type(right):
        return False
    checks = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}
    return bool(checks[op])


def _method_term(text: str) -> Predicate | None:
    found = _METHOD.fullmatch(text)
    if not found:
        return None
    test, part = _METHODS[found["method"].lower()], found["value"].lower()
    path = found["path"]

    def matches(record: dict[str, Any]) -> bool:
        value = _lookup(record, path)
        return isinstance(value, str) and test(value.lower(), part)

    return matches


def _term(text: str) -> Predicate:
    method = _method_term(text)
    if method is not None:
        return method
    found = _TERM.fullmatch(text)
    if not found:
        raise WhereError(f"unsupported where term: {text.strip()}")
    path, op, expected = found["path"], found["op"], _value(found["value"])
    return lambda record: _compare(_lookup(record, path), op, expected)


def parse_where(expression: str | None) -> Predicate:
    """A predicate for ``expression`` (everything matches when it is empty)."""
    if not expression or not expression.strip():
        return lambda record: True
    alternatives = []
    for branch in re.split(r"\s+OR\s+", expression, flags=re.IGNORECASE):
        terms = [_term(t) for t in re.split(r"\s+AND\s+", branch, flags=re.IGNORECASE)]
        alternatives.append(terms)
    return lambda record: any(all(term(record) for term in terms) for terms in alternatives)
