"""The running simulator: world, identity server, limits, idempotency, faults and spec checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from abxero_sim.xero.idempotency import IdempotencyStore
from abxero_sim.xero.limits import RateLimiter
from abxero_sim.xero.spec import SpecValidator
from abxero_sim.xero.state import World
from abxero_sim.xero.tokens import Identity
from abxero_sim.xero.webhooks import WebhookHub


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
class Behaviour:
    """Where real Xero's behaviour varies or is in doubt: knobs, Xero's observed behaviour default.

    ``accept_bank_tax_overrides``: Xero refuses a BankTransaction line whose ``TaxAmount``
    differs from its own computation ("Tax amount 52.23 is incorrect for INPUT2 tax type,
    should be 52.28", https://github.com/XeroAPI/xero-node/issues/768) while bills and credit
    notes accept an explicit ``TaxAmount``; True accepts overrides everywhere.
    ``rollback_failed_batches``: a batch answered 400 (``summarizeErrors`` left at its default)
    keeps its valid elements in Xero (https://github.com/XeroAPI/xero-ruby/issues/247, and
    https://stackoverflow.com/questions/52706101); True undoes the whole batch instead.
    """

    accept_bank_tax_overrides: bool = False
    rollback_failed_batches: bool = False

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes``; an unknown key raises KeyError, a non-boolean value ValueError."""
        known = asdict(self)
        for key, value in changes.items():
            if key not in known:
                raise KeyError(key)
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
        for key, value in changes.items():
            setattr(self, key, value)


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
    behaviour: Behaviour = field(default_factory=Behaviour)
    default_behaviour: Behaviour = field(default_factory=Behaviour)

    def issuer_for(self, base_url: str) -> str:
        """The OIDC issuer: fixed by a knob, or the URL the request came in on."""
        return self.issuer or base_url.rstrip("/")
