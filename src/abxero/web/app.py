"""The FastAPI application: middleware, static files, page groups and error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from abxero.amazon import AmazonError
from abxero.jobs.tasks import Jobs
from abxero.runtime import NotConnected, Runtime
from abxero.services.connections import NotFound
from abxero.services.setup import ContextCache, XeroUnreadable
from abxero.sync.ports import SideError
from abxero.web.deps import SignInRequired, StepNotReached
from abxero.web.pages import HERE, render
from abxero.web.routes import (
    alerts_page,
    auth,
    checks,
    entities,
    held_page,
    manage,
    rollback_page,
    webhooks,
    wizard,
)
from abxero.web.security import BodyLimit, SecurityHeaders, ServerSessions
from abxero.xero import XeroError


def create_app(runtime: Runtime, jobs: Jobs) -> FastAPI:
    """The web app over ``runtime``; ``jobs`` is where pages queue imports and syncs."""
    app = FastAPI(title="abxero", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.jobs = jobs
    app.state.contexts = ContextCache()
    app.add_middleware(ServerSessions, runtime=runtime)
    app.add_middleware(SecurityHeaders, settings=runtime.settings)
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    routers = (
        auth.router,
        wizard.router,
        manage.router,
        entities.router,
        webhooks.router,
        checks.router,
        rollback_page.router,
        alerts_page.router,
        held_page.router,
    )
    for group in routers:
        app.include_router(group)
    add_error_pages(app)
    return app


def add_error_pages(app: FastAPI) -> None:
    """Every failure a route can raise becomes a page with its cause and a way on."""
    for kinds, handler in ERROR_PAGES:
        for kind in kinds:
            app.add_exception_handler(kind, handler)


async def sign_in_first(request: Request, problem: SignInRequired) -> Response:
    return RedirectResponse("/?" + urlencode({"next": problem.next_path}), status_code=303)


async def step_not_reached(request: Request, problem: StepNotReached) -> Response:
    return RedirectResponse(problem.location, status_code=303)


async def not_found(request: Request, problem: NotFound) -> Response:
    return page_not_found(request)


async def malformed(request: Request, problem: RequestValidationError) -> Response:
    return page_not_found(request)


async def http_problem(request: Request, problem: HTTPException) -> Response:
    if problem.status_code == 404:
        return page_not_found(request)
    if problem.status_code == 403:
        return render(
            request,
            "problem.html",
            403,
            title="This form has expired",
            message="For your security the form could not be sent. Reload the page and try again.",
            retry_label="Start again",
            retry_href="/",
        )
    return render(
        request,
        "problem.html",
        problem.status_code,
        title="Something went wrong",
        message=str(problem.detail),
        retry_label="Start again",
        retry_href="/",
    )


async def outside_problem(request: Request, problem: SideError) -> Response:
    side = "Xero" if problem.side == "xero" else "Amazon Business"
    return render(
        request,
        "problem.html",
        502,
        title=f"{side} could not be read"
        if isinstance(problem, XeroUnreadable)
        else f"{side} did not answer",
        message=problem.message,
        remedy="Wait a minute and try again. If Xero asks you to reconnect, sign in again.",
        retry_label="Back to your organisations",
        retry_href="/orgs",
    )


async def unexpected_answer(request: Request, problem: Exception) -> Response:
    """An outside answer no page expected: still a page with the cause and a remedy."""
    side = "Amazon Business" if isinstance(problem, AmazonError) else "Xero"
    return render(
        request,
        "problem.html",
        502,
        title=f"{side} gave an answer abxero could not use",
        message=str(problem)[:500] or type(problem).__name__,
        remedy="Wait a minute and try again. If it goes on, reconnect from the organisation's "
        "page.",
        retry_label="Back to your organisations",
        retry_href="/orgs",
    )


async def not_connected(request: Request, problem: NotConnected) -> Response:
    return render(
        request,
        "problem.html",
        409,
        title="This organisation is not connected",
        message="abxero has no access to it at the moment.",
        remedy="Sign in with Xero again to reconnect it.",
        retry_label="Sign in again",
        retry_href="/",
    )


ErrorPage = Callable[[Request, Any], Awaitable[Response]]
ERROR_PAGES: tuple[tuple[tuple[type[Exception], ...], ErrorPage], ...] = (
    ((SignInRequired,), sign_in_first),
    ((StepNotReached,), step_not_reached),
    ((NotFound,), not_found),
    ((RequestValidationError,), malformed),
    ((HTTPException,), http_problem),
    ((SideError,), outside_problem),
    ((XeroError, AmazonError, httpx.HTTPError), unexpected_answer),
    ((NotConnected,), not_connected),
)


def page_not_found(request: Request) -> Response:
    return render(
        request,
        "problem.html",
        404,
        title="Page not found",
        message="There is nothing here, or it is not yours to see.",
        retry_label="Back to your organisations",
        retry_href="/orgs",
    )
