"""The store consent page ``/b2b/abws/oauth`` and the LWA token endpoint ``/auth/o2/token``."""

from __future__ import annotations

import base64
import html
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from abxero_sim.amazon.businesses import Region
from abxero_sim.amazon.state import ACCESS_TOKEN_SECONDS, Consent, SimulatorState

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="referrer" content="no-referrer"></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status)


def _error_page(message: str) -> HTMLResponse:
    body = f'<p class="error" id="error">{html.escape(message)}</p>'
    return _page("We cannot connect this account", body, 400)


def _check_request(state: SimulatorState, application_id: str, redirect_uri: str) -> str:
    """Why the consent request must be refused, or ``""``."""
    if application_id != state.registration.application_id:
        return f"The application {application_id or '(none)'} is not registered."
    if not state.registration.allows_redirect(redirect_uri):
        return f"The redirect URI {redirect_uri} is not registered for this application."
    return ""


async def consent_page(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    region: Region | None = request.app.state.region
    params = request.query_params
    application_id = params.get("applicationId", "")
    redirect_uri = params.get("redirect_uri") or state.registration.redirect_uris[0]
    problem = _check_request(state, application_id, redirect_uri)
    if problem:
        return _error_page(problem)
    choices = "".join(
        f'<p><label><input type="radio" name="business_id" value="{html.escape(b.business_id)}"'
        f"{' checked' if n == 0 else ''}> {html.escape(b.name)} ({b.region.store})</label></p>"
        for n, b in enumerate(state.businesses_in(region))
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (
            ("applicationId", application_id),
            ("redirect_uri", redirect_uri),
            ("state", params.get("state", "")),
        )
    )
    body = (
        "<p>abxero (simulated) wants to read your business purchase reconciliation data "
        "for all legal entities.</p>"
        f'<form method="post" action="/b2b/abws/oauth/consent">{hidden}{choices}'
        '<button type="submit" name="decision" value="allow" id="allow">Allow</button> '
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>'
    )
    return _page("Authorize abxero", body)


async def consent_decision(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    form = await request.form()
    application_id = str(form.get("applicationId", ""))
    redirect_uri = str(form.get("redirect_uri", ""))
    problem = _check_request(state, application_id, redirect_uri)
    if problem:
        return _error_page(problem)
    answer: dict[str, str] = {}
    business_id = str(form.get("business_id", ""))
    if form.get("decision") == "allow" and business_id in state.businesses:
        answer["code"] = state.issue_code(business_id, redirect_uri)
    else:
        answer["error"] = "access_denied"
        answer["error_description"] = "The user denied the request."
    answer["state"] = str(form.get("state", ""))
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(answer), status_code=302)


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return "", ""
        return user, secret
    return form.get("client_id", ""), form.get("client_secret", "")


async def token_endpoint(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    fault = state.faults.token_queue.pop(0) if state.faults.token_queue else ""
    if fault in ("429", "500", "503"):
        return _oauth_error("server_error", "The token service is unavailable", int(fault))
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _oauth_error(
            "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
        )
    form = {key: str(value) for key, value in (await request.form()).items()}
    client_id, secret = _client_credentials(request, form)
    registration = state.registration
    if (client_id, secret) != (registration.client_id, registration.client_secret):
        return _oauth_error("invalid_client", "Client authentication failed", 401)
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        return _code_grant(state, form)
    if grant == "refresh_token":
        return _refresh_grant(state, form)
    return _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant!r}")


def _code_grant(state: SimulatorState, form: dict[str, str]) -> Response:
    code = state.codes.get(form.get("code", ""))
    if not form.get("code"):
        return _oauth_error("invalid_request", "The request is missing the code parameter")
    if code is None or code.expires_at <= state.now():
        return _oauth_error("invalid_grant", "The authorization code is invalid or has expired")
    if code.used:
        return _oauth_error("invalid_grant", "The authorization code has already been used")
    if form.get("redirect_uri") != code.redirect_uri:
        return _oauth_error("invalid_grant", "The redirect_uri does not match the authorization")
    code.used = True
    consent = state.consent(code.business_id)
    return _token_answer(state, consent)


def _refresh_grant(state: SimulatorState, form: dict[str, str]) -> Response:
    if not form.get("refresh_token"):
        return _oauth_error("invalid_request", "The request is missing the refresh_token parameter")
    consent = state.consents.get(form["refresh_token"])
    if consent is None or consent.revoked or consent.replaced:
        return _oauth_error("invalid_grant", "The refresh token is invalid or has been revoked")
    if state.faults.rotate_refresh_tokens:
        consent.replaced = True  # its access tokens keep working until they expire
        consent = state.consent(consent.business_id)
    return _token_answer(state, consent)


def _token_answer(state: SimulatorState, consent: Consent) -> JSONResponse:
    access, _ = state.issue_access(consent)
    return JSONResponse(
        {
            "access_token": access,
            "refresh_token": consent.refresh_token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
