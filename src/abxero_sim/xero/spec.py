"""Checking requests and responses against Xero's official OpenAPI description (openapi-core).

The spec is read at run time from the specs folder (``abxero_sim.specs``: ``$ABXERO_SPECS_DIR``,
else ``shared/specs`` beside the checkout); when it is not there, loading raises ``SpecsMissing``
naming the path; a caller that wants no validation says so (``validate_spec=False``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from abxero_sim.specs import SpecsMissing, xero_spec_path

SPEC_HOST = "https://api.xero.com"


def find_spec(explicit: str | Path | None = None) -> Path:
    """``explicit`` when given, else the specs folder's ``xero/xero_accounting.yaml``.

    Raises :class:`~abxero_sim.specs.SpecsMissing` when the file is not there.
    """
    if explicit is None:
        return xero_spec_path()
    path = Path(explicit)
    if not path.is_file():
        raise SpecsMissing(f"Xero's OpenAPI description not found at {path} (given explicitly)")
    return path


@dataclass(frozen=True)
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: Any

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass(frozen=True)
class _Response:
    data: bytes
    status_code: int
    content_type: str
    headers: Mapping[str, str]


@lru_cache(maxsize=2)
def _document(path: str) -> dict[str, Any]:
    import yaml

    with open(path, encoding="utf-8") as handle:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document: dict[str, Any] = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    return document


@lru_cache(maxsize=2)
def _load(path: str) -> Any:
    from jsonschema_path import SchemaPath
    from openapi_core import Config, OpenAPI

    return OpenAPI(SchemaPath.from_dict(_document(path)), config=Config(spec_validator_cls=None))


API_PREFIX = "/api.xro/2.0"


class _ReadOnlyWalker:
    """Finds the request-body properties the spec marks ``readOnly`` (resolving ``$ref``)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        self._index: dict[tuple[str, int], list[tuple[list[str], dict[str, Any]]]] | None = None

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            target: Any = self._document
            for part in str(schema["$ref"]).lstrip("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            schema, seen = target, seen + 1
        return schema if isinstance(schema, dict) else {}

    def body_schema(self, method: str, path: str) -> dict[str, Any] | None:
        """The JSON request-body schema of the operation ``method path``, if any."""
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        wanted = [p for p in relative.split("/") if p]
        for parts, schema in self._bodies().get((method.lower(), len(wanted)), []):
            if all(t == w or t.startswith("{") for t, w in zip(parts, wanted, strict=True)):
                return schema
        return None

    def _bodies(self) -> dict[tuple[str, int], list[tuple[list[str], dict[str, Any]]]]:
        """Request-body schemas by (method, number of path segments), built once."""
        if self._index is None:
            self._index = {}
            for template, operations in self._document.get("paths", {}).items():
                parts = [p for p in template.split("/") if p]
                for method, operation in (operations or {}).items():
                    if not isinstance(operation, dict) or "requestBody" not in operation:
                        continue
                    content = self.resolve(operation["requestBody"]).get("content", {})
                    schema = content.get("application/json", {}).get("schema")
                    if schema:
                        entry = (parts, self.resolve(schema))
                        self._index.setdefault((method, len(parts)), []).append(entry)
        return self._index

    def strip(self, schema: dict[str, Any], value: Any, where: str, dropped: list[str]) -> Any:
        """``value`` without the read-only properties of ``schema``; names go into ``dropped``."""
        if isinstance(value, list):
            items = self.resolve(schema.get("items", {}))
            return [self.strip(items, item, f"{where}[]", dropped) for item in value]
        if not isinstance(value, dict):
            return value
        properties = schema.get("properties", {})
        kept: dict[str, Any] = {}
        for name, item in value.items():
            declared = properties.get(name)
            if declared is None:
                kept[name] = item
                continue
            resolved = self.resolve(declared)
            if declared.get("readOnly") or resolved.get("readOnly"):
                dropped.append(f"{where}.{name}".lstrip("."))
                continue
            kept[name] = self.strip(resolved, item, f"{where}.{name}", dropped)
        return kept


class SpecValidator:
    """Validates one exchange at a time against the loaded spec."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._openapi = _load(str(path))
        self._walker = _ReadOnlyWalker(_document(str(path)))

    def without_read_only(self, method: str, path: str, payload: Any) -> tuple[Any, list[str]]:
        """``payload`` minus the properties the spec marks ``readOnly``, and their paths.

        Xero ignores read-only properties on input; the official SDKs send some of them
        (xero-python writes ``"HasAttachments": false`` on every Invoice and BankTransaction),
        so a strict request validator must not refuse them.
        """
        schema = self._walker.body_schema(method, path)
        if schema is None:
            return payload, []
        dropped: list[str] = []
        return self._walker.strip(schema, payload, "", dropped), dropped

    def _request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> _Request:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
            path={},
        )
        return _Request(SPEC_HOST, path, method.lower(), body or None, content_type, parameters)

    def request_errors(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str,
    ) -> list[str]:
        """Why the spec rejects this request (empty when it accepts it)."""
        from openapi_core.validation.request.exceptions import SecurityValidationError

        request = self._request(method, path, query, headers, body, content_type)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._openapi.validate_request(request)
        except SecurityValidationError:
            return []
        except Exception as error:  # openapi-core raises many validation types
            return _messages(error)
        return []

    def response_errors(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        status: int,
        body: bytes,
        content_type: str,
    ) -> list[str]:
        """Why the spec rejects this response to this request (empty when it accepts it)."""
        request = self._request(method, path, query, headers, b"", "application/json")
        response = _Response(body, status, content_type, {"Content-Type": content_type})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._openapi.validate_response(request, response)
        except Exception as error:  # openapi-core raises many validation types
            return _messages(error)
        return []


def _messages(error: Exception) -> list[str]:
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None)
    if details:
        return [f"{error}: {getattr(d, 'message', d)}" for d in details]
    return [f"{type(error).__name__}: {error}" + (f" ({cause})" if cause else "")]


def load_validator(path: str | Path | None = None) -> SpecValidator:
    """A validator for the spec (see :func:`find_spec`; raises ``SpecsMissing`` without it)."""
    return SpecValidator(find_spec(path))
