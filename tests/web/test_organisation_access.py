"""Each user sees only their own organisations, on every route that takes one by id.

The routes get the organisation from one dependency (``abxero.web.deps.organisation_at``), so
these tests check both that every such route declares it and that, through HTTP, another
user's organisation answers exactly like one that does not exist (404, nothing of it shown).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from abxero.services.connections import record_sign_in
from abxero.store.models import XeroConnection
from abxero.web import deps
from abxero.web.deps import StepNotReached, organisation_at
from abxero.xero import IdentityClaims, XeroTokens
from abxero.xero import TenantGrant as Grant
from tests.web.conftest import Browser

THEIR_NAME = "Their Books Ltd"
MISSING = 987654


def _organisation_routes() -> list[APIRoute]:
    """Every route of the app whose path names an organisation."""
    from abxero.web.routes import (
        alerts_page,
        auth,
        checks,
        entities,
        manage,
        rollback_page,
        webhooks,
        wizard,
    )

    groups = (alerts_page, auth, checks, entities, manage, rollback_page, webhooks, wizard)
    return [
        route
        for group in groups
        for route in group.router.routes
        if isinstance(route, APIRoute) and "{connection_id}" in route.path
    ]


ROUTES = _organisation_routes()
ORGANISATION_ROUTES = [(method, r.path) for r in ROUTES for method in sorted(r.methods)]


def _someone_elses_organisation(browser: Browser) -> int:
    other = Grant("conn-x", "tenant-of-someone-else", "ORGANISATION", THEIR_NAME, None)
    claims = IdentityClaims("someone-else", "sub-2", "x@example.com", "Sam", "Other", {})
    tokens = XeroTokens("at", "rt", browser.runtime.now(), ("openid",))
    record_sign_in(browser.runtime, claims, tokens, [other])
    with browser.runtime.sessions() as session:
        return session.query(XeroConnection).filter_by(tenant_id=other.tenant_id).one().id


def _path(template: str, connection_id: int) -> str:
    return template.format(connection_id=connection_id, run_id=1, rollback_id=1)


def test_the_list_covers_the_pages_that_take_an_organisation() -> None:
    paths = {route.path for route in ROUTES}
    assert "/orgs/{connection_id}" in paths
    assert "/orgs/{connection_id}/setup/finish" in paths
    assert "/orgs/{connection_id}/rollbacks/{rollback_id}/confirm" in paths
    assert len(ORGANISATION_ROUTES) >= 29


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.methods} {route.path}")
def test_every_organisation_route_asks_the_organisation_dependency(route: APIRoute) -> None:
    """No route reads the organisation by hand: each declares ``organisation_at``'s dependency,
    which looks it up among the signed-in user's organisations only."""
    names = [d.call.__name__ for d in route.dependant.dependencies if d.call is not None]
    assert any(name.startswith("organisation_at_") for name in names), names


@pytest.mark.parametrize(("method", "template"), ORGANISATION_ROUTES)
def test_another_users_organisation_is_not_found_on_every_route(
    browser: Browser, method: str, template: str
) -> None:
    browser.sign_in(["us"])
    theirs = _someone_elses_organisation(browser)
    answers = []
    for connection_id in (theirs, MISSING):
        path = _path(template, connection_id)
        if method == "GET":
            answer = browser.web.get(path)
        else:
            answer = browser.post(path, {"region": "US", "transaction_id": "x"}, page="/orgs")
        answers.append(answer)
    mine, missing = answers
    assert mine.status_code == missing.status_code == 404, (mine.status_code, template)
    assert THEIR_NAME not in mine.text
    assert "Page not found" in mine.text


def test_a_step_dependency_sends_an_organisation_on_to_its_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``organisation_at(step)`` refuses an organisation before ``step`` with the URL of the
    step it is at (the app answers that with a 303)."""
    at_import = deps.Org(7, "Books", "import", "connected", "!a", 1)
    monkeypatch.setattr(deps, "organisation", lambda request, connection_id: at_import)
    request: Any = None
    with pytest.raises(StepNotReached) as refused:
        organisation_at("review")(request, 7)
    assert refused.value.location == "/orgs/7/setup/import"
    assert organisation_at("import")(request, 7) is at_import
    assert organisation_at()(request, 7) is at_import
