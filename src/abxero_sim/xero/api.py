"""The Accounting API front door: auth, tenant, limits, faults, spec, idempotency, routing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from abxero_sim.xero import (
    contacts,
    doc_resources,
    extras,
    removals,
    settings_resources,
    webhooks,
)
from abxero_sim.xero.call import Call, Reply, problem
from abxero_sim.xero.documents import BuildContext
from abxero_sim.xero.idempotency import MAX_KEY_LENGTH, fingerprint
from abxero_sim.xero.query import honoured_query
from abxero_sim.xero.runtime import Sim
from abxero_sim.xero.state import Grant
from abxero_sim.xero.wire import dumps, loads

PREFIX = "/api.xro/2.0"
Handler = Callable[[Call], Reply]

_SCOPES = {
    "Organisation": "accounting.settings",
    "Accounts": "accounting.settings",
    "TaxRates": "accounting.settings",
    "TrackingCategories": "accounting.settings",
    "Currencies": "accounting.settings",
    "Contacts": "accounting.contacts",
    "Invoices": "accounting.invoices",
    "CreditNotes": "accounting.invoices",
    "Payments": "accounting.payments",
    "BankTransactions": "accounting.banktransactions",
}
_BROAD = {"accounting.invoices", "accounting.payments", "accounting.banktransactions"}


def _route(method: str, parts: list[str]) -> Handler | None:
    root, depth = parts[0] if parts else "", len(parts)
    reads: dict[str, Handler] = {
        "Accounts": settings_resources.accounts,
        "TaxRates": settings_resources.tax_rates,
        "Currencies": settings_resources.currencies,
        "TrackingCategories": settings_resources.tracking_categories,
        "Contacts": contacts.list_or_get,
        "Payments": doc_resources.list_payments,
    }
    if depth >= 3 and root in doc_resources.KINDS:
        if parts[2] == "Attachments":
            return extras.attachments
        if parts[2] == "History":
            return extras.history if method in {"GET", "PUT"} else None
        if parts[2] == "Allocations" and root == "CreditNotes" and method == "PUT":
            return doc_resources.write_allocations
        if parts[2] == "Allocations" and root == "CreditNotes" and method == "DELETE":
            return removals.delete_allocation if depth == 4 else None
        return None
    if method == "GET":
        if root == "Organisation":
            return (
                settings_resources.organisation_actions
                if depth == 2
                else settings_resources.organisation
            )
        if root in doc_resources.KINDS:
            return doc_resources.list_or_get
        return reads.get(root) if depth <= 2 else None
    writes: dict[str, Handler] = {
        "Contacts": contacts.write,
        "Payments": doc_resources.write_payments,
    }
    if root in doc_resources.KINDS and depth <= 2:
        return doc_resources.write
    return writes.get(root) if depth <= 2 and method in {"PUT", "POST"} else None


def _scope_ok(grant: Grant, parts: list[str], method: str) -> bool:
    root = parts[0] if parts else ""
    needed = "accounting.attachments" if "Attachments" in parts else _SCOPES.get(root)
    if needed is None:
        return True
    granted = set(grant.scopes)
    options = {needed}
    if needed in _BROAD:
        options.add("accounting.transactions")
    if method == "GET":
        options |= {f"{o}.read" for o in options}
    return bool(options & granted)


def _endpoint(method: str, parts: list[str]) -> str:
    shape = [p if i % 2 == 0 or p in {"Actions"} else "{id}" for i, p in enumerate(parts[:3])]
    if len(parts) > 3:
        shape.append("{FileName}")
    return f"{method} /{'/'.join(shape)}"


def _response(reply: Reply, headers: dict[str, str]) -> Response:
    return Response(
        reply.body, status_code=reply.status, media_type=reply.content_type, headers=headers
    )


async def accounting(request: Request) -> Response:
    """Every Accounting API request goes through here."""
    sim: Sim = request.app.state.sim
    method = request.method
    parts = [p for p in request.path_params["rest"].split("/") if p]
    endpoint = _endpoint(method, parts)
    response = await _handle(sim, request, method, parts)
    with sim.world.lock:
        tenant_id = request.headers.get("xero-tenant-id", "").lower()
        sim.world.stats.count(endpoint, response.status_code, tenant_id)
        sim.world.stats.note_request(
            endpoint,
            request.url.path,
            list(request.query_params.multi_items()),
            response.status_code,
        )
        if response.status_code == 429:
            problem_name = response.headers.get("X-Rate-Limit-Problem", "")
            sim.world.stats.rate_limited[problem_name] = (
                sim.world.stats.rate_limited.get(problem_name, 0) + 1
            )
    return response


async def _handle(sim: Sim, request: Request, method: str, parts: list[str]) -> Response:
    with sim.world.lock:
        grant, refused = _authorise(sim, request, parts, method)
    if refused is not None:
        return _response(refused, {})
    assert grant is not None
    tenant_id = request.headers.get("xero-tenant-id", "").lower()
    admission = sim.limiter.admit(tenant_id)
    if not admission.allowed:
        reply = problem(429, "Too Many Requests", f"Rate limit exceeded: {admission.problem}")
        return _response(reply, admission.headers())
    try:
        return await _admitted(sim, request, method, parts, grant, tenant_id, admission.headers())
    finally:
        sim.limiter.release(tenant_id)


def _authorise(
    sim: Sim, request: Request, parts: list[str], method: str
) -> tuple[Grant | None, Reply | None]:
    header = request.headers.get("authorization", "")
    grant, detail = (
        sim.identity.bearer(header[7:].strip())
        if header.lower().startswith("bearer ")
        else (None, "AuthenticationUnsuccessful")
    )
    if grant is None:
        return None, problem(401, "Unauthorized", detail)
    tenant_id = request.headers.get("xero-tenant-id", "").lower()
    connected = {c.tenant_id for c in sim.identity.connections_of(grant)}
    if tenant_id not in connected or tenant_id in sim.faults.disconnected_tenants:
        return None, problem(403, "Forbidden", "AuthenticationUnsuccessful")
    if not _scope_ok(grant, parts, method):
        return None, problem(401, "Unauthorized", "AuthorizationUnsuccessful")
    return grant, None


async def _admitted(
    sim: Sim,
    request: Request,
    method: str,
    parts: list[str],
    grant: Grant,
    tenant_id: str,
    headers: dict[str, str],
) -> Response:
    faults = sim.faults
    with sim.world.lock:
        storm, broken = faults.take("rate_limit_storm"), faults.take("server_errors")
        slow = faults.take("slow_responses")
    if slow:
        await asyncio.sleep(faults.slow_seconds)
    if storm:
        headers = {
            **headers,
            "Retry-After": str(faults.storm_retry_after),
            "X-Rate-Limit-Problem": faults.storm_problem,
        }
        return _response(problem(429, "Too Many Requests", "Rate limit exceeded"), headers)
    if broken:
        return Response(
            b"Internal Server Error",
            status_code=faults.server_error_status,
            media_type="text/plain",
        )
    body = _ignore_read_only(sim, request, method, await request.body())
    spec_refusal = _spec_check(sim, request, method, body)
    if spec_refusal is not None:
        return _response(spec_refusal, headers)
    key = request.headers.get("idempotency-key") if method in {"PUT", "POST"} else None
    if key is not None and len(key) > MAX_KEY_LENGTH:
        return _response(
            problem(400, "Bad Request", "Idempotency-Key must be at most 128 characters"), headers
        )
    with sim.world.lock:
        reply = _dispatch_watched(sim, request, method, parts, grant, tenant_id, body, key)
    if reply.wrote and faults.lose_responses > 0:
        with sim.world.lock:
            lost = faults.take("lose_responses")
        if lost and faults.lose_mode == "hang":
            await asyncio.sleep(max(faults.slow_seconds, 5.0))
        if lost:
            return Response(b"upstream connection lost", status_code=502, media_type="text/plain")
    return _response(reply, headers)


def _ignore_read_only(sim: Sim, request: Request, method: str, body: bytes) -> bytes:
    """The body without the properties the spec marks read-only (Xero ignores them)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if sim.spec is None or method not in {"PUT", "POST"} or content_type != "application/json":
        return body
    try:
        payload = loads(body)
    except ValueError:
        return body
    cleaned, dropped = sim.spec.without_read_only(method, request.url.path, payload)
    if not dropped:
        return body
    with sim.world.lock:
        sim.world.stats.ignored_read_only.update(dropped)
    return dumps(cleaned)


def _spec_check(sim: Sim, request: Request, method: str, body: bytes) -> Reply | None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if sim.spec is None or method not in {"PUT", "POST"} or content_type != "application/json":
        return None
    errors = sim.spec.request_errors(
        method,
        request.url.path,
        list(request.query_params.multi_items()),
        dict(request.headers),
        body,
        content_type,
    )
    if not errors:
        return None
    with sim.world.lock:
        sim.world.stats.spec_rejections.append(
            {"path": request.url.path, "method": method, "errors": errors}
        )
    body_out = {
        "ErrorNumber": 14,
        "Type": "PostDataInvalidException",
        "Message": "; ".join(errors)[:2000],
    }
    return Reply(400, dumps(body_out))


def _dispatch_watched(
    sim: Sim,
    request: Request,
    method: str,
    parts: list[str],
    grant: Grant,
    tenant_id: str,
    body: bytes,
    key: str | None,
) -> Reply:
    """``_dispatch_once``, noting webhook events for what it changed when webhooks are on."""
    org = sim.world.orgs.get(tenant_id)
    if org is None or not sim.webhooks.enabled or method not in {"PUT", "POST"}:
        return _dispatch_once(sim, request, method, parts, grant, tenant_id, body, key)
    before = webhooks.fingerprint(org)
    reply = _dispatch_once(sim, request, method, parts, grant, tenant_id, body, key)
    if reply.wrote:
        sim.webhooks.note_changes(org, before, sim.world.clock.now())
    return reply


def _dispatch_once(
    sim: Sim,
    request: Request,
    method: str,
    parts: list[str],
    grant: Grant,
    tenant_id: str,
    body: bytes,
    key: str | None,
) -> Reply:
    scope = (grant.client_id, tenant_id)
    query = request.url.query
    print_ = fingerprint(method, request.url.path, query, body)
    if key is not None:
        stored = sim.idempotency.lookup(scope, key)
        if stored is not None:
            if stored.fingerprint != print_:
                return problem(
                    400,
                    "Bad Request",
                    f"Idempotency key '{key}' has already been used with a different request",
                )
            sim.world.stats.idempotent_replays += 1
            return Reply(
                stored.status, stored.body, stored.headers.get("content-type", "application/json")
            )
    reply = _dispatch(sim, request, method, parts, tenant_id, body)
    if key is not None:
        sim.idempotency.remember(
            scope, key, print_, reply.status, reply.body, {"content-type": reply.content_type}
        )
    return reply


def _dispatch(
    sim: Sim, request: Request, method: str, parts: list[str], tenant_id: str, body: bytes
) -> Reply:
    handler = _route(method, parts)
    if handler is None:
        return problem(404, "Not Found", "The resource you're looking for cannot be found")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    payload = None
    if body and content_type == "application/json":
        try:
            payload = loads(body)
        except ValueError:
            return Reply(
                400,
                dumps(
                    {
                        "ErrorNumber": 14,
                        "Type": "PostDataInvalidException",
                        "Message": "Invalid JSON",
                    }
                ),
            )
    org = sim.world.orgs[tenant_id]
    now = sim.world.clock.now()
    call = Call(
        method=method,
        parts=parts,
        query=honoured_query(method, parts, request.query_params.multi_items()),
        body=body,
        content_type=content_type,
        org=org,
        ctx=BuildContext(
            org,
            now,
            sim.world.ids,
            accept_bank_tax_overrides=sim.behaviour.accept_bank_tax_overrides,
        ),
        payload=payload,
        provider=sim.provider_name,
        rollback_failed_batches=sim.behaviour.rollback_failed_batches,
    )
    return handler(call)


ROUTES = [Route(PREFIX + "/{rest:path}", accounting, methods=["GET", "PUT", "POST", "DELETE"])]
