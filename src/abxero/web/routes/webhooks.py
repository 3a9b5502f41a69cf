"""Xero's webhook endpoint: signed deliveries only, answered at once with the work queued.

No CSRF token here (Xero cannot send one): the HMAC signature over the raw body is the check,
and a delivery without a valid one gets 401 and changes nothing. Replies have an empty body
and set no cookie, as Xero asks.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services import webhooks
from abxero.web.deps import JobsDep, RuntimeDep

router = APIRouter()
SIGNATURE_HEADER = "x-xero-signature"


@router.post("/webhooks/xero")
async def xero_webhook(request: Request, runtime: RuntimeDep, jobs: JobsDep) -> Response:
    """Verify, record the changes that concern us, queue a sync for changed bills."""
    body = await request.body()
    key = runtime.settings.xero_webhook_key.get_secret_value()
    if not webhooks.signature_ok(key, body, request.headers.get(SIGNATURE_HEADER)):
        return Response(status_code=401)
    events = webhooks.parse_events(body)
    if events:
        await run_in_threadpool(_handle, runtime, jobs, events)
    return Response(status_code=200)


def _handle(runtime: Runtime, jobs: Jobs, events: list[webhooks.WebhookEvent]) -> None:
    for connection_id in webhooks.record_events(runtime.sessions, events, runtime.now()):
        jobs.enqueue_sync(connection_id, user=False)
