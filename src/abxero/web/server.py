"""Running the web app: ``serve`` for production, ``run_with_worker`` for the demo.

``serve(settings, host, port)`` serves the app with uvicorn; the queue's worker runs as its own
process (``huey_consumer`` or the CLI's worker command). ``run_with_worker`` starts the app and
an in-process huey consumer thread together, which is what a one-command demo wants.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from huey import Huey

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.jobs.worker import DEFAULT_PDF_WORKERS, lane_consumer
from abxero.logs import configure_from
from abxero.runtime import Runtime
from abxero.settings import Settings
from abxero.store.files import prepare_data_files
from abxero.store.migrate import upgrade
from abxero.web.app import create_app
from abxero.web.serving import ServedApp, start_server


def build_app(settings: Settings, *, periodic: bool = False) -> tuple[FastAPI, Runtime, Jobs]:
    """A migrated database, a runtime, the queue's jobs and the app over them."""
    prepare_data_files(
        settings.data_dir, settings.resolved_database_url, settings.resolved_queue_url
    )
    upgrade(settings.resolved_database_url)
    runtime = Runtime(settings)
    jobs = Jobs(build_queue(settings.resolved_queue_url), lambda: runtime, periodic=periodic)
    return create_app(runtime, jobs), runtime, jobs


# uvicorn keeps its hands off logging (``configure_from`` routes and redacts its records)
UVICORN_LOGGING: dict[str, object] = {"log_config": None, "log_level": None, "access_log": True}


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web app until interrupted (tasks are run by a separate worker)."""
    configure_from(settings)
    app, runtime, _ = build_app(settings)
    try:
        uvicorn.run(app, host=host, port=port, proxy_headers=True, **UVICORN_LOGGING)  # type: ignore[arg-type]
    finally:
        runtime.close()


class QueueWorker:
    """huey consumers' scheduler and worker threads inside this process (demo and tests): one
    pool for the main queue and, given ``pdf_queue``, one thread for the PDF lane.

    The consumer's own loop and signal handling belong to a main thread; here the host
    process keeps its signals and only the scheduler and worker threads run.
    """

    def __init__(
        self,
        queue: Huey,
        workers: int = 1,
        *,
        periodic: bool = True,
        pdf_queue: Huey | None = None,
    ) -> None:
        self.consumer = lane_consumer(queue, workers, periodic=periodic)
        self.consumers = [self.consumer]
        if pdf_queue is not None:
            self.consumers.append(lane_consumer(pdf_queue, DEFAULT_PDF_WORKERS, periodic=False))

    def start(self) -> None:
        for consumer in self.consumers:
            consumer.start()

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.stop(graceful=True)


@dataclass(frozen=True)
class RunningApp:
    """The served app, its runtime and jobs, and the worker consuming its queue."""

    served: ServedApp
    runtime: Runtime
    jobs: Jobs
    worker: QueueWorker

    @property
    def url(self) -> str:
        return self.served.url


@contextmanager
def run_with_worker(
    settings: Settings, host: str = "127.0.0.1", port: int = 0, *, periodic: bool = True
) -> Iterator[RunningApp]:
    """Serve the app on ``host:port`` (a free port when 0) with a worker thread; stop both after."""
    app, runtime, jobs = build_app(settings, periodic=periodic)
    worker = QueueWorker(jobs.queue, periodic=periodic, pdf_queue=jobs.pdf_queue)
    worker.start()
    served = start_server(app, host, port, **UVICORN_LOGGING)
    try:
        yield RunningApp(served, runtime, jobs, worker)
    finally:
        served.stop()
        worker.stop()
        runtime.close()
