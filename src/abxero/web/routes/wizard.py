"""The setup wizard: connect Amazon Business, import history, map accounts, review, finish."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from abxero.domain.amazon_fit import store_for
from abxero.domain.history import describe_duration
from abxero.domain.lifecycles import SetupStep
from abxero.jobs.tasks import Jobs
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
from abxero.web.pages import (
    Org,
    flash,
    org_context,
    organisation,
    render,
    runtime_of,
    user_id,
)
from abxero.web.routes.mapping_page import (
    PageMode,
    PostedForm,
    initial_values,
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


def jobs_of(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


def step_url(connection_id: int, step: str) -> str:
    if step == SetupStep.DONE:
        return f"/orgs/{connection_id}"
    return f"/orgs/{connection_id}/setup/{step}"


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def reached(org: Org, step: str) -> bool:
    return setup.step_index(org.setup_step) >= setup.step_index(step)


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
def amazon_step(request: Request, connection_id: int) -> Response:
    org = organisation(request, connection_id)
    found, store = organisation_read(request, org)
    return wizard_page(
        request,
        org,
        "wizard_amazon.html",
        SetupStep.AMAZON,
        regions=REGIONS,
        chosen=store if found else "",
        xero_problem="" if found else store,
        fed_by=routing.fed_by_name(runtime_of(request), org.id, user_id(request)),
    )


@router.post("/orgs/{connection_id}/setup/amazon")
def amazon_consent(request: Request, connection_id: int, region: str = Form("")) -> Response:
    org = organisation(request, connection_id)
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
    runtime = runtime_of(request)
    request.session[PENDING_AMAZON] = pending_request(
        state, runtime.now(), connection_id=org.id, region=region
    )
    return see_other(amazon_consent_url(runtime, region, state))


@router.get("/amazon/callback")
def amazon_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    pending = pop_matching(request.session, PENDING_AMAZON, state, runtime_of(request).now())
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
            runtime_of(request),
            org.id,
            str(pending["region"]),
            code,
            user_id(request),
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
def import_step(request: Request, connection_id: int, run: int | None = None) -> Response:
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.IMPORT):
        return see_other(step_url(org.id, org.setup_step))
    runtime = runtime_of(request)
    progress = (
        setup.run_progress(runtime, org.id, run)
        if run is not None
        else setup.latest_run(runtime, org.id, "import")
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
        estimate=None if error else setup.import_estimate(runtime, org.id, shown),
        confirm=confirm,
        describe=describe_duration,
        import_action=step_url(org.id, SetupStep.IMPORT),
        error=error,
        status_code=status_code,
    )


@router.post("/orgs/{connection_id}/setup/import")
def start_import(
    request: Request,
    connection_id: int,
    first: str = Form(""),
    last: str = Form(""),
    action: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    """Start the import; "Estimate", or a range beyond the default 90 days not yet confirmed,
    shows the Xero calls and the expected duration first."""
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.IMPORT):
        return see_other(step_url(org.id, org.setup_step))
    runtime = runtime_of(request)
    try:
        chosen = setup.parse_import_range(first, last, runtime.now().date())
    except setup.RangeInvalid as problem:
        return import_page(
            request, org, first=first, last=last, error=str(problem), status_code=400
        )
    if action == "estimate" or (setup.needs_confirmation(chosen) and confirm != "yes"):
        return import_page(request, org, chosen=chosen, confirm=True)
    run_id = setup.start_import(runtime, jobs_of(request), org.id, chosen)
    return see_other(f"{step_url(org.id, SetupStep.IMPORT)}?run={run_id}")


@router.post("/orgs/{connection_id}/setup/import/continue")
def finish_import_step(request: Request, connection_id: int) -> Response:
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.IMPORT):
        return see_other(step_url(org.id, org.setup_step))
    setup.advance_to(runtime_of(request), org.id, SetupStep.MAPPING)
    return see_other(step_url(org.id, SetupStep.MAPPING))


@router.get("/orgs/{connection_id}/runs/{run_id}")
def run_status(request: Request, connection_id: int, run_id: int) -> Response:
    org = organisation(request, connection_id)
    runtime = runtime_of(request)
    progress = setup.run_progress(runtime, org.id, run_id)
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
def mapping_step(request: Request, connection_id: int) -> Response:
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.MAPPING):
        return see_other(step_url(org.id, org.setup_step))
    context = org_context(request, org.id)
    values = initial_values(request, org, context)
    if values is None:
        return no_expense_account(request, org)
    return render_mapping(request, org, context, values, wizard_mode(org), steps=WIZARD_STEPS)


def no_expense_account(request: Request, org: Org) -> Response:
    return render(
        request,
        "problem.html",
        409,
        org=org,
        title="No expense account to code purchases to",
        message="This Xero organisation has no active expense account.",
        remedy="Add one in Xero (Accounting → Chart of accounts), then come back.",
        retry_label="Try again",
        retry_href=step_url(org.id, SetupStep.MAPPING),
    )


@router.post("/orgs/{connection_id}/setup/mapping")
def save_mapping_step(request: Request, connection_id: int, posted: PostedForm) -> Response:
    """A plain ``def``: reading Xero and the database runs in the threadpool, not the loop."""
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.MAPPING):
        return see_other(step_url(org.id, org.setup_step))
    context = org_context(request, org.id, fresh=True)
    mapping, values, errors = submitted_mapping(request, org, context, posted)
    if mapping is None:
        return render_mapping(
            request, org, context, values, wizard_mode(org), errors, 400, steps=WIZARD_STEPS
        )
    setup.advance_to(runtime_of(request), org.id, SetupStep.REVIEW)
    return see_other(step_url(org.id, SetupStep.REVIEW))


# -- 4. review and finish -------------------------------------------------------------------


@router.get("/orgs/{connection_id}/setup/review")
def review_step(request: Request, connection_id: int) -> Response:
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.REVIEW):
        return see_other(step_url(org.id, org.setup_step))
    runtime = runtime_of(request)
    mapping = setup.saved_mapping(runtime, org.id)
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
        preview=setup.preview(runtime, org.id, mapping, context),
        seen=setup.instruments_seen(runtime, org.id),
        account_name=lambda ref: names.get(ref or "", ref or "Same account as the item"),
        tax_name=lambda ref: taxes.get(ref, ref),
        uk=context.is_uk,
        fed_by=routing.fed_by_name(runtime, org.id, user_id(request)),
        role_names=ROLE_NAMES,
    )


@router.post("/orgs/{connection_id}/setup/finish")
def finish(request: Request, connection_id: int) -> Response:
    org = organisation(request, connection_id)
    if not reached(org, SetupStep.REVIEW):
        return see_other(step_url(org.id, org.setup_step))
    setup.finish_setup(runtime_of(request), jobs_of(request), org.id)
    flash(request, "Setup finished. Your Amazon Business purchases are being posted to Xero.")
    return see_other(step_url(org.id, SetupStep.DONE))
