"""The alerts section of the manage page: who is told about problems, and how."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from abxero.alerts import service
from abxero.alerts.config import ConfigInvalid
from abxero.web.deps import AnyOrg, RuntimeDep
from abxero.web.pages import flash
from abxero.web.security import check_csrf, check_ids

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])


@router.post("/orgs/{connection_id}/alerts")
def save_alerts(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    recipients: str = Form(""),
    webhook_url: str = Form(""),
    stale_hours: str = Form(""),
) -> Response:
    try:
        saved = service.save(
            runtime,
            org.id,
            recipients=recipients,
            webhook_url=webhook_url,
            stale_hours=stale_hours,
        )
    except ConfigInvalid as problem:
        flash(request, f"Alerts not saved: {problem}", "error")
    else:
        told = len(saved.recipients) + bool(saved.webhook_url)
        flash(request, f"Alerts saved: {told} destination{'s' if told != 1 else ''}.")
    return RedirectResponse(f"/orgs/{org.id}#alerts", status_code=303)
