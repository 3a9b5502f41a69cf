"""The rollback flow of the manage page: choose a period, see the preview (counts, totals, what
stays in Xero and why), confirm, see the result. Every form carries the CSRF token."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from abxero.services import rollback
from abxero.sync.leases import LeaseBusy
from abxero.sync.ports import SideError
from abxero.web.deps import AnyOrg, RuntimeDep
from abxero.web.pages import flash, render
from abxero.web.security import check_csrf, check_ids

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])
ACTION_NAMES = {
    "void": "Bills and credit notes voided",
    "delete": "Documents deleted (drafts, spend and receive money)",
    "delete_payment": "Payments removed",
    "remove_allocation": "Credit note allocations removed",
    "already_gone": "Already voided or deleted in Xero",
}


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _period(first: str, last: str) -> tuple[datetime, datetime]:
    """``[first 00:00, the day after last 00:00)`` in UTC; ValueError with what to change."""
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as problem:
        raise ValueError("Enter both dates as YYYY-MM-DD.") from problem
    if end < start:
        raise ValueError("The end date is before the start date.")
    midnight = time(tzinfo=UTC)
    return datetime.combine(start, midnight), datetime.combine(end + timedelta(days=1), midnight)


@router.post("/orgs/{connection_id}/rollback")
def preview(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    first: str = Form(""),
    last: str = Form(""),
) -> Response:
    try:
        since, until = _period(first, last)
        summary = rollback.preview(runtime, org.id, since, until)
    except (ValueError, rollback.RollbackBlocked, SideError) as problem:
        flash(request, str(problem), "error")
        return _see_other(f"/orgs/{org.id}#rollback")
    return _see_other(f"/orgs/{org.id}/rollbacks/{summary.rollback_id}")


@router.get("/orgs/{connection_id}/rollbacks/{rollback_id}")
def show(request: Request, org: AnyOrg, runtime: RuntimeDep, rollback_id: int) -> Response:
    try:
        summary = rollback.summary(runtime.sessions, org.id, rollback_id)
    except rollback.NotThisOrganisation as missing:
        raise HTTPException(404) from missing
    last_day = summary.range_end - timedelta(days=1)
    return render(
        request, "rollback.html", org=org, summary=summary, names=ACTION_NAMES, last_day=last_day
    )


@router.post("/orgs/{connection_id}/rollbacks/{rollback_id}/confirm")
def confirm(request: Request, org: AnyOrg, runtime: RuntimeDep, rollback_id: int) -> Response:
    try:
        rollback.carry_out(runtime, org.id, rollback_id)
    except rollback.NotThisOrganisation as missing:
        raise HTTPException(404) from missing
    except LeaseBusy:
        flash(request, "A sync is running; confirm again when it has finished.", "warning")
    except SideError as problem:
        flash(request, f"The rollback stopped: {problem}. Confirm again to resume.", "error")
    return _see_other(f"/orgs/{org.id}/rollbacks/{rollback_id}")
