"""Sign in with Xero: the consent request, and what the callback turns into a signed-in user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from abxero.runtime import Runtime
from abxero.services.connections import record_sign_in
from abxero.xero import AuthorizationRequest, XeroError


class SignInFailed(RuntimeError):
    """Xero did not complete the sign-in; the message is for the user."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    name: str


def sign_in_request(runtime: Runtime) -> AuthorizationRequest:
    """Where to send the browser: OpenID Connect and the accounting scopes, with PKCE."""
    scopes = runtime.settings.xero_scopes.split()
    return runtime.xero_auth().authorization_request(scopes, use_pkce=True)


def complete_sign_in(
    runtime: Runtime,
    code: str,
    code_verifier: str | None,
    nonce: str | None,
    *,
    take_over: Sequence[int] = (),
) -> SignedIn:
    """Exchange the code, verify the id_token, and record the organisations Xero lists."""
    auth = runtime.xero_auth()
    try:
        tokens = auth.exchange_code(code, code_verifier)
        if not tokens.id_token:
            raise SignInFailed("Xero did not say who you are. Please sign in again.")
        claims = auth.verify_id_token(tokens.id_token, nonce)
        grants = auth.connections(tokens.access_token)
    except XeroError as problem:
        raise SignInFailed(
            "Xero did not accept the sign-in. Please try again in a moment."
        ) from problem
    user_id = record_sign_in(runtime, claims, tokens, grants, take_over=take_over)
    name = " ".join(part for part in (claims.given_name, claims.family_name) if part)
    return SignedIn(user_id, name or claims.email or "")
