"""Running the durable job table: a `JobRunner` (one daemon thread per server process) claims due
jobs and hands each to the handler registered for its kind; a handler that raises is retried
with backoff, one that raises `JobFailed` is given up on. No Flask.

Handlers are `handler(job, services) -> None`; the kinds and their handlers are listed in
job_kinds.py, so each feature adds its own line there."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from comments_server.models import Job
from comments_server.storage.jobs import JobStore

if TYPE_CHECKING:
    from comments_server.services import Services

log = logging.getLogger(__name__)

JobHandler = Callable[[Job, "Services"], None]
# Retries wait 1, 2, 4, ... minutes, at most 6 hours; after MAX_ATTEMPTS a job has failed.
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 6 * 3600
MAX_ATTEMPTS = 10
LEASE_SECONDS = 300


class JobFailed(Exception):
    """Raised by a handler for a job that no retry can mend (the message is kept as its error)."""


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def run_job(jobs: JobStore, job: Job, handler: JobHandler, services: Services,
            clock: Callable[[], datetime]) -> None:
    """Run one claimed job and record what came of it."""
    try:
        handler(job, services)
    except JobFailed as exc:
        log.warning("job %s %s failed for good: %s", job.kind, job.key, exc)
        jobs.fail(job, str(exc) or type(exc).__name__, clock())
        return
    except Exception as exc:  # a handler's failure is the job's, never the runner's
        attempts = job.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= MAX_ATTEMPTS:
            log.warning("job %s %s failed %d times; giving up: %s", job.kind, job.key, attempts, error)
            jobs.fail(job, error, clock())
        else:
            log.info("job %s %s failed (attempt %d), retrying: %s", job.kind, job.key, attempts, error)
            jobs.retry(job, error, clock() + retry_delay(attempts))
        return
    jobs.complete(job, clock())


class JobRunner:
    """Claims and runs due jobs of the kinds it has handlers for: woken when a job is enqueued,
    and on a timer. Made before the app, started by its first request (a forked worker starts
    its own thread); `run_due()` runs what is due now, in the caller's thread (tests, CLI)."""

    def __init__(self, jobs: JobStore, handlers: Mapping[str, JobHandler], clock: Callable[[], datetime],
                 *, poll_seconds: float = 30.0, batch: int = 10) -> None:
        self.jobs = jobs
        self.handlers = dict(handlers)
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def run_due(self, services: Services, *, limit: int | None = None) -> int:
        """Claim and run due jobs until none is left (or `limit` have run); how many ran."""
        ran = 0
        while limit is None or ran < limit:
            batch = self.batch if limit is None else min(self.batch, limit - ran)
            claimed = self.jobs.claim_due(self.clock(), list(self.handlers), batch, LEASE_SECONDS)
            if not claimed:
                break
            for job in claimed:
                run_job(self.jobs, job, self.handlers[job.kind], services, self.clock)
                ran += 1
        return ran

    def start(self, services: Services) -> None:
        self._thread = threading.Thread(target=self._run, args=(services,), name="comments-jobs", daemon=True)
        self._pid = os.getpid()
        self._thread.start()

    def ensure_started(self, services: Services) -> None:
        """Start the thread unless this process runs it already (threads do not survive a fork)."""
        if self._pid == os.getpid():
            return
        with self._starting:
            if self._pid != os.getpid():
                self.start(services)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, services: Services) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due(services)
            except Exception:  # the database may be briefly away; the thread must outlive that
                log.exception("jobs: claiming failed; trying again later")
            self._wake.wait(self.poll_seconds)
