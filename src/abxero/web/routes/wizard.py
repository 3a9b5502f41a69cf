"""The setup wizard: connect Amazon Business, import history, map accounts, review, finish."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from abxero.domain.amazon_fit import store_for
from abxero.domain.history import describe_duration
from abxero.domain.lifecycles import SetupStep
from abxero.runtime import NotConnected
from abxero.services import routing, setup
from abxero.services.amazon_link import (
    REGIONS,
    AmazonConnectFailed,
    amazon_consent_url,
    connect_amazon,
)
from abxero.services.amazon_link import Organisation as FitFor
from abxero.services.connections import AlreadyPaired
from abxero.sync.ports import SideError
from abxero.web.deps import (
    AnyOrg,
    JobsDep,
    Org,
    RuntimeDep,
    organisation,
    organisation_at,
    runtime_of,
    step_url,
)
from abxero.web.pages import flash, org_context, render
from abxero.web.routes.mapping_page import (
    PageMode,
    PostedForm,
    initial_values,
    no_expense_account,
    render_mapping,
    submitted_mapping,
)
from abxero.web.security import check_csrf, check_ids, pending_request, pop_matching

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])
PENDING_AMAZON = "amazon_oauth"
WIZARD_STEPS = (
    (SetupStep.AMAZON, "Connect Amazon Business"),
    (SetupStep.IMPORT, "Import history"),
    (SetupStep.MAPPING, "Map accounts"),
    (SetupStep.REVIEW, "Review and finish"),
)
ImportStep = Annotated[Org, Depends(organisation_at(SetupStep.IMPORT))]
MappingStep = Annotated[Org, Depends(organisation_at(SetupStep.MAPPING))]
ReviewStep = Annotated[Org, Depends(organisation_at(SetupStep.REVIEW))]
"""The organisation of the path, once its setup has reached the step (else sent to its step)."""


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def wizard_page(
    request: Request, org: Org, name: str, step: str, status_code: int = 200, **context: object
) -> Response:
    return render(request, name, status_code, org=org, step=step, steps=WIZARD_STEPS, **context)


# -- 1. Amazon Business -------------------------------------------------------------------


def organisation_read(request: Request, org: Org) -> tuple[FitFor | None, str]:
    """What the fit check and the store choice need from Xero; else why Xero could not say."""
    try:
        context = org_context(request, org.id)
    except (SideError, NotConnected) as problem:
        return None, getattr(problem, "message", "") or "abxero has no access to it right now."
    return FitFor(context.name or org.name, context.base_currency), store_for(
        context.country_code, context.base_currency
    )


@router.get("/orgs/{connection_id}/setup/amazon")
def amazon_step(request: Request, org: AnyOrg, runtime: RuntimeDep) -> Response:
    found, store = organisation_read(request, org)
    return wizard_page(
        request,
        org,
        "wizard_amazon.html",
        SetupStep.AMAZON,
        regions=REGIONS,
        chosen=store if found else "",
        xero_problem="" if found else store,
        fed_by=routing.fed_by_name(runtime.sessions, org.id, org.viewer),
    )


@router.post("/orgs/{connection_id}/setup/amazon")
def amazon_consent(
    request: Request, org: AnyOrg, runtime: RuntimeDep, region: str = Form("")
) -> Response:
    if region not in REGIONS:
        return wizard_page(
            request,
            org,
            "wizard_amazon.html",
            SetupStep.AMAZON,
            regions=REGIONS,
            chosen="",
            error="Choose the Amazon store you buy from.",
            status_code=400,
        )
    state = secrets.token_urlsafe(24)
    request.session[PENDING_AMAZON] = pending_request(
        state, runtime.now(), connection_id=org.id, region=region
    )
    return see_other(amazon_consent_url(runtime, region, state))


@router.get("/amazon/callback")
def amazon_callback(
    request: Request, runtime: RuntimeDep, state: str = "", code: str = "", error: str = ""
) -> Response:
    pending = pop_matching(request.session, PENDING_AMAZON, state, runtime.now())
    if pending is None:
        return render(
            request,
            "problem.html",
            400,
            title="That Amazon link is not valid",
            message="It may be old or from another browser window. Nothing was connected.",
            retry_label="Back to your organisations",
            retry_href="/orgs",
        )
    org = organisation(request, int(pending["connection_id"]))
    retry = step_url(org.id, SetupStep.AMAZON)
    if error or not code:
        return amazon_problem(
            request,
            org,
            "Amazon Business was not connected",
            "The consent on Amazon was cancelled or refused, so abxero cannot read purchases.",
            "Connect again and choose Allow on the Amazon page.",
            retry,
        )
    fit_for, why_not = organisation_read(request, org)
    if fit_for is None:
        return amazon_problem(
            request,
            org,
            "Xero could not be read",
            f"abxero checks the Amazon account against the organisation's base currency before "
            f"connecting it, and Xero did not answer: {why_not}",
            "Wait a minute and connect again. If Xero asks you to reconnect, sign in again.",
            retry,
        )
    try:
        account = connect_amazon(
            runtime,
            org.id,
            str(pending["region"]),
            code,
            org.viewer,
            organisation=fit_for,
        )
    except AlreadyPaired as problem:
        return amazon_problem(
            request, org, "This Amazon Business account is taken", str(problem), "", retry
        )
    except AmazonConnectFailed as problem:
        return amazon_problem(request, org, problem.title, problem.message, problem.remedy, retry)
    flash(request, f"Connected Amazon Business: {account.business_name.rstrip('.')}.")
    refreshed = organisation(request, org.id)
    return see_other(
        step_url(
            org.id, SetupStep.IMPORT if refreshed.setup_step != SetupStep.DONE else SetupStep.DONE
        )
    )


def amazon_problem(
    request: Request, org: Org, title: str, message: str, remedy: str, retry: str
) -> Response:
    return render(
        request,
        "problem.html",
        400,
        org=org,
        title=title,
        message=message,
        remedy=remedy,
        retry_label="Connect Amazon Business again",
        retry_href=retry,
    )


# -- 2. import history -------------------------------------------------------------------


@router.get("/orgs/{connection_id}/setup/import")
def import_step(
    request: Request, org: ImportStep, runtime: RuntimeDep, run: int | None = None
) -> Response:
    progress = (
        setup.run_progress(runtime.sessions, org.id, run)
        if run is not None
        else setup.latest_run(runtime.sessions, org.id, SetupStep.IMPORT)
    )
    return import_page(request, org, progress=progress)


def import_page(
    request: Request,
    org: Org,
    *,
    progress: setup.RunProgress | None = None,
    first: str = "",
    last: str = "",
    error: str = "",
    status_code: int = 200,
    chosen: setup.ImportRange | None = None,
    confirm: bool = False,
) -> Response:
    runtime = runtime_of(request)
    today = runtime.now().date()
    shown = chosen or setup.default_import_range(today)
    return wizard_page(
        request,
        org,
        "wizard_import.html",
        SetupStep.IMPORT,
        progress=progress,
        first=first or shown.first.isoformat(),
        last=last or shown.last.isoformat(),
        earliest=setup.earliest_import_day(today).isoformat(),
        today=today.isoformat(),
        max_days=setup.MAX_IMPORT_DAYS,
        default_days=setup.DEFAULT_IMPORT_DAYS,
        estimate=None
        if error
        else setup.import_estimate(runtime.sessions, org.id, shown, runtime.now()),
        confirm=confirm,
        describe=describe_duration,
        import_action=step_url(org.id, SetupStep.IMPORT),
        error=error,
        status_code=status_code,
    )


@router.post("/orgs/{connection_id}/setup/import")
def start_import(
    request: Request,
    org: ImportStep,
    runtime: RuntimeDep,
    jobs: JobsDep,
    first: str = Form(""),
    last: str = Form(""),
    action: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    """Start the import; "Estimate", or a range beyond the default 90 days not yet confirmed,
    shows the Xero calls and the expected duration first."""
    try:
        chosen = setup.parse_import_range(first, last, runtime.now().date())
    except setup.RangeInvalid as problem:
        return import_page(
            request, org, first=first, last=last, error=str(problem), status_code=400
        )
    if action == "estimate" or (setup.needs_confirmation(chosen) and confirm != "yes"):
        return import_page(request, org, chosen=chosen, confirm=True)
    run_id = setup.start_import(jobs, org.id, chosen, runtime.now())
    return see_other(f"{step_url(org.id, SetupStep.IMPORT)}?run={run_id}")


@router.post("/orgs/{connection_id}/setup/import/continue")
def finish_import_step(org: ImportStep, runtime: RuntimeDep) -> Response:
    setup.advance_to(runtime.sessions, org.id, SetupStep.MAPPING)
    return see_other(step_url(org.id, SetupStep.MAPPING))


@router.get("/orgs/{connection_id}/runs/{run_id}")
def run_status(org: AnyOrg, runtime: RuntimeDep, run_id: int) -> Response:
    progress = setup.run_progress(runtime.sessions, org.id, run_id)
    left = progress.time_left(runtime.now())
    return JSONResponse(
        {
            "windows_done": progress.windows_done,
            "windows_left": progress.windows_left,
            "time_left": describe_duration(left) if left is not None else "",
            "status": progress.status,
            "progress": progress.progress,
            "finished": progress.finished,
            "fetched": progress.counts.get("fetched", 0),
            "new": progress.new,
            "already_known": progress.already_known,
            "error": progress.error,
            "line": progress.line,
        }
    )


# -- 3. map accounts -------------------------------------------------------------------


WIZARD_MAPPING = "Save and continue"
ROLE_NAMES = {
    "bill": "bills",
    "payment": "bill payments",
    "credit_note": "credit notes",
    "refund": "refunds of credit notes",
    "allocation": "credit note allocations to bills",
    "spend": "spend money",
    "receive": "receive money",
}


def wizard_mode(org: Org) -> PageMode:
    return PageMode(
        action=step_url(org.id, SetupStep.MAPPING),
        back=step_url(org.id, SetupStep.IMPORT),
        submit=WIZARD_MAPPING,
        in_wizard=True,
    )


@router.get("/orgs/{connection_id}/setup/mapping")
def mapping_step(request: Request, org: MappingStep) -> Response:
    context = org_context(request, org.id)
    values = initial_values(request, org, context)
    if values is None:
        return no_expense_account(request, org)
    return render_mapping(request, org, context, values, wizard_mode(org), steps=WIZARD_STEPS)


@router.post("/orgs/{connection_id}/setup/mapping")
def save_mapping_step(
    request: Request, org: MappingStep, runtime: RuntimeDep, posted: PostedForm
) -> Response:
    """A plain ``def``: reading Xero and the database runs in the threadpool, not the loop."""
    context = org_context(request, org.id, fresh=True)
    mapping, values, errors = submitted_mapping(request, org, context, posted)
    if mapping is None:
        return render_mapping(
            request, org, context, values, wizard_mode(org), errors, 400, steps=WIZARD_STEPS
        )
    setup.advance_to(runtime.sessions, org.id, SetupStep.REVIEW)
    return see_other(step_url(org.id, SetupStep.REVIEW))


# -- 4. review and finish -------------------------------------------------------------------


@router.get("/orgs/{connection_id}/setup/review")
def review_step(request: Request, org: ReviewStep, runtime: RuntimeDep) -> Response:
    sessions = runtime.sessions
    mapping = setup.saved_mapping(sessions, org.id)
    if mapping is None:
        return see_other(step_url(org.id, SetupStep.MAPPING))
    context = org_context(request, org.id)
    choices = setup.mapping_choices(context)
    names = {c.value: c.label for c in (*choices.expense_accounts, *choices.payment_accounts)}
    taxes = {c.value: c.label for c in choices.purchase_tax_types}
    return wizard_page(
        request,
        org,
        "wizard_review.html",
        SetupStep.REVIEW,
        mapping=mapping,
        preview=setup.preview(sessions, org.id, mapping, context),
        seen=setup.instruments_seen(sessions, org.id),
        account_name=lambda ref: names.get(ref or "", ref or "Same account as the item"),
        tax_name=lambda ref: taxes.get(ref, ref),
        uk=context.is_uk,
        fed_by=routing.fed_by_name(sessions, org.id, org.viewer),
        role_names=ROLE_NAMES,
    )


@router.post("/orgs/{connection_id}/setup/finish")
def finish(request: Request, org: ReviewStep, runtime: RuntimeDep, jobs: JobsDep) -> Response:
    setup.finish_setup(runtime.sessions, jobs, org.id)
    flash(request, "Setup finished. Your Amazon Business purchases are being posted to Xero.")
    return see_other(step_url(org.id, SetupStep.DONE))
