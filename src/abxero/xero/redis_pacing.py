"""Shared pacing in Redis: sorted sets of call starts and slot expiries, changed by Lua scripts.

A Lua script runs atomically in Redis, so checking every window and counting the call is one
step for all workers. Keys (``P`` is the prefix): ``P:t:<tenant>:slots`` (member = slot id,
score = expiry), ``P:t:<tenant>:min`` / ``:day`` (score = start time), ``P:app:min``, and
``P:hold:<scope>`` (a time before which nothing starts).
"""

from __future__ import annotations

import uuid
from typing import Any

import redis

from abxero.xero.shared_pacing import APP_SCOPE, DAY, MINUTE, SLOT_POLL, PaceLimits, Remaining

# KEYS: slots, minute, day, app minute, tenant hold, app hold
# ARGV: now, slot id, slot ttl, concurrent, per minute, per day, app per minute, poll
_START = """
local now = tonumber(ARGV[1])
local wait = 0
for i = 5, 6 do
  local held = tonumber(redis.call('GET', KEYS[i]) or '0')
  if held - now > wait then wait = held - now end
end
if wait > 0 then return tostring(wait) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 86400)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 60)
local function window(key, limit, length)
  local used = redis.call('ZCARD', key)
  if used < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
  return tonumber(oldest[2]) + length - now
end
local windows = {{2, ARGV[5], 60}, {3, ARGV[6], 86400}, {4, ARGV[7], 60}}
for _, w in ipairs(windows) do
  local left = window(KEYS[w[1]], tonumber(w[2]), w[3])
  if left > wait then wait = left end
end
if wait > 0 then return tostring(wait) end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return ARGV[8] end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('ZADD', KEYS[4], now, ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(ttl) + 1)
redis.call('EXPIRE', KEYS[2], 61)
redis.call('EXPIRE', KEYS[3], 86401)
redis.call('EXPIRE', KEYS[4], 61)
return '0'
"""

# KEYS: slots, minute, day, app minute; ARGV: slot id, now
_FINISH = """
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, 4 do
  redis.call('ZADD', KEYS[i], 'XX', ARGV[2], ARGV[1])
end
return 0
"""

# KEYS: hold; ARGV: until
_HOLD = """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > held then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 90000)
end
return 0
"""

# KEYS: windows to correct; ARGV: now, nonce, then (length, used by Xero) per key (-1 = unknown)
_CORRECT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local length, used = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  if used >= 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - length)
    local have = redis.call('ZCARD', key)
    for n = have + 1, used do
      redis.call('ZADD', key, now, ARGV[2] .. ':' .. n)
    end
    redis.call('EXPIRE', key, math.ceil(length) + 1)
  end
end
return 0
"""


class RedisPaceBackend:
    """:class:`~abxero.xero.shared_pacing.PaceBackend` in Redis (the queue's Redis)."""

    def __init__(self, client: redis.Redis, prefix: str = "abxero:pace") -> None:
        self._client, self._prefix = client, prefix
        self._start = client.register_script(_START)
        self._finish = client.register_script(_FINISH)
        self._hold = client.register_script(_HOLD)
        self._correct = client.register_script(_CORRECT)

    @classmethod
    def from_url(cls, url: str) -> RedisPaceBackend:
        return cls(redis.Redis.from_url(url))

    def _tenant(self, tenant_id: str, name: str) -> str:
        return f"{self._prefix}:t:{tenant_id.lower()}:{name}"

    def _hold_key(self, scope: str) -> str:
        return f"{self._prefix}:hold:{scope.lower()}"

    def try_start(self, tenant_id: str, slot_id: str, now: float, limits: PaceLimits) -> float:
        keys = [
            self._tenant(tenant_id, "slots"),
            *self._windows(tenant_id),
            self._hold_key(tenant_id),
            self._hold_key(APP_SCOPE),
        ]
        args: list[Any] = [
            repr(now),
            slot_id,
            limits.slot_ttl,
            limits.concurrent,
            limits.per_minute,
            limits.per_day,
            limits.app_per_minute,
            SLOT_POLL,
        ]
        return float(_text(self._start(keys=keys, args=args)))

    def _windows(self, tenant_id: str) -> list[str]:
        return [
            self._tenant(tenant_id, "min"),
            self._tenant(tenant_id, "day"),
            f"{self._prefix}:app:min",
        ]

    def finish(self, tenant_id: str, slot_id: str, now: float) -> None:
        keys = [self._tenant(tenant_id, "slots"), *self._windows(tenant_id)]
        self._finish(keys=keys, args=[slot_id, repr(now)])

    def hold(self, scope: str, until: float) -> None:
        self._hold(keys=[self._hold_key(scope)], args=[repr(until)])

    def correct(self, tenant_id: str, remaining: Remaining, now: float, limits: PaceLimits) -> None:
        keys = self._windows(tenant_id)
        args: list[Any] = [repr(now), uuid.uuid4().hex]
        for length, limit, left in (
            (MINUTE, limits.per_minute, remaining.minute),
            (DAY, limits.per_day, remaining.day),
            (MINUTE, limits.app_per_minute, remaining.app_minute),
        ):
            args += [length, -1 if left is None else max(0, limit - left)]
        self._correct(keys=keys, args=args)

    def clear(self) -> None:
        """Forget every count and hold (tests and benchmarks)."""
        for key in self._client.scan_iter(f"{self._prefix}:*"):
            self._client.delete(key)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
