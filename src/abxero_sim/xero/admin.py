"""The test-only ``/_sim/`` namespace (never mounted in production; see the package docstring)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from abxero_sim.clock import SimClock
from abxero_sim.xero import removals, webhooks
from abxero_sim.xero.ledger import trial_balance
from abxero_sim.xero.limits import LimitSettings
from abxero_sim.xero.runtime import Behaviour, Faults, Sim
from abxero_sim.xero.state import Org, World
from abxero_sim.xero.wire import dumps

DEFAULT_SIM_SCOPES = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.contacts",
    "accounting.settings",
    "accounting.attachments",
]


def _sim(request: Request) -> Sim:
    sim: Sim = request.app.state.sim
    return sim


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    import json

    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


def _json_reply(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


async def reset(request: Request) -> Response:
    """Forget everything: organisations back to their seed, tokens, stats, faults, limits."""
    sim = _sim(request)
    body = await _json(request)
    with sim.world.lock:
        seed = int(body.get("seed", sim.world.seed))
        fresh = World.fresh(seed, sim.world.clock, sim.world.copies, sim.world.extra_timezones)
        sim.world.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "lock"})
        sim.faults = Faults()
        sim.behaviour = Behaviour(**sim.default_behaviour.__dict__)
        sim.limiter.reset()
        sim.idempotency.clear()
        sim.webhooks.pending.clear()
    return _json_reply({"seed": seed, "tenant_ids": list(sim.world.orgs)})


def _org_state(org: Org) -> dict[str, Any]:
    return {
        "key": org.key,
        "tenant_id": org.tenant_id,
        "name": org.name,
        "organisation": org.info,
        "contacts": list(org.contacts.values()),
        "invoices": list(org.invoices.values()),
        "credit_notes": list(org.credit_notes.values()),
        "payments": list(org.payments.values()),
        "bank_transactions": list(org.bank_transactions.values()),
        "allocations": org.allocations,
        "attachments": {k: [a["FileName"] for a in v] for k, v in org.attachments.items()},
        "trial_balance": trial_balance(org),
    }


async def state(request: Request) -> Response:
    """Every organisation's documents and trial balance."""
    sim = _sim(request)
    with sim.world.lock:
        body = {
            "seed": sim.world.seed,
            "now": sim.world.clock.now().isoformat(),
            "organisations": [_org_state(o) for o in sim.world.orgs.values()],
            "connections": len(sim.world.connections),
        }
        return _json_reply(body)


async def stats(request: Request) -> Response:
    """Per-endpoint request counts, statuses, rate-limit refusals and spec rejections."""
    sim = _sim(request)
    with sim.world.lock:
        body = sim.world.stats.as_json()
        body["spec_loaded"] = sim.spec is not None
        return _json_reply(body)


async def faults(request: Request) -> Response:
    """Set fault knobs; also one-shot actions ``revoke_tokens``, ``expire_access_tokens``."""
    sim = _sim(request)
    body = await _json(request)
    with sim.world.lock:
        if body.pop("revoke_tokens", False):
            for grant in list(sim.world.grants.values()):
                sim.identity.revoke_grant(grant)
        if body.pop("expire_access_tokens", False):
            sim.identity.expire_access_tokens()
        limits = body.pop("limits", None)
        if isinstance(limits, dict):
            sim.limiter.settings = LimitSettings(**{**sim.limiter.settings.__dict__, **limits})
        try:
            sim.faults.update(body)
        except KeyError as unknown:
            return _json_reply({"error": f"unknown fault {unknown}"}, 400)
        return _json_reply(sim.faults.__dict__)


async def token(request: Request) -> Response:
    """Issue a token set without the browser: JSON with access_token and tenant_ids."""
    sim = _sim(request)
    body = await _json(request)
    default_scopes = " ".join(DEFAULT_SIM_SCOPES)
    scopes = tuple(str(body.get("scope", default_scopes)).split())
    with sim.world.lock:
        client_id = str(body.get("client_id") or next(iter(sim.identity.clients)))
        if client_id not in sim.identity.clients:
            return _json_reply({"error": "unknown client"}, 400)
        refs = body.get("tenants") or list(sim.world.orgs)
        orgs = [sim.world.org_by_key_or_id(str(r)) for r in refs]
        tenant_ids = tuple(o.tenant_id for o in orgs if o is not None)
        grant = sim.identity.new_grant(client_id, scopes, tenant_ids)
        issued = sim.identity.token_response(
            grant, sim.issuer_for(str(request.base_url)), body.get("nonce")
        )
        connections = {c.tenant_id: c.connection_id for c in sim.identity.connections_of(grant)}
    tenants = {o.key: o.tenant_id for o in orgs if o is not None}
    return _json_reply(
        {**issued, "tenant_ids": list(tenant_ids), "tenants": tenants, "connections": connections}
    )


async def patch_org(request: Request) -> Response:
    """Change seeded data: organisation fields, accounts by code, contacts by id, currencies."""
    sim = _sim(request)
    body = await _json(request)
    with sim.world.lock:
        org = sim.world.org_by_key_or_id(request.path_params["ref"])
        if org is None:
            return _json_reply({"error": "unknown organisation"}, 404)
        for key, value in (body.get("organisation") or {}).items():
            org.info[key] = (
                date.fromisoformat(value) if key.endswith("LockDate") and value else value
            )
        for code, fields in (body.get("accounts") or {}).items():
            account = org.account_by_code(code)
            if account is not None:
                account.update(fields)
        before = webhooks.fingerprint(org)
        for contact_id, fields in (body.get("contacts") or {}).items():
            contact = org.contacts.get(contact_id.lower())
            if contact is not None:
                contact.update(fields)
        if sim.webhooks.enabled:
            sim.webhooks.note_changes(org, before, sim.world.clock.now())
        if "currencies" in body:
            org.currencies = list(body["currencies"])
        return _json_reply({"tenant_id": org.tenant_id, "organisation": org.info})


async def reconcile(request: Request) -> Response:
    """``{"payments": [ids], "bank_transactions": [ids]}``: mark them reconciled, as a person
    reconciling the bank account in Xero would (then Xero refuses to delete them)."""
    sim = _sim(request)
    body = await _json(request)
    with sim.world.lock:
        org = sim.world.org_by_key_or_id(request.path_params["ref"])
        if org is None:
            return _json_reply({"error": "unknown organisation"}, 404)
        found = removals.mark_reconciled(
            org,
            [str(i) for i in body.get("payments") or []],
            [str(i) for i in body.get("bank_transactions") or []],
        )
    return _json_reply({"reconciled": found})


async def webhook_settings(request: Request) -> Response:
    """Configure delivery (``url``, ``key``, ``auto``); ``flush`` or ``intent_to_receive`` now."""
    sim = _sim(request)
    body = await _json(request)
    hub = sim.webhooks
    hub.configure(body)
    reply: dict[str, Any] = {"enabled": hub.enabled, "auto": hub.auto}
    if body.get("intent_to_receive"):
        reply["intent_to_receive"] = await run_in_threadpool(hub.intent_to_receive, sim.world.ids)
    if body.get("flush"):
        reply["delivered"] = await run_in_threadpool(hub.flush)
    reply["pending"] = len(hub.pending)
    reply["answers"] = list(hub.answers)
    return _json_reply(reply)


async def behaviour(request: Request) -> Response:
    """Set the knobs where real Xero varies (see :class:`Behaviour`); answers all of them."""
    sim = _sim(request)
    body = await _json(request)
    with sim.world.lock:
        try:
            sim.behaviour.update(body)
        except KeyError as unknown:
            return _json_reply({"error": f"unknown behaviour {unknown}"}, 400)
        except ValueError as wrong:
            return _json_reply({"error": str(wrong)}, 400)
        return _json_reply(sim.behaviour.__dict__)


async def move_clock(request: Request) -> Response:
    """``{"advance_seconds": n}`` or ``{"now": ISO 8601}``: move the simulator's time forward.

    Token expiry, the refresh-token grace window, rate-limit windows, the idempotency window
    and document dates all read this clock. Time never goes back.
    """
    sim = _sim(request)
    body = await _json(request)
    clock = sim.world.clock
    if not isinstance(clock, SimClock):
        return _json_reply({"error": "this simulator's clock cannot be moved"}, 400)
    seconds = body.get("advance_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
        clock.advance(float(seconds))
    elif isinstance(body.get("now"), str):
        target = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
        if target.tzinfo is None or target < clock.now():
            return _json_reply({"error": "now must be an aware time, not in the past"}, 400)
        clock.advance((target - clock.now()).total_seconds())
    else:
        return _json_reply({"error": "advance_seconds (>= 0) or now (ISO 8601) required"}, 400)
    return _json_reply({"now": clock.now().isoformat(), "offset_seconds": clock.offset})


async def admin_not_found(request: Request) -> Response:
    return JSONResponse({"error": "unknown /_sim/ route"}, status_code=404)


ROUTES = [
    Route("/_sim/reset", reset, methods=["POST"]),
    Route("/_sim/state", state, methods=["GET"]),
    Route("/_sim/stats", stats, methods=["GET"]),
    Route("/_sim/faults", faults, methods=["POST"]),
    Route("/_sim/token", token, methods=["POST"]),
    Route("/_sim/orgs/{ref}", patch_org, methods=["POST"]),
    Route("/_sim/orgs/{ref}/reconcile", reconcile, methods=["POST"]),
    Route("/_sim/webhooks", webhook_settings, methods=["POST"]),
    Route("/_sim/behaviour", behaviour, methods=["POST"]),
    Route("/_sim/clock", move_clock, methods=["POST"]),
]


def _edit_routes() -> list[Route]:
    from abxero_sim.xero.edits import edit_document

    return [Route("/_sim/orgs/{ref}/documents/{doc_id}", edit_document, methods=["POST"])]


ROUTES += _edit_routes()
