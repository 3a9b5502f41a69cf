"""The mapping form page, shared by the wizard's mapping step and the manage page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from abxero.domain.context import OrgContext
from abxero.domain.lifecycles import SetupStep
from abxero.domain.mapping import MAX_TRACKING_CATEGORIES, MappingConfig
from abxero.domain.mapping_checks import check_mapping
from abxero.domain.transactions import Instrument
from abxero.services import setup
from abxero.web import mapping_form as form
from abxero.web.deps import Org, runtime_of, step_url
from abxero.web.pages import render


@dataclass(frozen=True)
class PageMode:
    """Where the form sits: the wizard step or the manage page."""

    action: str
    back: str
    submit: str
    in_wizard: bool


def payment_choices(choices: setup.MappingChoices) -> list[tuple[str, str]]:
    options = [
        ("", "Not mapped yet: hold its purchases"),
        (form.INVOICE, "Pay by Invoice: the bill stays in accounts payable"),
    ]
    options += [
        (form.PAID_FROM + c.value, f"Bill paid from {c.label}") for c in choices.payment_accounts
    ]
    options += [
        (form.SPEND_FROM + c.value, f"Spend money from {c.label}") for c in choices.bank_accounts
    ]
    return options


POLICIES = (
    (
        "Bill paid from an account",
        "Each purchase becomes a bill to Amazon with its invoice, paid at once from that "
        "account, so the bill sits in your payables history and the payment matches the card "
        "statement line.",
    ),
    (
        "Spend money from an account",
        "Each purchase becomes one Spend Money transaction in that account, with no bill: "
        "simpler, and it still matches the statement line, but the purchase never appears in "
        "accounts payable.",
    ),
    (
        "Pay by Invoice",
        "The bill stays in accounts payable, due after the terms below, until you pay Amazon.",
    ),
    ("Not mapped yet", "Nothing is posted for that card; its purchases wait until you choose."),
)


def choice_pairs(choices: Sequence[setup.Choice]) -> list[tuple[str, str]]:
    return [(choice.value, choice.label) for choice in choices]


def render_mapping(
    request: Request,
    org: Org,
    context: OrgContext,
    values: dict[str, str],
    mode: PageMode,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    **extra: object,
) -> Response:
    runtime = runtime_of(request)
    values, _ = form.bounded(values)
    choices = setup.mapping_choices(context)
    seen = {item.key: item for item in setup.instruments_seen(runtime.sessions, org.id)}
    payment_keys = sorted(
        {match.group(1) for key in values if (match := form.PAYMENT_FIELD.match(key))} | set(seen)
    )
    vat_rates = sorted(
        (match.group(1) for key in values if (match := form.VAT_FIELD.match(key))), reverse=True
    )
    sellers = setup.sellers_seen(runtime.sessions, org.id)
    listed = {form.seller_tax_field(seller.name) for seller in sellers}
    unseen = sorted(key for key in values if form.SELLER_TAX_FIELD.match(key) and key not in listed)
    return render(
        request,
        "mapping.html",
        status_code,
        org=org,
        step=SetupStep.MAPPING,
        mode=mode,
        choices=choices,
        values=values,
        errors=errors or {},
        seen=seen,
        payment_keys=payment_keys,
        payment_field=form.payment_field,
        payment_options=payment_choices(choices),
        policies=POLICIES,
        vat_rates=vat_rates,
        vat_field=form.vat_field,
        rule_rows=range(form.rule_row_count(values)),
        rule_field=form.rule_field,
        rule_fields=form.RULE_FIELDS,
        line_types=form.LINE_TYPES,
        pairs=choice_pairs,
        tracking_rows=range(MAX_TRACKING_CATEGORIES),
        tracking_field=form.tracking_field,
        tracking_sources=form.TRACKING_SOURCES,
        contact_choices=form.CONTACT_CHOICES,
        sellers=sellers,
        unseen_overrides=unseen,
        seller_tax_field=form.seller_tax_field,
        seller_tax_options=form.seller_tax_options(choice_pairs(choices.zero_tax_types)),
        instrument_label=lambda key: Instrument.from_key(key).label,
        **extra,
    )


def initial_values(request: Request, org: Org, context: OrgContext) -> dict[str, str] | None:
    runtime = runtime_of(request)
    mapping, _ = setup.current_mapping(runtime.sessions, org.id, context)
    if mapping is None:
        return None
    keys = [item.key for item in setup.instruments_seen(runtime.sessions, org.id)]
    return form.values_from_mapping(mapping, keys)


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
        retry_href=step_url(org.id, "mapping"),
    )


async def posted_form(request: Request) -> dict[str, str]:
    """The posted form's text fields (parsed on the event loop: the body is already bounded)."""
    return form.form_values(await request.form())


PostedForm = Annotated[dict[str, str], Depends(posted_form)]


def submitted_mapping(
    request: Request, org: Org, context: OrgContext, values: dict[str, str]
) -> tuple[MappingConfig | None, dict[str, str], dict[str, str]]:
    """The mapping the form holds, checked against the organisation; else field errors."""
    runtime = runtime_of(request)
    base = setup.saved_mapping(runtime.sessions, org.id)
    parsed = form.mapping_from_values(values, uk=context.is_uk, base=base)
    if parsed.mapping is None:
        problems = (
            check_mapping(
                parsed.candidate, context, setup.instrument_currencies(runtime.sessions, org.id)
            )
            if parsed.candidate is not None
            else ()
        )
        found = form.problem_fields(problems, parsed.rule_rows, parsed.tracking_rows)
        return None, values, form.merged_errors(parsed.errors, found)
    problems = setup.save_checked_mapping(runtime.sessions, org.id, parsed.mapping, context)
    if problems:
        return None, values, form.problem_fields(problems, parsed.rule_rows, parsed.tracking_rows)
    return parsed.mapping, values, {}
