"""Reconciliation check (run now, last result, detail) and the export download."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from abxero.services import export, reconcile
from abxero.web.deps import AnyOrg, JobsDep, RuntimeDep
from abxero.web.pages import flash, render
from abxero.web.security import check_csrf, check_ids

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@router.post("/orgs/{connection_id}/reconcile")
def reconcile_now(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    jobs: JobsDep,
    since: str = Form(""),
    until: str = Form(""),
) -> Response:
    try:
        period = reconcile.parse_period(since, until, runtime.now().date())
    except ValueError as problem:
        flash(request, f"Cannot check that period: {problem}", "error")
        return RedirectResponse(f"/orgs/{org.id}#reconciliation", status_code=303)
    jobs.enqueue_reconcile(org.id, period.since.isoformat(), period.until.isoformat())
    flash(request, "Checking Xero against Amazon. The result appears here when it is done.")
    return RedirectResponse(f"/orgs/{org.id}#reconciliation", status_code=303)


@router.get("/orgs/{connection_id}/reconciliation")
def reconciliation_detail(request: Request, org: AnyOrg, runtime: RuntimeDep) -> Response:
    shown = reconcile.last_result(runtime.sessions, org.id)
    return render(request, "reconciliation.html", org=org, result=shown)


@router.get("/orgs/{connection_id}/export")
def download_export(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    since: str = "",
    until: str = "",
    format: str = "csv",
) -> Response:
    try:
        period = reconcile.parse_period(since, until, runtime.now().date())
    except ValueError as problem:
        flash(request, f"Cannot export that period: {problem}", "error")
        return RedirectResponse(f"/orgs/{org.id}#reconciliation", status_code=303)
    kind = format if format in MEDIA else "csv"
    with runtime.sessions() as session:
        built = export.build_export(session, org.id, period)
    text = export.as_json(built) if kind == "json" else export.as_csv(built)
    name = f"abxero-{org.id}-{period.since}-{period.until}.{kind}"
    return Response(
        text.encode("utf-8"),
        media_type=MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
