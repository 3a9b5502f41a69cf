"""The Legal entities page: which of the user's organisations posts each legal entity of the
Amazon Business account (reached from the wizard's review step and from the manage page)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from abxero.domain.lifecycles import SetupStep
from abxero.services import routing
from abxero.web.deps import AnyOrg, RuntimeDep
from abxero.web.pages import flash, render
from abxero.web.routes.mapping_page import PostedForm
from abxero.web.security import check_csrf, check_ids

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])


def back_url(connection_id: int, setup_step: str) -> str:
    """Where the page returns to: the wizard's review while setting up, else the manage page."""
    if setup_step == SetupStep.DONE:
        return f"/orgs/{connection_id}"
    return f"/orgs/{connection_id}/setup/review"


@router.get("/orgs/{connection_id}/entities")
def entities_page(request: Request, org: AnyOrg, runtime: RuntimeDep) -> Response:
    view = routing.routing_view(runtime.sessions, org.viewer, org.id)
    return render(
        request, "entities.html", org=org, view=view, back=back_url(org.id, org.setup_step)
    )


@router.post("/orgs/{connection_id}/entities")
def save_routes(request: Request, org: AnyOrg, runtime: RuntimeDep, posted: PostedForm) -> Response:
    wanted: dict[str, int] = {}
    index = 0
    while f"entity_{index}" in posted:
        target = posted.get(f"target_{index}", "")
        if target.isdigit():
            wanted[posted[f"entity_{index}"]] = int(target)
        index += 1
    try:
        reports = routing.set_routes(runtime, org.viewer, org.id, wanted)
    except routing.RoutingRefused as problem:
        view = routing.routing_view(runtime.sessions, org.viewer, org.id)
        return render(
            request,
            "entities.html",
            400,
            org=org,
            view=view,
            back=back_url(org.id, org.setup_step),
            error=str(problem),
        )
    for report in reports:
        flash(request, report.sentence())
    if not reports:
        flash(request, "Nothing changed.")
    return RedirectResponse(f"/orgs/{org.id}/entities", status_code=303)
