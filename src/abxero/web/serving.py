"""Serve an ASGI app on a loopback port from a background thread (tests, demo, CLI)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass(frozen=True)
class ServedApp:
    """A running server: its base URL and the handle that stops it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(app: Any, host: str = "127.0.0.1", port: int = 0, **options: Any) -> ServedApp:
    """Start ``app`` on ``host:port`` (a free port when 0) and wait until it accepts.

    ``options`` go to ``uvicorn.Config`` (abxero's own app passes its logging choices).
    """
    chosen = port or free_port(host)
    settings: dict[str, Any] = {"log_level": "warning", "lifespan": "off", **options}
    config = uvicorn.Config(app, host=host, port=chosen, **settings)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"asgi-{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"server on {host}:{chosen} did not start")
        time.sleep(0.01)
    return ServedApp(url=f"http://{host}:{chosen}", server=server, thread=thread)


@contextmanager
def served(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[ServedApp]:
    """``start_server`` as a context manager that always stops the server."""
    running = start_server(app, host, port)
    try:
        yield running
    finally:
        running.stop()
