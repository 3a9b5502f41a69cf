"""Shared helpers for the web tests: settings over the simulators, and the two consents
driven over plain HTTP (the browser tests click the same pages)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from abxero.settings import Settings, load_settings
from abxero.web.serving import served
from abxero_sim import amazon, xero
from abxero_sim.amazon import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
)
from abxero_sim.xero import tenant_id_for

XERO_SEED = 11
AMAZON_SEED = 5
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass(frozen=True)
class Sims:
    xero: str
    amazon: str


def settings_for(sims: Sims, data_dir: Path, app_url: str) -> Settings:
    """abxero's settings with every outside URL pointed at the simulators."""
    return load_settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'abxero.db'}",
        queue_url=f"sqlite:///{data_dir / 'queue.db'}",
        secret_key="a passphrase only these tests know",
        public_url=app_url,
        xero_client_id="abxero-sim-client",
        xero_client_secret="abxero-sim-secret",
        xero_redirect_uri=f"{app_url}/auth/xero/callback",
        xero_login_url=sims.xero,
        xero_identity_url=sims.xero,
        xero_api_url=sims.xero,
        amazon_application_id=DEFAULT_APPLICATION_ID,
        amazon_client_id=DEFAULT_CLIENT_ID,
        amazon_client_secret=DEFAULT_CLIENT_SECRET,
        amazon_redirect_uri=f"{app_url}/amazon/callback",
        amazon_consent_url_us=sims.amazon,
        amazon_consent_url_uk=sims.amazon,
        amazon_token_url=f"{sims.amazon}/auth/o2/token",
        amazon_api_url_na=sims.amazon,
        amazon_api_url_eu=sims.amazon,
    )


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no CSRF token"
    return html.unescape(match.group(1))


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def xero_consent(
    outside: httpx.Client,
    authorize_url: str,
    tenants: list[str],
    allow: bool,
    user: str | None = None,
) -> str:
    """Answer Xero's consent page, signed in as ``user`` (the simulator's first user when
    ``None``); the redirect back to our callback."""
    page = outside.get(authorize_url + (f"&sim_user={user}" if user else ""))
    assert page.status_code == 200, page.text
    form: dict[str, Any] = {
        html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page.text)
    }
    form["tenant"] = [tenant_id_for(XERO_SEED, key) for key in tenants]
    form["decision"] = "allow" if allow else "deny"
    base = f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}"
    answer = outside.post(f"{base}/identity/connect/authorize", data=form)
    assert answer.status_code in (302, 303, 307), answer.text
    return answer.headers["location"]


def amazon_consent(outside: httpx.Client, consent_url: str, business_id: str, allow: bool) -> str:
    """Answer the Amazon store's consent page; the redirect back to our callback."""
    page = outside.get(consent_url)
    assert page.status_code == 200, page.text
    form = {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page.text)}
    form["business_id"] = business_id
    form["decision"] = "allow" if allow else "deny"
    base = f"{urlsplit(consent_url).scheme}://{urlsplit(consent_url).netloc}"
    answer = outside.post(f"{base}/b2b/abws/oauth/consent", data=form)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


class _FormReader(HTMLParser):
    """The values a browser would submit for the forms of a page (selects and inputs)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "input" and found.get("name") and found.get("type") not in ("radio", "checkbox"):
            self.values[found["name"]] = found.get("value", "")
        elif tag == "select":
            self._select = found.get("name")
            self._first_option = None
        elif tag == "option" and self._select:
            value = found.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.values.setdefault(self._select, value)
            if "selected" in found:
                self.values[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form_fields(page: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(page)
    return reader.values


@contextmanager
def simulators_served() -> Iterator[Sims]:
    """Both simulators on loopback ports for a test session."""
    with (
        served(xero.create_app(seed=XERO_SEED)) as xero_sim,
        served(amazon.create_app(AMAZON_SEED, admin=True)) as amazon_sim,
    ):
        yield Sims(xero_sim.url, amazon_sim.url)


@contextmanager
def fresh_simulators(sims: Sims) -> Iterator[httpx.Client]:
    """A plain HTTP client for the simulators, after resetting both to their seeds."""
    with httpx.Client(timeout=30) as client:
        client.post(f"{sims.xero}/_sim/reset", json={"seed": XERO_SEED}).raise_for_status()
        client.post(f"{sims.amazon}/_sim/reset", json={"seed": AMAZON_SEED}).raise_for_status()
        yield client
