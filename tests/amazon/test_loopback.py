"""The client and the simulator over real HTTP on a loopback port."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from abxero.amazon import (
    AmazonApi,
    AmazonTokens,
    DocumentClient,
    LwaClient,
    RetryPolicy,
    TokenKeeper,
    TransactionFeed,
    consent_url,
    endpoints_for,
)
from abxero.web.serving import ServedApp, served
from abxero_sim.amazon import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    create_app,
)
from abxero_sim.clock import ManualClock
from tests.amazon.amazon_support import START, Sleeps

REDIRECT = "http://localhost:9911/amazon/callback"


@pytest.fixture
def server(clock: ManualClock) -> Iterator[ServedApp]:
    with served(create_app(21, admin=True, clock=clock)) as running:
        yield running


def connect(http: httpx.Client, base: str, clock: ManualClock) -> tuple[LwaClient, AmazonTokens]:
    endpoints = endpoints_for("US", store_url=base, api_url=base, token_url=f"{base}/auth/o2/token")
    page = http.get(
        consent_url(
            endpoints, application_id=DEFAULT_APPLICATION_ID, redirect_uri=REDIRECT, state="z"
        )
    )
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    form |= {"business_id": "us-acme", "decision": "allow"}
    answer = http.post(f"{base}/b2b/abws/oauth/consent", data=form)
    assert answer.status_code == 302
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    lwa = LwaClient(
        http,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        token_url=endpoints.token_url,
        now=clock.now,
    )
    return lwa, lwa.exchange_code(code, REDIRECT)


def test_consent_sync_and_pdf_over_loopback_with_timeouts_and_drops(
    server: ServedApp, clock: ManualClock, sleeps: Sleeps
) -> None:
    with httpx.Client(timeout=httpx.Timeout(2.0, read=0.3)) as http:
        lwa, tokens = connect(http, server.url, clock)
        saved: list[AmazonTokens] = []
        keeper = TokenKeeper(lwa, tokens, on_refresh=saved.append, now=clock.now)
        api = AmazonApi(
            http,
            server.url,
            keeper,
            retry=RetryPolicy(attempts=4),
            sleep=sleeps,
            rng=random.Random(3),
        )
        faults = {"queue": ["slow", "drop", "500"], "slow_seconds": 1.0, "page_size": 25}
        assert http.post(f"{server.url}/_sim/faults", json=faults).status_code == 200
        records = list(TransactionFeed(api).transactions(START - timedelta(days=10), START))
        assert len(records) > 25
        assert len(sleeps.calls) == 3
        pbi = next(
            r.raw["invoiceNumber"]
            for r in records
            if r.raw["paymentInstrumentType"] == "Pay by Invoice"
            and r.raw["transactionType"] == "CHARGE"
        )
        clock.advance(3600)
        pdf = DocumentClient(api).fetch_invoice_pdf("ATVPDKIKX0DER", pbi, poll_seconds=3)
        assert pdf.startswith(b"%PDF")
        assert len(saved) == 1
