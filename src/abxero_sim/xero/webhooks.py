"""Webhook delivery: signed CONTACT and INVOICE event batches POSTed to a configured URL.

Off until ``POST /_sim/webhooks`` gives a ``url`` and a ``key``. While on, every write is
compared with the organisation's contacts and invoices before it, and each created or changed
record becomes one event. Events wait in ``pending`` until delivered: at once on a background
thread with ``auto``, or when a test asks with ``{"flush": true}`` (deterministic).
``{"intent_to_receive": true}`` sends Xero's handshake: an empty batch signed right, then one
signed wrong, and reports both answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from abxero_sim.xero.ids import IdSource
from abxero_sim.xero.state import Org, Record
from abxero_sim.xero.wire import dumps

Fingerprint = dict[tuple[str, str], tuple[str, ...]]
CATEGORIES = {"contacts": "CONTACT", "invoices": "INVOICE"}
PATHS = {"contacts": "Contacts", "invoices": "Invoices"}


def sign(key: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key, body)), the ``x-xero-signature`` value."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def fingerprint(org: Org) -> Fingerprint:
    """What a change to a contact or invoice would alter, keyed by (kind, id)."""
    seen: Fingerprint = {}
    for contact_id, contact in org.contacts.items():
        seen[("contacts", contact_id)] = _fields(contact, "Name", "ContactStatus")
    for invoice_id, invoice in org.invoices.items():
        seen[("invoices", invoice_id)] = _fields(
            invoice, "Status", "AmountDue", "Reference", "UpdatedDateUTC"
        )
    return seen


def _fields(record: Record, *names: str) -> tuple[str, ...]:
    return tuple(str(record.get(name, "")) for name in names)


@dataclass
class WebhookHub:
    """Configuration, the events waiting to go out, and what the receiver answered."""

    url: str = ""
    key: str = ""
    auto: bool = False
    pending: list[Record] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    sequence: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.key)

    def configure(self, body: dict[str, Any]) -> None:
        self.url = str(body.get("url", self.url))
        self.key = str(body.get("key", self.key))
        self.auto = bool(body.get("auto", self.auto))

    def note_changes(self, org: Org, before: Fingerprint, now: datetime) -> None:
        """Queue one event per contact or invoice created or changed since ``before``."""
        for (kind, record_id), values in fingerprint(org).items():
            earlier = before.get((kind, record_id))
            if earlier == values:
                continue
            self._queue(org, kind, record_id, "CREATE" if earlier is None else "UPDATE", now)
        if self.auto and self.pending:
            threading.Thread(target=self.flush, name="sim-webhooks", daemon=True).start()

    def _queue(self, org: Org, kind: str, record_id: str, event_type: str, now: datetime) -> None:
        with self.lock:
            self.pending.append(
                {
                    "resourceUrl": f"https://api.xero.com/api.xro/2.0/{PATHS[kind]}/{record_id}",
                    "resourceId": record_id,
                    "eventDateUtc": now.isoformat(),
                    "eventType": event_type,
                    "eventCategory": CATEGORIES[kind],
                    "tenantId": org.tenant_id,
                    "tenantType": "ORGANISATION",
                }
            )

    def flush(self) -> list[int]:
        """Deliver every pending event in one signed batch; returns the answers."""
        with self.lock:
            events, self.pending = self.pending, []
            first = self.sequence + 1
            self.sequence += len(events)
        if not events:
            return []
        status = self._post(dumps(self._batch(events, first, self.sequence)), self.key)
        return [status]

    def intent_to_receive(self, ids: IdSource) -> dict[str, int]:
        """Xero's handshake: the receiver must take the good one and refuse the bad one."""
        body = dumps({**self._batch([], 0, 0), "entropy": ids.token("entropy")[:20]})
        return {
            "good": self._post(body, self.key),
            "bad": self._post(body, self.key + "-wrong"),
        }

    @staticmethod
    def _batch(events: list[Record], first: int, last: int) -> dict[str, Any]:
        return {
            "events": events,
            "firstEventSequence": first,
            "lastEventSequence": last,
            "entropy": "",
        }

    def _post(self, raw: bytes, key: str) -> int:
        headers = {"content-type": "application/json", "x-xero-signature": sign(key, raw)}
        try:
            status = httpx.post(self.url, content=raw, headers=headers, timeout=10).status_code
        except httpx.HTTPError:
            status = 0
        with self.lock:
            self.answers.append(status)
        return status
