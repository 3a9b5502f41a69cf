"""Signing in with Xero, choosing the organisation, and signing out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from abxero.services.connections import organisations_for
from abxero.services.signin import SignInFailed, complete_sign_in, sign_in_request
from abxero.web.deps import RuntimeDep, Viewer
from abxero.web.pages import flash, render
from abxero.web.security import (
    check_csrf,
    check_ids,
    pending_request,
    pop_matching,
    safe_next,
    start_fresh_session,
)

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])
PENDING_XERO = "xero_oauth"


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/")
def home(request: Request, next: str = "") -> Response:
    if "user_id" in request.session:
        return see_other(safe_next(next))
    return render(request, "home.html", next_path=safe_next(next, ""))


@router.post("/auth/xero/start")
def start_sign_in(
    request: Request, runtime: RuntimeDep, next: str = Form(""), take_over: str = Form("")
) -> Response:
    """Send the browser to Xero; state, PKCE verifier and nonce stay in this (server-side)
    session. ``take_over`` names an organisation that should sync as this user from now on."""
    consent = sign_in_request(runtime)
    request.session[PENDING_XERO] = {
        **pending_request(consent.state, runtime.now()),
        "verifier": consent.code_verifier,
        "nonce": consent.nonce,
        "next": safe_next(next),
        "take_over": int(take_over)
        if take_over.isascii() and take_over.isdigit() and len(take_over) < 16
        else None,
    }
    return see_other(consent.url)


@router.get("/auth/xero/callback")
def sign_in_callback(
    request: Request, runtime: RuntimeDep, state: str = "", code: str = "", error: str = ""
) -> Response:
    pending = pop_matching(request.session, PENDING_XERO, state, runtime.now())
    if pending is None:
        return render(
            request,
            "problem.html",
            400,
            title="That sign-in link is not valid",
            message="It may be old or from another browser window.",
            retry_label="Sign in with Xero again",
            retry_href="/",
        )
    if error or not code:
        return render(
            request,
            "problem.html",
            400,
            title="Sign-in cancelled",
            message="Xero did not sign you in"
            + (" because access was not allowed." if error == "access_denied" else "."),
            retry_label="Try again",
            retry_href="/",
        )
    try:
        chosen = pending.get("take_over")
        signed_in = complete_sign_in(
            runtime,
            code,
            pending.get("verifier"),
            pending.get("nonce"),
            take_over=[chosen] if isinstance(chosen, int) else [],
        )
    except SignInFailed as problem:
        return render(
            request,
            "problem.html",
            502,
            title="Sign-in did not finish",
            message=str(problem),
            retry_label="Try again",
            retry_href="/",
        )
    start_fresh_session(request.session)
    request.session["user_id"] = signed_in.user_id
    request.session["user_name"] = signed_in.name
    return see_other(safe_next(pending.get("next")))


@router.get("/orgs")
def choose_organisation(request: Request, viewer: Viewer, runtime: RuntimeDep) -> Response:
    with runtime.sessions() as session:
        organisations = organisations_for(session, viewer)
    if len(organisations) == 1:
        return see_other(f"/orgs/{organisations[0].connection_id}")
    return render(request, "organisations.html", organisations=organisations)


@router.post("/auth/sign-out")
def sign_out(request: Request) -> Response:
    start_fresh_session(request.session)
    flash(request, "You are signed out.")
    return see_other("/")
