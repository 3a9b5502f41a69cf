"""The held list: every transaction waiting for one reason, a page of 200 at a time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from abxero.services import held_list
from abxero.web.deps import AnyOrg, RuntimeDep
from abxero.web.pages import render
from abxero.web.security import check_csrf, check_ids

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])


@router.get("/orgs/{connection_id}/held")
def held(
    request: Request, org: AnyOrg, runtime: RuntimeDep, code: str = "", page: int = 0
) -> Response:
    listing = held_list.held_page(runtime.sessions, org.id, code[:64], page)
    return render(request, "held.html", org=org, listing=listing)
