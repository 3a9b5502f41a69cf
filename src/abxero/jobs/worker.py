"""A queue consumer process: ``abxero worker``."""

from __future__ import annotations

from huey.consumer import Consumer

from abxero.jobs.queue import build_queue
from abxero.jobs.tasks import Jobs
from abxero.logs import configure_from
from abxero.runtime import Runtime
from abxero.settings import Settings


def build_jobs(settings: Settings, *, periodic: bool = True) -> tuple[Jobs, Runtime]:
    """The queue's tasks bound to one runtime for this process."""
    runtime = Runtime(settings)
    jobs = Jobs(build_queue(settings.resolved_queue_url), lambda: runtime, periodic=periodic)
    return jobs, runtime


def run_worker(settings: Settings, *, periodic: bool = True, workers: int = 2) -> None:
    """Consume tasks until interrupted; ``periodic`` also runs the every-minute tick."""
    configure_from(settings)
    jobs, runtime = build_jobs(settings, periodic=periodic)
    consumer = Consumer(jobs.queue, workers=workers, periodic=periodic, worker_type="thread")
    try:
        consumer.run()
    finally:
        runtime.close()
