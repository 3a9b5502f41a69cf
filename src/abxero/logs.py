"""Logging for every process (web, worker, CLI): structlog over the standard library, with
secrets redacted before anything is written.

``configure_logging`` sends structlog events and every standard-library record (uvicorn's
access and error logs, huey's worker, SQLAlchemy's errors) through the same processors:
console lines, or one JSON object a line when ``ABXERO_LOG_JSON`` is set. Tracebacks are
rendered by structlog and redacted like everything else: SQL parameters are dropped, bearer
tokens masked, and the query string of the two OAuth callbacks (it carries the one-time
``code``) is never written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import IO, TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from abxero.settings import Settings

SECRET_KEYS = re.compile(
    r"(token|secret|password|authorization|code_verifier|^code$|cookie|api_key|nonce|^state$)",
    re.IGNORECASE,
)
BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")
CALLBACK_QUERY = re.compile(r"(/auth/xero/callback|/amazon/callback)\?[^\s\"']*")
SECRET_PARAMETER = re.compile(
    r"\b(code|state|code_verifier|refresh_token|access_token|client_secret|id_token|nonce)"
    r"=[^&\s\"']+",
    re.IGNORECASE,
)
SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
REDACTED = "[redacted]"
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "huey", "huey.consumer")


def redact_text(text: str) -> str:
    """``text`` without bearer tokens, OAuth callback queries, secret parameters or SQL values."""
    text = BEARER.sub(r"\1" + REDACTED, text)
    text = CALLBACK_QUERY.sub(r"\1?" + REDACTED, text)
    text = SECRET_PARAMETER.sub(r"\1=" + REDACTED, text)
    return SQL_PARAMETERS.sub("[parameters: " + REDACTED + "]", text)


def redact(value: Any, key: str = "") -> Any:
    """``value`` with every secret-looking field or bearer token replaced."""
    if key and SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {name: redact(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def _redact_event(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for name in list(event):
        if name.startswith("_"):
            continue
        event[name] = redact(event[name], "" if name in ("event", "exception") else name)
    return event


class RedactRecord(logging.Filter):
    """Redacts a standard-library record in place (uvicorn's access line carries the path with
    its query string as an argument), before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_text(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


def configure_logging(
    *, json_output: bool = False, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Configure logging for this process: call once at start (calling again replaces it)."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RedactRecord())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers = []
        routed.propagate = True
        routed.setLevel(level)
        if not any(isinstance(item, RedactRecord) for item in routed.filters):
            routed.addFilter(RedactRecord())


def configure_from(settings: Settings) -> None:
    """Logging as the settings ask (``ABXERO_LOG_JSON``)."""
    configure_logging(json_output=settings.log_json)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
