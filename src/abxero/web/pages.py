"""Rendering pages: the Jinja environment, flash messages, and the organisation's Xero context.

Who is signed in and which organisation a page may show are in :mod:`abxero.web.deps`."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from abxero.domain.context import OrgContext
from abxero.services.setup import ContextCache
from abxero.web.deps import runtime_of
from abxero.web.security import csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


MONEY_CONTEXT = Context(prec=80)
DISPLAY_LENGTH = 80


def money(amount: Decimal | int | None, currency: str = "") -> str:
    """``1,234.50 GBP``: two decimals, always; any size Amazon sends still renders."""
    value = Decimal(amount or 0)
    if not value.is_finite():
        return f"{value} {currency}".strip()
    text = f"{value.quantize(Decimal('0.01'), context=MONEY_CONTEXT):,.2f}"
    return f"{text} {currency}".strip()


def clip(text: object, length: int = DISPLAY_LENGTH) -> str:
    """``text`` shortened for display (the stored value is never changed)."""
    value = str(text or "")
    return value if len(value) <= length else value[: length - 1] + "…"


def when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else "never"


def day(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y") if moment else ""


def field_id(name: str) -> str:
    """A safe HTML id for a form field name such as ``payment_methods['Visa/1234']``."""
    return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


templates.env.filters.update(money=money, when=when, day=day, field_id=field_id, clip=clip)


def flash(request: Request, message: str, level: str = "info") -> None:
    """A message shown once on the next page."""
    messages = list(request.session.get("flash", []))
    messages.append([level, message])
    request.session["flash"] = messages[-5:]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.update(
        request=request,
        csrf_token=csrf_token(request.session),
        user_name=request.session.get("user_name", ""),
        signed_in="user_id" in request.session,
        messages=request.session.pop("flash", []),
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def org_context(request: Request, connection_id: int, *, fresh: bool = False) -> OrgContext:
    """The organisation's accounts and tax rates from Xero (recent for views, fresh for saves)."""
    cache: ContextCache = request.app.state.contexts
    return cache.get(runtime_of(request), connection_id, fresh=fresh)


__all__ = ["flash", "org_context", "render"]
