"""Identity routes: consent page, token endpoint, OIDC discovery, JWKS, connections, revocation."""

from __future__ import annotations

import base64
import html
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from abxero_sim.xero.runtime import Sim
from abxero_sim.xero.state import AuthCode
from abxero_sim.xero.tokens import SimClient, SimUser, TokenError, signing_key

KNOWN_SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.payments",
        "accounting.payments.read",
        "accounting.banktransactions",
        "accounting.banktransactions.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.journals.read",
        "accounting.reports.read",
    }
)


def _sim(request: Request) -> Sim:
    sim: Sim = request.app.state.sim
    return sim


def _error_page(message: str) -> HTMLResponse:
    body = (
        "<!doctype html><title>Xero</title><h1>Something went wrong</h1>"
        f"<p>{html.escape(message)}</p>"
    )
    return HTMLResponse(body, status_code=400)


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


async def authorize_page(request: Request) -> Response:
    """GET: show the consent page, or an error page when the request is not acceptable."""
    sim, params = _sim(request), dict(request.query_params)
    client = sim.identity.client(params.get("client_id"))
    redirect_uri = params.get("redirect_uri", "")
    if client is None:
        return _error_page("unauthorized_client: Unknown client or client not enabled")
    if not client.allows_redirect(redirect_uri):
        return _error_page("Invalid redirect_uri")
    if params.get("response_type") != "code":
        return _redirect(
            redirect_uri, {"error": "unsupported_response_type", "state": params.get("state", "")}
        )
    scopes = params.get("scope", "").split()
    if not scopes or not set(scopes) <= KNOWN_SCOPES:
        return _redirect(redirect_uri, {"error": "invalid_scope", "state": params.get("state", "")})
    return HTMLResponse(_consent_html(sim, client, params, scopes))


def _consent_html(sim: Sim, client: SimClient, params: dict[str, str], scopes: list[str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    user = sim.identity.user_named(params.get("sim_user"))
    orgs = "".join(
        f'<li><label><input type="checkbox" name="tenant" value="{org.tenant_id}" checked> '
        f"{html.escape(org.name)}</label></li>"
        for org in sim.world.orgs.values()
        if user.may_connect(org.key)
    )
    scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    return (
        "<!doctype html><html><head><title>Xero | Authorise</title></head><body>"
        f"<h1>{html.escape(client.name)} wants to access your Xero data</h1>"
        f"<p>Signed in as {html.escape(user.email)}</p>{_switch_user(sim, params, user)}"
        f'<form method="post" action="/identity/connect/authorize">{hidden}'
        f'<input type="hidden" name="sim_user" value="{html.escape(user.user_id)}">'
        f"<h2>Organisations</h2><ul>{orgs}</ul><h2>Permissions</h2><ul>{scope_list}</ul>"
        '<button type="submit" name="decision" value="allow">Allow access</button> '
        '<button type="submit" name="decision" value="deny">Cancel</button>'
        "</form></body></html>"
    )


def _switch_user(sim: Sim, params: dict[str, str], current: SimUser) -> str:
    """Links that sign in as another simulated user (each sees only their organisations)."""
    links = []
    for other in sim.identity.users.values():
        if other.user_id == current.user_id:
            continue
        query = urlencode({**params, "sim_user": other.user_id})
        links.append(
            f'<a class="sim-user" href="/identity/connect/authorize?{html.escape(query)}">'
            f"Sign in as {html.escape(other.email)} instead</a>"
        )
    return f"<p>{' '.join(links)}</p>" if links else ""


async def authorize_decision(request: Request) -> Response:
    """POST: the user allowed (chosen organisations) or denied; back to the app's redirect URI."""
    sim = _sim(request)
    form = await request.form()
    field = {k: str(v) for k, v in form.items() if k != "tenant"}
    client = sim.identity.client(field.get("client_id"))
    redirect_uri = field.get("redirect_uri", "")
    if client is None or not client.allows_redirect(redirect_uri):
        return _error_page("Invalid request")
    state = field.get("state", "")
    if field.get("decision") != "allow":
        return _redirect(redirect_uri, {"error": "access_denied", "state": state})
    scopes = tuple(field.get("scope", "").split())
    user = sim.identity.user_named(field.get("sim_user"))
    tenants = tuple(str(t) for t in form.getlist("tenant") if str(t) in sim.world.orgs)
    if any(not user.may_connect(sim.world.orgs[t].key) for t in tenants):
        return _error_page("You are not a member of that organisation.")
    if not tenants and any(s.startswith("accounting.") for s in scopes):
        return _error_page("Choose at least one organisation to connect.")
    challenge = field.get("code_challenge")
    if challenge and field.get("code_challenge_method", "S256") != "S256":
        return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
    with sim.world.lock:
        code = sim.identity.issue_code(
            AuthCode(
                client.client_id,
                redirect_uri,
                scopes,
                tenants,
                challenge or None,
                field.get("nonce") or None,
                sim.world.clock.now(),
                user_id=user.user_id,
            )
        )
    return _redirect(redirect_uri, {"code": code, "scope": " ".join(scopes), "state": state})


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


def _token_error(error: TokenError) -> JSONResponse:
    body: dict[str, Any] = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    return JSONResponse(body, status_code=error.status)


async def token(request: Request) -> Response:
    """POST /connect/token: authorization_code and refresh_token grants."""
    sim = _sim(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client_id, secret = _client_credentials(request, form)
    grant_type = form.get("grant_type")
    issuer = sim.issuer_for(str(request.base_url))
    try:
        with sim.world.lock:
            pkce = grant_type == "authorization_code" and bool(form.get("code_verifier"))
            client = sim.identity.authenticate(client_id, secret, pkce)
            if grant_type == "authorization_code":
                body = sim.identity.exchange_code(
                    client,
                    form.get("code", ""),
                    form.get("redirect_uri", ""),
                    form.get("code_verifier"),
                    issuer,
                )
            elif grant_type == "refresh_token":
                body = sim.identity.refresh(client, form.get("refresh_token", ""), issuer)
            else:
                raise TokenError("unsupported_grant_type")
    except TokenError as error:
        return _token_error(error)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def revocation(request: Request) -> Response:
    """POST /connect/revocation: revoke a refresh token and its connections."""
    sim = _sim(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client_id, secret = _client_credentials(request, form)
    try:
        with sim.world.lock:
            client = sim.identity.authenticate(client_id, secret, pkce=False)
            sim.identity.revoke(client, form.get("token", ""))
    except TokenError as error:
        return _token_error(error)
    return Response(status_code=200)


async def discovery(request: Request) -> Response:
    """The OpenID Connect discovery document."""
    sim = _sim(request)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "issuer": sim.issuer_for(base),
            "authorization_endpoint": f"{base}/identity/connect/authorize",
            "token_endpoint": f"{base}/connect/token",
            "revocation_endpoint": f"{base}/connect/revocation",
            "jwks_uri": f"{base}/.well-known/openid-configuration/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(KNOWN_SCOPES),
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "claims_supported": ["sub", "xero_userid", "email", "given_name", "family_name"],
        }
    )


async def jwks(request: Request) -> Response:
    """The public keys id_tokens are signed with."""
    key = signing_key(_sim(request).world.seed)
    return JSONResponse({"keys": [key.as_dict(private=False)]})


def _bearer_grant(request: Request, sim: Sim) -> tuple[Any, Response | None]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None, _unauthorized("AuthenticationUnsuccessful")
    grant, detail = sim.identity.bearer(header[7:].strip())
    if grant is None:
        return None, _unauthorized(detail)
    return grant, None


def _unauthorized(detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "Type": None,
            "Title": "Unauthorized",
            "Status": 401,
            "Detail": detail,
            "Instance": None,
            "Extensions": {},
        },
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def list_connections(request: Request) -> Response:
    """GET /connections: the tenants this token may act on."""
    sim = _sim(request)
    with sim.world.lock:
        grant, refused = _bearer_grant(request, sim)
        if refused is not None:
            return refused
        event = request.query_params.get("authEventId")
        rows = [
            {
                "id": c.connection_id,
                "authEventId": c.auth_event_id,
                "tenantId": c.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": sim.world.orgs[c.tenant_id].name,
                "createdDateUtc": c.created.strftime("%Y-%m-%dT%H:%M:%S.%f0"),
                "updatedDateUtc": c.updated.strftime("%Y-%m-%dT%H:%M:%S.%f0"),
            }
            for c in sim.identity.connections_of(grant)
            if event is None or c.auth_event_id == event
        ]
    return JSONResponse(rows)


async def delete_connection(request: Request) -> Response:
    """DELETE /connections/{id}: disconnect one tenant (by connection id)."""
    sim = _sim(request)
    with sim.world.lock:
        grant, refused = _bearer_grant(request, sim)
        if refused is not None:
            return refused
        connection_id = request.path_params["connection_id"]
        mine = {c.connection_id for c in sim.identity.connections_of(grant)}
        if connection_id not in mine:
            return JSONResponse(
                {"Title": "Not Found", "Status": 404, "Detail": "Connection not found"},
                status_code=404,
            )
        del sim.world.connections[connection_id]
    return Response(status_code=204)


ROUTES = [
    Route("/identity/connect/authorize", authorize_page, methods=["GET"]),
    Route("/identity/connect/authorize", authorize_decision, methods=["POST"]),
    Route("/connect/token", token, methods=["POST"]),
    Route("/connect/revocation", revocation, methods=["POST"]),
    Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
    Route("/.well-known/openid-configuration/jwks", jwks, methods=["GET"]),
    Route("/connections", list_connections, methods=["GET"]),
    Route("/connections/{connection_id}", delete_connection, methods=["DELETE"]),
]

__all__ = ["ROUTES"]
