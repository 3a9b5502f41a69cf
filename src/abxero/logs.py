"""Logging through structlog, with secrets redacted before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(
    r"(token|secret|password|authorization|code_verifier|^code$|cookie|api_key)", re.IGNORECASE
)
BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")
REDACTED = "[redacted]"


def redact(value: Any, key: str = "") -> Any:
    """``value`` with every secret-looking field or bearer token replaced."""
    if key and SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {name: redact(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    if isinstance(value, str):
        return BEARER.sub(r"\1" + REDACTED, value)
    return value


def _redact_event(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for name in list(event):
        event[name] = redact(event[name], "" if name == "event" else name)
    return event


def configure_logging(*, json_output: bool = False, level: int = logging.INFO) -> None:
    """Configure structlog once per process: console lines, or JSON in production."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
