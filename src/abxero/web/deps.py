"""What every page group asks for before it does anything: FastAPI dependencies.

A route names what it needs in its signature and FastAPI supplies it before the body runs:

* :data:`RuntimeDep` and :data:`JobsDep`: the process's :class:`Runtime` and task queue;
* :data:`Viewer`: the signed-in user's id, else :class:`SignInRequired` (a 303 to sign in,
  coming back to the page afterwards);
* :func:`organisation_at`: the organisation of the ``{connection_id}`` in the path, only ever
  one the signed-in user may see (:class:`NotFound`, a 404 whether it exists or not); given a
  setup step, an organisation still before that step is sent on to where its setup stands
  (:class:`StepNotReached`, a 303).

The exception handlers that turn these into pages are in :mod:`abxero.web.app`. See FastAPI's
"Dependencies" tutorial (https://fastapi.tiangolo.com/tutorial/dependencies/) for how
``Depends`` and ``Annotated`` aliases are resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain.lifecycles import SetupStep
from abxero.jobs.tasks import Jobs
from abxero.runtime import Runtime
from abxero.services.connections import NotFound, connection_for
from abxero.services.setup import step_index
from abxero.store.models import XeroConnection


class SignInRequired(Exception):
    """The page needs a signed-in user; they are sent to sign in and brought back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class StepNotReached(Exception):
    """The organisation's setup has not reached the page's step; the browser is sent to
    ``location``, the step it is at."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass(frozen=True)
class Org:
    """The organisation a page is about; only ever one the signed-in user may see, and
    ``viewer`` is that user."""

    id: int
    name: str
    setup_step: str
    status: str
    short_code: str
    viewer: int


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def jobs_of(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


def sessions_of(request: Request) -> sessionmaker[Session]:
    """The database sessions, for the services that need nothing else of the runtime."""
    return runtime_of(request).sessions


def user_id(request: Request) -> int:
    """The signed-in user, or :class:`SignInRequired`."""
    value = request.session.get("user_id")
    if not isinstance(value, int):
        raise SignInRequired(request.url.path)
    return value


def step_url(connection_id: int, step: str) -> str:
    """The page of a setup step; ``done`` is the organisation's manage page."""
    if step == SetupStep.DONE:
        return f"/orgs/{connection_id}"
    return f"/orgs/{connection_id}/setup/{step}"


def reached(org: Org, step: str) -> bool:
    return step_index(org.setup_step) >= step_index(step)


def organisation(request: Request, connection_id: int) -> Org:
    """The user's organisation, or :class:`NotFound` (a 404, whether it exists or not)."""
    viewer = user_id(request)
    with runtime_of(request).sessions() as session:
        connection: XeroConnection = connection_for(session, viewer, connection_id)
        return Org(
            connection.id,
            connection.tenant_name,
            connection.setup_step,
            connection.status,
            connection.short_code,
            viewer,
        )


def organisation_at(step: str | None = None) -> Callable[[Request, int], Org]:
    """A dependency: the signed-in user's organisation ``{connection_id}``; with ``step``, one
    whose setup has reached it (else :class:`StepNotReached` to the step it is at).

    The signed-in check runs inside, after FastAPI has validated ``connection_id``, so a
    malformed id is a 404 before anything else, as it was when each route checked in its body.
    """

    def dependency(request: Request, connection_id: int) -> Org:
        org = organisation(request, connection_id)
        if step is not None and not reached(org, step):
            raise StepNotReached(step_url(org.id, org.setup_step))
        return org

    dependency.__name__ = f"organisation_at_{step or 'any'}"
    return dependency


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
JobsDep = Annotated[Jobs, Depends(jobs_of)]
Sessions = Annotated[sessionmaker[Session], Depends(sessions_of)]
Viewer = Annotated[int, Depends(user_id)]
AnyOrg = Annotated[Org, Depends(organisation_at())]
"""The user's organisation at whatever step its setup is."""

__all__ = [
    "AnyOrg",
    "JobsDep",
    "NotFound",
    "Org",
    "RuntimeDep",
    "Sessions",
    "SignInRequired",
    "StepNotReached",
    "Viewer",
    "jobs_of",
    "organisation",
    "organisation_at",
    "runtime_of",
    "sessions_of",
    "step_url",
    "user_id",
]
