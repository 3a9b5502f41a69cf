"""Alert webhooks: a JSON POST signed with HMAC-SHA256.

The scheme (documented in the README for receivers):

* ``X-Abxero-Timestamp``: the Unix time of this attempt, in seconds.
* ``X-Abxero-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the organisation's
  webhook secret (shown on the manage page), of ``timestamp + "." + raw body``.
* ``X-Abxero-Delivery``: the delivery's id; the same on every retry of the same message, so a
  receiver drops a repeat by it.

A receiver recomputes the signature over the raw body, compares in constant time and refuses
a timestamp more than five minutes away from its clock (a replayed request). Any 2xx answer
is a delivery; anything else, or no answer, is retried with backoff.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

SIGNATURE_HEADER = "X-Abxero-Signature"
TIMESTAMP_HEADER = "X-Abxero-Timestamp"
DELIVERY_HEADER = "X-Abxero-Delivery"
TOLERANCE_SECONDS = 300
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class WebhookError(RuntimeError):
    """The receiver did not answer 2xx."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str, now: int) -> bool:
    """What a receiver checks: a fresh timestamp and a matching signature."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), given)


def post(
    http: httpx.Client, url: str, secret: str, body: bytes, delivery_id: str, timestamp: int
) -> None:
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
    }
    try:
        reply = http.post(url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as problem:
        raise WebhookError(f"{type(problem).__name__}: {problem}") from problem
    if not reply.is_success:
        raise WebhookError(f"the receiver answered HTTP {reply.status_code}")
