"""The test-only ``/_sim/`` routes (documented in the package docstring)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from abxero_sim.amazon.shapes import shape_errors
from abxero_sim.amazon.state import Faults, SimulatorState

FAULT_FIELDS = set(Faults().as_json())


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"__invalid__": True}


def _sim(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.sim
    return state


def _problem(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def describe(state: SimulatorState) -> dict[str, Any]:
    return {
        "seed": state.seed,
        "now": state.now().isoformat(),
        "application": {
            "application_id": state.registration.application_id,
            "client_id": state.registration.client_id,
            "redirect_uris": list(state.registration.redirect_uris),
        },
        "businesses": [
            {
                "business_id": b.business_id,
                "name": b.name,
                "region": b.region.value,
                "store": b.region.store,
                "marketplace_id": b.marketplace_id,
                "currency": b.currency,
                "legal_entities": [entity.name for entity in b.legal_entities],
                "instruments": [{"kind": m.kind, "last4": m.last4} for m in b.instruments],
                "history_start": state.generators[b.business_id].start.isoformat(),
                "orders_per_day": b.orders_per_day,
                "added_transactions": len(state.added[b.business_id]),
            }
            for b in state.businesses.values()
        ],
        "consents": [
            {"business_id": c.business_id, "revoked": c.revoked} for c in state.consents.values()
        ],
        "codes_issued": len(state.codes),
        "access_tokens_issued": len(state.grants),
        "reports": len(state.reports),
        "requests": dict(state.requests),
        "faults": state.faults.as_json(),
        "shapes": state.shapes.as_json(),
    }


async def get_state(request: Request) -> Response:
    return JSONResponse(describe(_sim(request)))


async def reset(request: Request) -> Response:
    body = await _body(request)
    seed = body.get("seed")
    if seed is not None and not isinstance(seed, int):
        return _problem("seed must be an integer")
    _sim(request).reset(seed)
    return JSONResponse(describe(_sim(request)))


async def set_faults(request: Request) -> Response:
    body = await _body(request)
    unknown = set(body) - FAULT_FIELDS - {"clear"}
    if unknown:
        return _problem(f"unknown fault knobs: {sorted(unknown)}")
    state = _sim(request)
    if body.pop("clear", False):
        state.faults = Faults()
    for name, value in body.items():
        setattr(state.faults, name, value)
    return JSONResponse(state.faults.as_json())


async def set_shapes(request: Request) -> Response:
    """Set record-shape fractions (see :mod:`.shapes`); ``clear`` turns every one off first."""
    body = await _body(request)
    state = _sim(request)
    clear = body.pop("clear", False)
    problems = shape_errors(body) if "__invalid__" not in body else ["a JSON object required"]
    if problems:
        return _problem("; ".join(problems))
    if clear:
        for name in state.shapes.names():
            setattr(state.shapes, name, 0.0)
    for name, value in body.items():
        setattr(state.shapes, name, float(value))
    return JSONResponse(state.shapes.as_json())


def _business_id(state: SimulatorState, body: dict[str, Any]) -> str | None:
    business_id = body.get("business_id")
    return business_id if isinstance(business_id, str) and business_id in state.businesses else None


async def issue_token(request: Request) -> Response:
    state = _sim(request)
    business_id = _business_id(state, await _body(request))
    if business_id is None:
        return _problem(f"business_id must be one of {sorted(state.businesses)}")
    consent = state.consent(business_id)
    access, grant = state.issue_access(consent)
    return JSONResponse(
        {
            "access_token": access,
            "refresh_token": consent.refresh_token,
            "token_type": "bearer",
            "expires_in": int((grant.expires_at - state.now()).total_seconds()),
            "business_id": business_id,
        }
    )


async def issue_code(request: Request) -> Response:
    state = _sim(request)
    body = await _body(request)
    business_id = _business_id(state, body)
    redirect_uri = body.get("redirect_uri") or state.registration.redirect_uris[0]
    if business_id is None or not isinstance(redirect_uri, str):
        return _problem("business_id (and optionally redirect_uri) required")
    return JSONResponse(
        {"code": state.issue_code(business_id, redirect_uri), "redirect_uri": redirect_uri}
    )


async def add_transactions(request: Request) -> Response:
    state = _sim(request)
    body = await _body(request)
    business_id = _business_id(state, body)
    records = body.get("transactions")
    if business_id is None or not isinstance(records, list):
        return _problem("business_id and a transactions list required")
    state.added[business_id].extend((state.now(), record) for record in records)
    return JSONResponse({"added": len(records), "total": len(state.added[business_id])})


async def move_clock(request: Request) -> Response:
    state = _sim(request)
    body = await _body(request)
    if "advance_seconds" in body and isinstance(body["advance_seconds"], int | float):
        state.clock.advance(float(body["advance_seconds"]))
    elif isinstance(body.get("now"), str):
        target = datetime.fromisoformat(body["now"].replace("Z", "+00:00"))
        state.clock.advance((target - state.now()).total_seconds())
    else:
        return _problem("advance_seconds (number) or now (ISO 8601, not in the past) required")
    return JSONResponse({"now": state.now().isoformat()})


async def revoke(request: Request) -> Response:
    state = _sim(request)
    business_id = _business_id(state, await _body(request))
    if business_id is None:
        return _problem("business_id required")
    return JSONResponse({"revoked": state.revoke(business_id)})


async def expire_tokens(request: Request) -> Response:
    _sim(request).expire_tokens()
    return JSONResponse({"expired": len(_sim(request).grants)})


async def generated_transactions(request: Request) -> Response:
    """The first ``count`` generated records of a business (regardless of the feed clock)."""
    state = _sim(request)
    business_id = request.query_params.get("business_id", "")
    if business_id not in state.businesses:
        return _problem("business_id required")
    try:
        count = min(int(request.query_params.get("count", "10")), 1000)
    except ValueError:
        return _problem("count must be a number")
    stream = state.generators[business_id].stream()
    return JSONResponse({"transactions": [next(stream).record for _ in range(count)]})


ROUTES = [
    Route("/_sim/state", get_state, methods=["GET"]),
    Route("/_sim/reset", reset, methods=["POST"]),
    Route("/_sim/faults", set_faults, methods=["POST"]),
    Route("/_sim/shapes", set_shapes, methods=["POST"]),
    Route("/_sim/token", issue_token, methods=["POST"]),
    Route("/_sim/code", issue_code, methods=["POST"]),
    Route("/_sim/transactions", add_transactions, methods=["POST"]),
    Route("/_sim/transactions", generated_transactions, methods=["GET"]),
    Route("/_sim/clock", move_clock, methods=["POST"]),
    Route("/_sim/revoke", revoke, methods=["POST"]),
    Route("/_sim/expire-tokens", expire_tokens, methods=["POST"]),
]
