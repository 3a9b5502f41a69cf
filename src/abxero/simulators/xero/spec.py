"""Checking requests and responses against Xero's official OpenAPI description (openapi-core).

The spec is read at run time from ``ABXERO_XERO_OPENAPI`` or from ``shared/specs/xero/`` beside
the checkout; when it cannot be found, validation is simply off.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_FILE = "xero_accounting.yaml"
SPEC_HOST = "https://api.xero.com"


def find_spec(explicit: str | Path | None = None) -> Path | None:
    """Where ``xero_accounting.yaml`` is, or None."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("ABXERO_XERO_OPENAPI"):
        candidates.append(Path(os.environ["ABXERO_XERO_OPENAPI"]))
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in (start, *start.parents):
            candidates.append(parent / "shared" / "specs" / "xero" / SPEC_FILE)
    return next((path for path in candidates if path.is_file()), None)


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
def _load(path: str) -> Any:
    import yaml
    from jsonschema_path import SchemaPath
    from openapi_core import Config, OpenAPI

    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    return OpenAPI(SchemaPath.from_dict(document), config=Config(spec_validator_cls=None))


class SpecValidator:
    """Validates one exchange at a time against the loaded spec."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._openapi = _load(str(path))

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


def load_validator(path: str | Path | None = None) -> SpecValidator | None:
    """A validator for the spec, or None when the spec file is not there."""
    found = find_spec(path)
    return SpecValidator(found) if found else None
