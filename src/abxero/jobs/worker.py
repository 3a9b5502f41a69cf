"""A queue consumer process: ``abxero worker``.

One process runs two thread pools: ``workers`` threads (default 2) for syncs, imports and posts,
user work first, and ``pdf_workers`` threads (default 1) for invoice PDFs, whose pace Amazon
sets. The PDF pool can never take a thread from the other.
"""

from __future__ import annotations

from huey import Huey
from huey.consumer import Consumer

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.logs import configure_from
from abxero.runtime import Runtime
from abxero.settings import Settings

DEFAULT_WORKERS = 2
DEFAULT_PDF_WORKERS = 1
IDLE_POLL_SECONDS = 0.5
"""The longest an idle worker waits before looking at the queue again (huey's default is 10 s,
which a "Sync now" click would wait out)."""


def build_jobs(settings: Settings, *, periodic: bool = True) -> tuple[Jobs, Runtime]:
    """The queue's tasks bound to one runtime for this process."""
    runtime = Runtime(settings)
    jobs = Jobs(build_queue(settings.resolved_queue_url), lambda: runtime, periodic=periodic)
    return jobs, runtime


def lane_consumer(queue: Huey, workers: int, *, periodic: bool) -> Consumer:
    """A consumer of ``queue`` whose threads run beside a host that keeps its own signals."""
    consumer = queue.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=periodic,
        initial_delay=0.05,
        max_delay=IDLE_POLL_SECONDS,
    )
    consumer._set_signal_handlers = lambda: None
    return consumer


def run_worker(
    settings: Settings,
    *,
    periodic: bool = True,
    workers: int = DEFAULT_WORKERS,
    pdf_workers: int = DEFAULT_PDF_WORKERS,
) -> None:
    """Consume tasks until interrupted; ``periodic`` also runs the every-minute tick."""
    configure_from(settings)
    jobs, runtime = build_jobs(settings, periodic=periodic)
    pdf = lane_consumer(jobs.pdf_queue, pdf_workers, periodic=False)
    consumer = Consumer(
        jobs.queue,
        workers=workers,
        periodic=periodic,
        worker_type="thread",
        initial_delay=0.05,
        max_delay=IDLE_POLL_SECONDS,
    )
    pdf.start()
    try:
        consumer.run()
    finally:
        pdf.stop(graceful=True)
        runtime.close()
