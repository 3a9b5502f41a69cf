"""Fill in and submit an HTML form the way a browser would (headless demo and tests).

Only what the consent pages use: ``<form action method>``, ``<input>`` (hidden, text, checkbox,
radio), ``<select>`` and submit ``<button name value>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input":
            self._input(self.forms[-1], values)
        elif tag == "button" and values.get("name"):
            self.forms[-1].buttons.append((values["name"], values.get("value", "")))
        elif tag == "select":
            self._select = values.get("name")
        elif tag == "option" and self._select:
            self.forms[-1].choices.setdefault(self._select, []).append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    @staticmethod
    def _input(form: Form, values: dict[str, str]) -> None:
        name, kind = values.get("name"), values.get("type", "text").lower()
        if not name:
            return
        if kind in {"checkbox", "radio"}:
            form.choices.setdefault(name, []).append(values.get("value", "on"))
            if "checked" in values:
                form.fields.append((name, values.get("value", "on")))
        elif kind == "submit":
            form.buttons.append((name, values.get("value", "")))
        else:
            form.fields.append((name, values.get("value", "")))


def forms_in(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def submit(
    http: httpx.Client,
    page: httpx.Response,
    *,
    button: str,
    choose: dict[str, str] | None = None,
) -> httpx.Response:
    """Submit the page's first form with ``button`` (a button's value), choosing ``choose``."""
    found = forms_in(page.text)
    if not found:
        raise ValueError(f"no form on {page.url}")
    form = found[0]
    picked = choose or {}
    fields = [(name, value) for name, value in form.fields if name not in picked]
    fields += list(picked.items())
    fields += [(name, value) for name, value in form.buttons if value == button][:1]
    target = urljoin(str(page.url), form.action or str(page.url))
    if form.method == "post":
        return http.post(target, data=dict(_merged(fields)), follow_redirects=False)
    query: list[tuple[str, str | int | float | bool | None]] = list(fields)
    return http.get(target, params=query, follow_redirects=False)


def _merged(fields: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    merged: dict[str, str | list[str]] = {}
    for name, value in fields:
        if name in merged:
            existing = merged[name]
            merged[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            merged[name] = value
    return merged
