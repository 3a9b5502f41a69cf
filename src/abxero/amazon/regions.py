"""Where each Amazon Business region lives: store (consent) URL, API host, marketplace."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL
CONSENT_PATH = "/b2b/abws/oauth"


class Region(StrEnum):
    US = "US"
    UK = "UK"


@dataclass(frozen=True)
class Endpoints:
    """The base URLs a connection talks to; every one can be pointed at a simulator."""

    region: Region
    store_url: str
    api_url: str
    token_url: str
    marketplace_id: str

    @property
    def consent_url(self) -> str:
        return self.store_url.rstrip("/") + CONSENT_PATH


DEFAULTS = {
    Region.US: ("https://www.amazon.com", "https://na.business-api.amazon.com", "ATVPDKIKX0DER"),
    Region.UK: ("https://www.amazon.co.uk", "https://eu.business-api.amazon.com", "A1F83G8C2ARO7P"),
}


def endpoints_for(
    region: Region | str,
    *,
    store_url: str | None = None,
    api_url: str | None = None,
    token_url: str | None = None,
) -> Endpoints:
    """Amazon's URLs for ``region`` (US → amazon.com + NA host, UK → amazon.co.uk + EU host),
    each overridable (e.g. by the simulator's base URL)."""
    chosen = Region(region)
    store, api, marketplace = DEFAULTS[chosen]
    return Endpoints(
        region=chosen,
        store_url=(store_url or store).rstrip("/"),
        api_url=(api_url or api).rstrip("/"),
        token_url=token_url or LWA_TOKEN_URL,
        marketplace_id=marketplace,
    )
