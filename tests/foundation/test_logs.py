"""Nothing secret reaches a log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from pydantic import SecretStr

from abxero.logs import configure_logging, get_logger, redact
from abxero.runtime import Runtime
from abxero.settings import Settings
from abxero.store.models import EncryptedTokenSet
from abxero.store.tokens import read_token_set


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """Each test configures logging onto its own captured stream; put the old set-up back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_redact_replaces_secret_fields_at_any_depth() -> None:
    event = {
        "tenant": "t-1",
        "tokens": {"access_token": "a", "refresh_token": "r"},
        "headers": {"Authorization": "Bearer abc.def"},
        "list": [{"client_secret": "s"}],
    }
    cleaned = redact(event)
    assert cleaned["tenant"] == "t-1"
    assert cleaned["tokens"] == "[redacted]"
    assert cleaned["headers"] == {"Authorization": "[redacted]"}
    assert cleaned["list"] == [{"client_secret": "[redacted]"}]


def test_bearer_tokens_inside_messages_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_output=True)
    get_logger("test").info("calling with Bearer eyJ.secret.value", code="the-oauth-code")
    written = capsys.readouterr().err
    assert "eyJ.secret.value" not in written
    assert "the-oauth-code" not in written
    assert "[redacted]" in written


def test_a_traceback_is_rendered_by_structlog_without_sql_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sqlalchemy.exc import IntegrityError

    configure_logging(json_output=True)
    problem = IntegrityError("INSERT INTO t (a) VALUES (?)", ("refresh-token-value",), None)
    try:
        raise problem
    except IntegrityError:
        logging.getLogger("huey").exception("task failed")
    written = capsys.readouterr().err
    line = json.loads(written.strip().splitlines()[-1])
    assert "IntegrityError" in line["exception"]
    assert "Traceback" in line["exception"]
    assert "refresh-token-value" not in written


def test_an_oauth_callback_query_never_reaches_the_access_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_output=True)
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5",
        "GET",
        "/amazon/callback?code=ANc0de&state=s",
        "1.1",
        303,
    )
    written = capsys.readouterr().err
    assert "/amazon/callback?[redacted]" in written
    assert "ANc0de" not in written


def _settings_environment(settings: Settings) -> dict[str, str]:
    environment = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        environment[f"ABXERO_{name.upper()}"] = str(value)
    return environment


def _secrets_of(runtime: Runtime, settings: Settings) -> set[str]:
    """Every value that must never be logged: tokens in the store and configured secrets."""
    found: set[str] = set()
    with runtime.sessions() as session:
        for row in session.query(EncryptedTokenSet).all():
            for name, value in read_token_set(runtime.cipher, row).items():
                if "token" in name and isinstance(value, str) and len(value) > 8:
                    found.add(value)
    for secret in (settings.xero_client_secret, settings.amazon_client_secret, settings.secret_key):
        if secret is not None:
            found.add(secret.get_secret_value())
    return found


def test_no_code_token_secret_or_key_in_any_log_line_of_a_full_journey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sign in, connect Amazon, import, map and finish against the served app with its worker,
    then run the CLI's sync: every line written, JSON as ``ABXERO_LOG_JSON`` asks."""
    from abxero.logs import configure_from
    from abxero.web.server import run_with_worker
    from abxero.web.serving import free_port
    from tests.web.web_support import (
        amazon_consent,
        csrf_of,
        form_fields,
        fresh_simulators,
        query_of,
        settings_for,
        simulators_served,
        xero_consent,
    )

    monkeypatch.setenv("ABXERO_LOG_JSON", "true")
    configure_logging(json_output=True)  # until the settings exist: the simulators log too
    port = free_port()
    seen: set[str] = set()
    with simulators_served() as sims, fresh_simulators(sims) as outside:
        settings = settings_for(sims, tmp_path, f"http://127.0.0.1:{port}")
        assert settings.log_json
        configure_from(settings)
        with (
            run_with_worker(settings, port=port, periodic=False) as running,
            httpx.Client(base_url=running.url, timeout=30) as web,
        ):

            def post(path: str, data: dict[str, str]) -> httpx.Response:
                token = csrf_of(web.get("/orgs/1/setup/amazon" if "orgs" in path else "/").text)
                return web.post(path, data={"csrf_token": token, **data})

            start = post("/auth/xero/start", {})
            back = xero_consent(outside, start.headers["location"], ["us"], True)
            seen.add(query_of(back)["code"])
            assert web.get(back).status_code == 303
            seen.update(web.cookies.values())
            start = post("/orgs/1/setup/amazon", {"region": "US"})
            back = amazon_consent(outside, start.headers["location"], "us-bluebird", True)
            seen.add(query_of(back)["code"])
            assert web.get(back).status_code == 303
            post("/orgs/1/setup/import/continue", {})
            fields = form_fields(web.get("/orgs/1/setup/mapping").text)
            fields["payment_methods['Visa/0071']"] = "account:093"
            assert web.post("/orgs/1/setup/mapping", data=fields).status_code == 303
            seen.add(fields["csrf_token"])
            token = csrf_of(web.get("/orgs/1/setup/review").text)
            assert web.post("/orgs/1/setup/finish", data={"csrf_token": token}).status_code == 303
            seen |= _secrets_of(running.runtime, settings)
        environment = {**os.environ, **_settings_environment(settings)}
        command = [sys.executable, "-c", "from abxero.cli import app; app()", "sync"]
        cli = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
        assert cli.returncode == 0, cli.stderr
    written = capsys.readouterr().err
    lines = [line for line in written.splitlines() if line.strip()]
    cli_lines = [line for line in cli.stderr.splitlines() if line.strip()]
    assert cli_lines  # the CLI's sync logged its HTTP calls and progress
    assert any("/auth/xero/callback" in line for line in lines)  # the access log was captured
    assert any("/amazon/callback" in line for line in lines)
    for line in lines + cli_lines:
        assert line.startswith("{"), written[:3000]  # every line is JSON, as ABXERO_LOG_JSON asks
        json.loads(line)
        for secret in seen:
            assert secret not in line, f"a secret reached the log: {line[:200]}"
    for secret in seen:
        assert secret not in cli.stdout
