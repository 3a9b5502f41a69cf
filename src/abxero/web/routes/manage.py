"""The manage page: health, sync now, errors and retry, holds, remapping, import, activity,
disconnect."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from abxero.alerts import service as alerts
from abxero.domain.context import OrgContext
from abxero.domain.history import describe_duration
from abxero.domain.lifecycles import ConnectionStatus, SetupStep
from abxero.domain.mapping import PaymentMethod
from abxero.runtime import NotConnected, Runtime
from abxero.services import (
    held_list,
    manage,
    page_state,
    reconcile,
    rollback,
    routing,
    setup,
    web_sessions,
)
from abxero.sync.ports import SideError
from abxero.web import mapping_form as form
from abxero.web.deps import AnyOrg, JobsDep, Org, RuntimeDep, organisation_at, runtime_of
from abxero.web.pages import flash, org_context, render
from abxero.web.routes.mapping_page import (
    POLICIES,
    PageMode,
    PostedForm,
    initial_values,
    no_expense_account,
    payment_choices,
    render_mapping,
    submitted_mapping,
)
from abxero.web.security import check_csrf, check_ids, start_fresh_session

router = APIRouter(dependencies=[Depends(check_ids), Depends(check_csrf)])
SetUp = Annotated[Org, Depends(organisation_at(SetupStep.DONE))]
"""The organisation of the path once its setup is finished (else sent to its setup step)."""
#: Threads that read Xero for a manage page while its database reads run.
XERO_READS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="manage-xero")


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def manage_url(org: Org) -> str:
    return f"/orgs/{org.id}"


def read_xero(
    request: Request, org: Org
) -> tuple[OrgContext | None, str, page_state.Problem | None]:
    """The organisation and its supplier contact from Xero; else why Xero could not be read."""
    try:
        context = org_context(request, org.id)
        contact = page_state.contact_problem(runtime_of(request), org.id)
    except (SideError, NotConnected) as problem:
        return None, page_state.xero_problem(problem), None
    return context, "", contact


def refuse_when_disconnected(request: Request, org: Org) -> Response | None:
    """Disconnected organisations offer only reconnecting; anything else goes back to the page."""
    if org.status != ConnectionStatus.DISCONNECTED:
        return None
    flash(request, "This organisation is disconnected. Reconnect Xero first.", "error")
    return see_other(manage_url(org))


@router.get("/orgs/{connection_id}")
def manage_page(request: Request, org: SetUp, run: int | None = None) -> Response:
    return render_manage(request, org, run=run)


def render_manage(
    request: Request,
    org: Org,
    *,
    run: int | None = None,
    payment_errors: dict[str, str] | None = None,
    status_code: int = 200,
    chosen: setup.ImportRange | None = None,
) -> Response:
    """The manage page; with ``chosen``, the Xero estimate of that import range to confirm.

    Xero (the organisation, the supplier contact) is read in another thread while the page's
    database reads run, so a view waits for the slower of the two, not for both."""
    runtime = runtime_of(request)
    xero_read = (
        XERO_READS.submit(read_xero, request, org)
        if org.status == ConnectionStatus.CONNECTED
        else None
    )
    now = runtime.now()
    state = manage.status(runtime.sessions, org.id, now)
    mapping = setup.saved_mapping(runtime.sessions, org.id)
    seen = setup.instruments_seen(runtime.sessions, org.id)
    reads = _database_reads(runtime, org)
    context, xero_error, contact = xero_read.result() if xero_read else (None, "", None)
    if state.xero_status != ConnectionStatus.CONNECTED:
        context, xero_error, contact = None, "", None
    problems = page_state.blocking_problems(
        state, xero_error=xero_error, contact=contact, now=runtime.now()
    )
    held, held_fresh, held_stored = held_list.held_groups(
        runtime.sessions, org.id, mapping, context
    )
    values = form.values_from_mapping(mapping, [item.key for item in seen]) if mapping else {}
    return render(
        request,
        "manage.html",
        status_code,
        org=org,
        state=state,
        problems=problems,
        disconnected=state.xero_status == ConnectionStatus.DISCONNECTED,
        held=held,
        held_fresh=held_fresh,
        held_stored=held_stored,
        policies=POLICIES,
        seen=seen,
        values=values,
        payment_errors=payment_errors or {},
        payment_field=form.payment_field,
        payment_options=payment_choices(setup.mapping_choices(context)) if context else [],
        describe=describe_duration,
        **reads,
        **_import_form(runtime, org, run, chosen),
    )


def _database_reads(runtime: Runtime, org: Org) -> dict[str, Any]:
    """What the page shows from abxero's own database, beside the status and the holds."""
    sessions = runtime.sessions
    return {
        "syncing_as": manage.syncing_as_name(sessions, org.id),
        "fed_by": routing.fed_by_name(sessions, org.id, org.viewer),
        "failed": manage.failed_documents(sessions, org.id),
        "quarantine": page_state.quarantined(sessions, org.id),
        "notices": manage.recent_events(sessions, org.id),
        "activity": manage.recent_activity(sessions, org.id),
        "reconciliation": reconcile.last_result(sessions, org.id),
        "alerts": alerts.view(runtime, org.id),
        "posting": setup.posting_state(runtime, org.id),
        "rollback_waiting": rollback.unfinished(sessions, org.id),
    }


def _import_form(
    runtime: Runtime, org: Org, run: int | None, chosen: setup.ImportRange | None
) -> dict[str, Any]:
    """The import and check forms: their default dates, a running import, an estimate."""
    today = runtime.now().date()
    shown = chosen or setup.default_import_range(today)
    return {
        "import_run": setup.run_progress(runtime.sessions, org.id, run)
        if run is not None
        else None,
        "first": shown.first.isoformat(),
        "last": shown.last.isoformat(),
        "earliest": setup.earliest_import_day(today).isoformat(),
        "today": today.isoformat(),
        "check_first": reconcile.default_period(today).since.isoformat(),
        "estimate": setup.import_estimate(runtime.sessions, org.id, chosen, runtime.now())
        if chosen
        else None,
        "confirm": chosen is not None,
        "import_action": f"/orgs/{org.id}/import",
    }


@router.post("/orgs/{connection_id}/sync")
def sync_now(request: Request, org: AnyOrg, jobs: JobsDep) -> Response:
    if refused := refuse_when_disconnected(request, org):
        return refused
    jobs.enqueue_sync(org.id)
    flash(request, "Sync queued ahead of background work; the status above shows when it runs.")
    return see_other(manage_url(org))


@router.post("/orgs/{connection_id}/retry")
def retry(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    jobs: JobsDep,
    transaction_id: str = Form(""),
) -> Response:
    if manage.retry_transaction(runtime.sessions, jobs, org.id, transaction_id):
        flash(request, "Trying again: the transaction is planned and sent on this sync.")
    else:
        flash(request, "Nothing to retry for that transaction.", "warning")
    return see_other(manage_url(org))


@router.post("/orgs/{connection_id}/payment-methods")
def remap_payment_methods(
    request: Request, org: AnyOrg, runtime: RuntimeDep, jobs: JobsDep, values: PostedForm
) -> Response:
    if refused := refuse_when_disconnected(request, org):
        return refused
    values, limits = form.bounded(values)
    if limits:
        flash(request, limits["form"], "error")
        return see_other(manage_url(org))
    context = org_context(request, org.id, fresh=True)
    terms = setup.saved_mapping(runtime.sessions, org.id)
    days = terms.pay_by_invoice.terms_days if terms and terms.pay_by_invoice else 30
    methods: dict[str, PaymentMethod | None] = {}
    for key, value in values.items():
        match = form.PAYMENT_FIELD.match(key)
        if match:
            methods[match.group(1)] = form.method_from_value(value, days)
    problems = manage.remap_payment_methods(runtime.sessions, jobs, org.id, methods, context)
    if problems:
        errors = form.problem_fields(problems, [])
        return render_manage(request, org, payment_errors=errors, status_code=400)
    flash(request, "Payment methods saved. Waiting purchases are posted on this sync.")
    return see_other(manage_url(org))


@router.post("/orgs/{connection_id}/import")
def manual_import(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    jobs: JobsDep,
    first: str = Form(""),
    last: str = Form(""),
    action: str = Form(""),
    confirm: str = Form(""),
) -> Response:
    if refused := refuse_when_disconnected(request, org):
        return refused
    try:
        chosen = setup.parse_import_range(first, last, runtime.now().date())
    except setup.RangeInvalid as problem:
        flash(request, str(problem), "error")
        return see_other(manage_url(org))
    if action == "estimate" or (setup.needs_confirmation(chosen) and confirm != "yes"):
        return render_manage(request, org, chosen=chosen)
    run_id = setup.start_import(jobs, org.id, chosen, runtime.now())
    return see_other(f"{manage_url(org)}?run={run_id}#import")


@router.post("/orgs/{connection_id}/quarantine")
def decide_quarantined(
    request: Request,
    org: AnyOrg,
    runtime: RuntimeDep,
    transaction_id: str = Form(""),
    decision: str = Form(""),
) -> Response:
    """A person sets a quarantined record aside: entered by hand in Xero, or dismissed."""
    who = str(request.session.get("user_name") or "")
    if page_state.set_aside(runtime.sessions, org.id, transaction_id, decision, who, runtime.now()):
        flash(request, "Recorded. abxero will not post that record.")
    else:
        flash(request, "That record is no longer waiting for a decision.", "warning")
    return see_other(f"{manage_url(org)}#quarantine")


# -- accounts ----------------------------------------------------------------------------


def manage_mode(org: Org) -> PageMode:
    url = manage_url(org)
    return PageMode(action=f"{url}/mapping", back=url, submit="Save mapping", in_wizard=False)


@router.get("/orgs/{connection_id}/mapping")
def mapping(request: Request, org: AnyOrg) -> Response:
    if refused := refuse_when_disconnected(request, org):
        return refused
    context = org_context(request, org.id)
    values = initial_values(request, org, context)
    if values is None:
        return no_expense_account(request, org)
    return render_mapping(request, org, context, values, manage_mode(org))


@router.post("/orgs/{connection_id}/mapping")
def save_mapping(request: Request, org: AnyOrg, jobs: JobsDep, posted: PostedForm) -> Response:
    if refused := refuse_when_disconnected(request, org):
        return refused
    context = org_context(request, org.id, fresh=True)
    saved, values, errors = submitted_mapping(request, org, context, posted)
    if saved is None:
        return render_mapping(request, org, context, values, manage_mode(org), errors, 400)
    jobs.enqueue_sync(org.id)
    flash(request, "Mapping saved. Held purchases are planned again on this sync.")
    return see_other(manage_url(org))


# -- disconnect ----------------------------------------------------------------------------


def keep_signed_in(request: Request) -> None:
    """A new session for this browser, same user: every other session of the organisation's
    users has ended, and so has this browser's old cookie."""
    user, name = request.session.get("user_id"), request.session.get("user_name")
    start_fresh_session(request.session)
    request.session.update(user_id=user, user_name=name)


@router.get("/orgs/{connection_id}/disconnect")
def confirm_disconnect(request: Request, org: AnyOrg) -> Response:
    return render(request, "disconnect.html", org=org)


@router.post("/orgs/{connection_id}/disconnect")
def disconnect(request: Request, org: AnyOrg, runtime: RuntimeDep) -> Response:
    manage.disconnect(runtime, org.id)
    web_sessions.end_for_organisation(runtime.sessions, org.id)
    keep_signed_in(request)
    flash(request, f"{org.name} is disconnected. Its history is kept.")
    return see_other(manage_url(org))
