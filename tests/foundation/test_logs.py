"""Nothing secret reaches a log line."""

from __future__ import annotations

import pytest

from abxero.logs import configure_logging, get_logger, redact


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
