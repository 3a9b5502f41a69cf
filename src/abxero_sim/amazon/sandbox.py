"""Amazon's static sandbox: the official sample requests answered with the official responses.

The samples are read at run time from the published models (``x-amzn-api-sandbox`` in
``reconciliation-2021-01-08.json`` and ``document-2021-09-30.json``) in the folder
``abxero_sim.specs`` names; nothing is copied. A request matches a sample only when its
parameters are exactly the sample's (query and path parameters for GET/DELETE, the JSON body
for POST).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from abxero_sim.specs import AMAZON_SPEC_FILES as SPEC_FILES


@dataclass(frozen=True)
class Sample:
    method: str
    path: re.Pattern[str]
    parameters: dict[str, Any]
    status: int
    response: Any


def load_samples(specs_dir: Path | None) -> list[Sample]:
    if specs_dir is None:
        return []
    samples: list[Sample] = []
    for name in SPEC_FILES:
        path = specs_dir / name
        if path.is_file():
            samples.extend(_samples(json.loads(path.read_text(encoding="utf-8"))))
    return samples


def _samples(spec: dict[str, Any]) -> list[Sample]:
    found = []
    for template, operations in spec.get("paths", {}).items():
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                sandbox = answer.get("x-amzn-api-sandbox")
                if not isinstance(sandbox, dict):
                    continue
                for case in sandbox.get("static", []):
                    parameters = case.get("request", {}).get("parameters", {})
                    found.append(
                        Sample(
                            method.upper(), pattern, parameters, int(status), case.get("response")
                        )
                    )
    return found


class Sandbox:
    """Finds the official sample a request is, if any."""

    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples

    async def match(self, request: Request) -> Response | None:
        given = await _given(request)
        for sample in self.samples:
            found = sample.path.match(request.url.path)
            if sample.method != request.method or found is None or not sample.parameters:
                continue
            if _wanted(sample, found.groupdict()) == given | found.groupdict():
                return _answer(sample)
        return None


async def _given(request: Request) -> dict[str, Any]:
    given: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        raw = await request.body()
        try:
            given["body"] = json.loads(raw) if raw else None
        except ValueError:
            given["body"] = raw.decode("utf-8", "replace")
    return given


def _wanted(sample: Sample, path_values: dict[str, str]) -> dict[str, Any]:
    wanted: dict[str, Any] = {}
    for name, spec in sample.parameters.items():
        value = spec.get("value") if isinstance(spec, dict) else spec
        wanted[name] = ",".join(value) if isinstance(value, list) else value
    return {**path_values, **wanted}


def _answer(sample: Sample) -> Response:
    if sample.response is None:
        return Response(status_code=sample.status)
    return JSONResponse(sample.response, status_code=sample.status)
