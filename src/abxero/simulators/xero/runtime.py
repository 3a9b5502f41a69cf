"""The running simulator: world, identity server, limits, idempotency, faults and spec checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from abxero.simulators.xero.idempotency import IdempotencyStore
from abxero.simulators.xero.limits import RateLimiter
from abxero.simulators.xero.spec import SpecValidator
from abxero.simulators.xero.state import World
from abxero.simulators.xero.tokens import Identity
from abxero.simulators.xero.webhooks import WebhookHub


@dataclass
class Faults:
    """Trouble to inject into Accounting API calls; counts are used up one request at a time."""

    rate_limit_storm: int = 0
    storm_problem: str = "minute"
    storm_retry_after: int = 1
    server_errors: int = 0
    server_error_status: int = 500
    slow_responses: int = 0
    slow_seconds: float = 0.0
    lose_responses: int = 0
    lose_mode: str = "error"
    disconnected_tenants: list[str] = field(default_factory=list)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply the known keys of ``changes``; unknown keys raise KeyError."""
        known = asdict(self)
        for key, value in changes.items():
            if key not in known:
                raise KeyError(key)
            setattr(self, key, value)

    def take(self, name: str) -> bool:
        """Use up one occurrence of the counted fault ``name``."""
        remaining = int(getattr(self, name))
        if remaining <= 0:
            return False
        setattr(self, name, remaining - 1)
        return True


@dataclass
class Sim:
    """Everything the route handlers share."""

    world: World
    identity: Identity
    limiter: RateLimiter
    idempotency: IdempotencyStore
    spec: SpecValidator | None
    faults: Faults = field(default_factory=Faults)
    issuer: str | None = None
    webhooks: WebhookHub = field(default_factory=WebhookHub)
    provider_name: str = "abxero simulator"

    def issuer_for(self, base_url: str) -> str:
        """The OIDC issuer: fixed by a knob, or the URL the request came in on."""
        return self.issuer or base_url.rstrip("/")
