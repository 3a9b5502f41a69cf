"""The API plumbing every simulated Amazon Business operation shares.

Each operation goes through :func:`api_endpoint`: scripted faults first, then the
``x-amz-access-token`` check (403 ErrorList), the operation's token bucket (429 ErrorList), the
official static-sandbox samples, and finally the operation itself. Every answer carries
``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from abxero_sim.amazon.businesses import Business, Region
from abxero_sim.amazon.generator import FeedGenerator
from abxero_sim.amazon.sandbox import Sandbox
from abxero_sim.amazon.state import SimulatorState

#: operation -> (requests per second, burst), as Amazon documents them.
RATE_PLANS: dict[str, tuple[float, int]] = {
    "getTransactions": (2.0, 10),
    "getInvoiceDetailsByOrderLineItems": (2.0, 10),
    "getBatchInvoicePaymentDetails": (2.0, 10),
    "createReport": (0.0167, 15),
    "getReports": (0.1, 10),
    "getReport": (2.0, 15),
    "cancelReport": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
}
FAULT_STATUSES = {
    "429": (429, "QuotaExceeded", "You exceeded your quota for the requested resource."),
    "500": (500, "InternalFailure", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Service temporarily unavailable. Please try again."),
    "504": (504, "GatewayTimeout", "The request timed out. Please try again."),
    # Permanent refusals every Document API and Reconciliation operation lists
    # (document-2021-09-30.json, reconciliation-2021-01-08.json: 400, 404, 413, 415).
    "400": (400, "InvalidInput", "Invalid input"),
    "404": (404, "NotFound", "The resource specified does not exist."),
    "413": (413, "RequestEntityTooLarge", "The request size exceeded the maximum accepted size."),
    "415": (415, "UnsupportedMediaType", "The request payload is in an unsupported format."),
}


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised after the response was produced, so the connection closes without it.

    Under uvicorn the client sees the connection drop; in-process (Starlette's TestClient) the
    error surfaces in the caller as the transport error it is.
    """


class DroppingResponse(Response):
    """Starts the response, then loses the connection before the body arrives."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": []})
        raise DroppedConnection("the simulator dropped the connection after the response")


@dataclass(frozen=True)
class ApiContext:
    """What an operation handler gets: the state and the caller's business."""

    request: Request
    state: SimulatorState
    business: Business

    @property
    def generator(self) -> FeedGenerator:
        return self.state.generators[self.business.business_id]


Handler = Callable[[ApiContext], Awaitable[Response]]


def error_response(
    status: int, code: str, message: str, details: str | None = None
) -> JSONResponse:
    error: dict[str, str] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return JSONResponse({"errors": [error]}, status_code=status)


def bad_request(message: str, details: str | None = None) -> JSONResponse:
    return error_response(400, "INVALID_REQUEST_PARAMETER", message, details)


def api_endpoint(
    operation: str, handler: Handler, region: Region | None
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an operation handler with faults, auth, rate limits, sandbox and headers."""

    async def endpoint(request: Request) -> Response:
        state: SimulatorState = request.app.state.sim
        state.requests[operation] += 1
        fault = state.faults.queue.pop(0) if state.faults.queue else ""
        response = await _answer(request, state, operation, handler, region, fault)
        response.headers["x-amzn-RequestId"] = state.request_id()
        # Amazon's own 429s have come without x-amzn-RateLimit-Limit (a raw 429 with only
        # x-amzn-RequestId and x-amzn-ErrorType, github.com/amzn/selling-partner-api-docs
        # issues 86 and 592), so Faults.rate_limit_header can leave it off a 429.
        if response.status_code != 429 or state.faults.rate_limit_header:
            response.headers["x-amzn-RateLimit-Limit"] = str(RATE_PLANS[operation][0])
        if fault == "drop":
            return DroppingResponse(status_code=response.status_code)
        return response

    return endpoint


async def _answer(
    request: Request,
    state: SimulatorState,
    operation: str,
    handler: Handler,
    region: Region | None,
    fault: str,
) -> Response:
    if fault in FAULT_STATUSES:
        return error_response(*FAULT_STATUSES[fault])
    if fault == "slow":
        await asyncio.sleep(state.faults.slow_seconds)
    business = _authorise(request, state, region, expired=fault == "expired")
    if isinstance(business, Response):
        return business
    rate, burst = RATE_PLANS[operation]
    if not state.allow(business.business_id, operation, rate, burst):
        return error_response(*FAULT_STATUSES["429"])
    sandbox: Sandbox = request.app.state.sandbox
    sample = await sandbox.match(request)
    if sample is not None:
        return sample
    return await handler(ApiContext(request, state, business))


def _authorise(
    request: Request, state: SimulatorState, region: Region | None, *, expired: bool
) -> Business | Response:
    token = request.headers.get("x-amz-access-token", "")
    grant = state.grants.get(token)
    if grant is None:
        return error_response(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The x-amz-access-token header is missing or not a valid access token.",
        )
    consent = state.consents.get(grant.refresh_token)
    if consent is not None and consent.revoked:
        return error_response(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The authorization for this application has been revoked.",
        )
    if expired or grant.expires_at <= state.now():
        return error_response(403, "Unauthorized", "The access token you provided has expired.", "")
    business = state.businesses[grant.business_id]
    if region is not None and business.region is not region:
        return error_response(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            f"The access token is for the {business.region.store} store.",
        )
    return business


async def json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is missing or not JSON."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
