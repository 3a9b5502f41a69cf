"""The simulator's application factory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette

from abxero_sim.clock import Clock, SimClock, SystemClock
from abxero_sim.xero import admin as admin_namespace
from abxero_sim.xero import api, identity
from abxero_sim.xero.idempotency import IdempotencyStore
from abxero_sim.xero.limits import LimitSettings, RateLimiter
from abxero_sim.xero.runtime import Behaviour, Sim
from abxero_sim.xero.spec import load_validator
from abxero_sim.xero.state import World
from abxero_sim.xero.tokens import Identity, SimClient, SimUser

DEFAULT_CLIENTS = (
    SimClient("abxero-sim-client", "abxero-sim-secret", name="abxero"),
    SimClient("abxero-sim-pkce", None, name="abxero (PKCE)"),
)
DEFAULT_USER = SimUser(
    user_id="5f3a1c2e-8d4b-4a6f-9c1e-2b7d8e9f0a1b",
    email="demo.user@example.com",
    given_name="Demo",
    family_name="User",
)
SECOND_USER = SimUser(
    user_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    email="second.user@example.com",
    given_name="Sam",
    family_name="Second",
    organisations=("uk",),
)


def create_app(
    seed: int = 1,
    clock: Clock | None = None,
    *,
    admin: bool = True,
    limits: LimitSettings | None = None,
    idempotency_window: timedelta = timedelta(minutes=6),
    clients: Sequence[SimClient] = DEFAULT_CLIENTS,
    user: SimUser = DEFAULT_USER,
    other_users: Sequence[SimUser] = (SECOND_USER,),
    issuer: str | None = None,
    spec_path: str | Path | None = None,
    validate_spec: bool = True,
    organisation_copies: int = 1,
    extra_timezones: Sequence[str] = (),
    accept_bank_tax_overrides: bool = False,
    rollback_failed_batches: bool = False,
) -> Starlette:
    """A fresh simulator; see the package docstring for the knobs and routes."""
    chosen_clock = SimClock(clock or SystemClock())
    world = World.fresh(seed, chosen_clock, organisation_copies, tuple(extra_timezones))
    behaviour = Behaviour(accept_bank_tax_overrides, rollback_failed_batches)
    sim = Sim(
        world=world,
        identity=Identity(world, {c.client_id: c for c in clients}, user, other_users),
        limiter=RateLimiter(chosen_clock, limits or LimitSettings()),
        idempotency=IdempotencyStore(chosen_clock, idempotency_window),
        spec=load_validator(spec_path) if validate_spec else None,
        issuer=issuer,
        behaviour=behaviour,
        default_behaviour=Behaviour(**behaviour.__dict__),
    )
    routes = [*identity.ROUTES, *api.ROUTES]
    if admin:
        routes = [*admin_namespace.ROUTES, *routes]
    app = Starlette(routes=routes)
    app.state.sim = sim
    return app
