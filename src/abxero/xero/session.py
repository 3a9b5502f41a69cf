"""Keeping a connection's access token fresh: refresh under the caller's lock, persist, then use."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

from abxero.xero.errors import NeedsReconnectError
from abxero.xero.oauth import XeroAuth, XeroTokens, utc_now

LoadTokens = Callable[[], XeroTokens]
SaveTokens = Callable[[XeroTokens], None]
LockFactory = Callable[[], AbstractContextManager[object]]


class TokenManager:
    """Hands out a valid access token for one connection.

    ``load`` reads the stored token set; ``save`` persists a new one and must return only once it
    is durable (Xero rotates refresh tokens, so a lost write disconnects the organisation).
    ``lock`` serialises refreshes of this connection across workers (e.g. a database lease).
    """

    def __init__(
        self,
        auth: XeroAuth,
        load: LoadTokens,
        save: SaveTokens,
        *,
        lock: LockFactory = nullcontext,
        leeway_seconds: float = 60.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._auth, self._load, self._save, self._lock = auth, load, save, lock
        self._leeway, self._now = leeway_seconds, now

    def access_token(self) -> str:
        """A token good for at least the leeway, refreshing first when needed."""
        tokens = self._load()
        if not tokens.expires_within(self._leeway, self._now()):
            return tokens.access_token
        return self._refresh(stale=tokens.access_token)

    def force_refresh(self) -> str:
        """Refresh now (after a 401), unless another worker already did."""
        return self._refresh(stale=self._load().access_token)

    def _refresh(self, stale: str) -> str:
        with self._lock():
            current = self._load()
            fresh_enough = not current.expires_within(self._leeway, self._now())
            if current.access_token != stale and fresh_enough:
                return current.access_token
            if not current.refresh_token:
                raise NeedsReconnectError("no refresh token stored (offline_access not granted)")
            renewed = self._auth.refresh(current.refresh_token)
            self._save(renewed)
            return renewed.access_token
