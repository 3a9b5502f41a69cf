"""What the manage page must say first, and says truthfully on every view.

* blocking problems (a disconnected side, Xero unreadable, an archived supplier contact, a
  failed last run, a paused organisation), each with its remedy, above everything else;
* held transactions grouped by the reason that holds them *now*: the stored reason is from the
  last sync, so a view plans them again against today's organisation (a lock date moved, an
  account restored) without writing anything;
* quarantined records with what a person recognises them by, the reason in plain words and
  what to do, and a recorded decision ("entered by hand" or "dismissed") to set them aside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from abxero.domain import jsontext
from abxero.domain.context import OrgContext
from abxero.domain.lifecycles import ConnectionStatus, SourceStatus
from abxero.domain.mapping import MappingConfig
from abxero.domain.plan import Held, Planned
from abxero.domain.planner import plan_record
from abxero.domain.quarantine import (
    DISMISSED,
    ENTERED_BY_HAND,
    REMEDY,
    RecordSummary,
    plain_reason,
    summarise,
)
from abxero.runtime import NotConnected, Runtime
from abxero.services.manage import HeldGroup, Status, waiting_of
from abxero.store.db import transaction
from abxero.store.models import Event, SourceTransaction, XeroConnection
from abxero.sync.bills import LedgerBills
from abxero.sync.ledger import find_source
from abxero.sync.ports import SideError
from abxero.sync.xero_books import translated
from abxero.xero import XeroError

READY = "ready"
PENDING_CONTACT = "contact-created-on-next-sync"
DECISIONS: dict[str, tuple[str, str]] = {
    ENTERED_BY_HAND: ("entered by hand in Xero", "Marked as entered by hand in Xero"),
    DISMISSED: ("dismissed", "Dismissed"),
}


@dataclass(frozen=True)
class Problem:
    """Something that stops posting, with what to do about it."""

    code: str
    title: str
    message: str
    remedy: str


def contact_problem(runtime: Runtime, connection_id: int) -> Problem | None:
    """The supplier contact as Xero holds it now: archived stops every posting.

    Raises :class:`SideError` when Xero cannot be asked.
    """
    with runtime.sessions() as session:
        contact_id = session.get_one(XeroConnection, connection_id).contact_id
    if not contact_id:
        return None
    api = runtime.xero_api(connection_id)
    try:
        contact = translated(lambda: api.get_contact(contact_id))
    except (XeroError, httpx.HTTPError) as problem:
        raise SideError("xero", f"Xero could not be read: {problem}") from problem
    if contact is None or not contact.is_archived:
        return None
    return Problem(
        "contact_archived",
        "Nothing can be posted: the supplier contact is archived",
        f'The contact "{contact.name}" that every Amazon bill goes to is archived in Xero, so '
        "Xero refuses every new document for it.",
        "Restore it in Xero (Contacts → Archived → select it → Restore), then press Sync now.",
    )


DISCONNECTED = Problem(
    "disconnected",
    "This organisation is disconnected",
    "abxero no longer reads Amazon Business or posts to Xero for it. Everything "
    "posted before is kept.",
    "Reconnect Xero to start syncing again.",
)
XERO_RECONNECT = Problem(
    "xero_reconnect",
    "Xero needs reconnecting",
    "Xero no longer accepts abxero's access to this organisation, so nothing is posted.",
    "Press Reconnect Xero and sign in again.",
)
PARKED = Problem(
    "parked",
    "Paused: Xero's daily limit is used up",
    "Xero allows 5,000 requests a day per organisation.",
    "Nothing to do: posting resumes by itself at the time shown.",
)


def blocking_problems(
    state: Status,
    *,
    xero_error: str = "",
    contact: Problem | None = None,
    now: datetime | None = None,
) -> list[Problem]:
    """Everything that stops posting right now, most fundamental first."""
    if state.xero_status == ConnectionStatus.DISCONNECTED:
        return [DISCONNECTED]
    problems = _connection_problems(state)
    if xero_error:
        problems.append(_xero_unreadable(xero_error))
    if contact is not None:
        problems.append(contact)
    if state.parked_until and (now is None or state.parked_until > now):
        problems.append(PARKED)
    run = state.last_run
    if run is not None and run.failed:
        problems.append(
            Problem(
                "last_run_failed",
                "The last sync did not finish",
                run.error or "It stopped without a reason.",
                run.remedy or "Press Sync now; if it fails again, the reason above says why.",
            )
        )
    return problems


def _connection_problems(state: Status) -> list[Problem]:
    problems = [XERO_RECONNECT] if state.xero_status != ConnectionStatus.CONNECTED else []
    if state.amazon is None or state.amazon.status != ConnectionStatus.CONNECTED:
        problems.append(
            Problem(
                "amazon_reconnect",
                "Amazon Business is not connected"
                if state.amazon is None
                else "Amazon Business needs reconnecting",
                "abxero cannot read new purchases.",
                "Press Connect Amazon Business and allow access again.",
            )
        )
    return problems


def _xero_unreadable(error: str) -> Problem:
    return Problem(
        "xero_unreadable",
        "Xero could not be read",
        error,
        "Wait a minute and reload. If it goes on, check the organisation in Xero "
        "(it may be restricted or its subscription ended) or reconnect Xero.",
    )


# -- held, planned again on every view -----


def current_holds(
    sessions: sessionmaker[Session],
    connection_id: int,
    mapping: MappingConfig | None,
    context: OrgContext | None,
) -> tuple[list[HeldGroup], bool]:
    """Held and set-aside transactions by the reason that holds them now; the flag says whether
    the reasons were computed now (else they are the last sync's).

    Nothing is written: the next sync stores what it finds.
    """
    groups: dict[tuple[str, str], HeldGroup] = {}
    fresh = mapping is not None and context is not None
    if context is not None and not context.contact_id:
        context = replace(context, contact_id=PENDING_CONTACT)
    with sessions() as session:
        sources = session.scalars(
            select(SourceTransaction)
            .where(
                SourceTransaction.xero_connection_id == connection_id,
                SourceTransaction.status.in_((SourceStatus.HELD, SourceStatus.FAILED)),
            )
            .order_by(SourceTransaction.transaction_date, SourceTransaction.id)
        ).all()
        bills = LedgerBills(session, connection_id)
        for source in sources:
            code, reason, remedy = source.reason_code, source.reason, source.remedy
            if fresh and source.status == SourceStatus.HELD and mapping and context:
                code, reason, remedy = _reason_now(source, mapping, context, bills)
            group = groups.setdefault((code, reason), HeldGroup(code, reason, remedy))
            group.transactions.append(waiting_of(source))
    return sorted(groups.values(), key=lambda group: (group.reason_code == READY, -group.count)), (
        fresh
    )


def _reason_now(
    source: SourceTransaction, mapping: MappingConfig, context: OrgContext, bills: LedgerBills
) -> tuple[str, str, str]:
    plan = plan_record(jsontext.loads(source.raw), mapping, context, bills)
    if isinstance(plan, Held):
        return plan.code, plan.message, plan.remedy
    if isinstance(plan, Planned):
        return (
            READY,
            "Ready to post: what held these is no longer in the way.",
            "Nothing to do: they post on the next sync (or press Sync now).",
        )
    return source.reason_code, source.reason, source.remedy


# -- quarantined -----


@dataclass(frozen=True)
class QuarantinedRecord:
    transaction_id: str
    summary: RecordSummary
    reason: str
    detail: str
    remedy: str = REMEDY


@dataclass(frozen=True)
class SetAside:
    transaction_id: str
    summary: RecordSummary
    decision: str
    note: str


@dataclass
class Quarantine:
    waiting: list[QuarantinedRecord] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)


def _raw(source: SourceTransaction) -> dict[str, Any]:
    try:
        loaded = jsontext.loads(source.raw)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def quarantined(
    sessions: sessionmaker[Session], connection_id: int, limit: int = 200
) -> Quarantine:
    """Records Amazon sent that cannot be posted, and those a person already decided about
    (the first ``limit`` of them)."""
    found = Quarantine()
    with sessions() as session:
        sources: list[SourceTransaction] = []
        for status in (SourceStatus.QUARANTINED, *DECISIONS):  # one index range each
            sources.extend(
                session.scalars(
                    select(SourceTransaction)
                    .where(
                        SourceTransaction.xero_connection_id == connection_id,
                        SourceTransaction.status == status,
                    )
                    .order_by(SourceTransaction.id)
                    .limit(limit)
                )
            )
        sources.sort(key=lambda source: source.id)
        for source in sources[:limit]:
            summary = summarise(_raw(source))
            if source.status == SourceStatus.QUARANTINED:
                found.waiting.append(
                    QuarantinedRecord(
                        source.transaction_id, summary, plain_reason(source.reason), source.reason
                    )
                )
            else:
                found.set_aside.append(
                    SetAside(source.transaction_id, summary, source.status, source.remedy)
                )
    return found


def set_aside(
    sessions: sessionmaker[Session],
    connection_id: int,
    transaction_id: str,
    decision: str,
    who: str,
    now: datetime,
) -> bool:
    """Record a person's decision about a quarantined record; False when there is none."""
    if decision not in DECISIONS:
        return False
    words, verb = DECISIONS[decision]
    with transaction(sessions) as session:
        source = find_source(session, connection_id, transaction_id)
        if source is None or source.status != SourceStatus.QUARANTINED:
            return False
        source.status = decision
        source.remedy = f"{verb} by {who or 'a signed-in user'} on {now:%d %b %Y}."
        session.add(
            Event(
                xero_connection_id=connection_id,
                level="info",
                code=f"quarantine_{decision}",
                message=f"Amazon record {transaction_id} was {words} by {who or 'a user'}; "
                "abxero will not post it.",
                remedy="",
                data={"transaction_id": transaction_id, "decision": decision, "by": who},
                created_at=now,
            )
        )
    return True


def xero_problem(problem: SideError | NotConnected) -> str:
    """The words to show for a failed read of Xero."""
    if isinstance(problem, SideError):
        return problem.message
    return "abxero has no access to this organisation right now."


__all__: Sequence[str] = (
    "Problem",
    "Quarantine",
    "blocking_problems",
    "contact_problem",
    "current_holds",
    "quarantined",
    "set_aside",
)
