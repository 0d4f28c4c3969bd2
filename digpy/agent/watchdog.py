"""The watchdog of a task the driver runs on its own thread.

When a single task is runnable and nothing else runs or waits on a timer, the ``Driver``
runs its operator on the driver's thread instead of handing it to a worker: the hand-off
(a queue, a future, waking two threads) is a large part of a short task's cost
(docs/engine.md "Performance"). While it runs, the driver's own loop cannot check the
task's ``_timeout`` or notice a ``digpy kill`` from another process, so this thread does:
every ``TICK_SECONDS`` it compares the deadline with the injected clock, and about once a
second it reads the attempt's kill flag from the store. Either sets the job's cancel
event, exactly as the driver does for a job on a worker thread. Ctrl-C needs no help: it
arrives on the driver's thread, inside the operator.

One thread per driver, started with the first such task; it only sleeps between tasks.
"""

from __future__ import annotations

import logging
import threading

from digpy.agent.runner import Job
from digpy.clock import Clock

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05  # how late a deadline may be noticed (the driver's own busy poll)
KILL_CHECK_TICKS = 20  # a store read for external kills every this many ticks (~1 s)


class Watchdog:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._job: Job | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, job: Job) -> None:
        """Watch ``job`` until ``unwatch`` (the driver's thread runs it meanwhile)."""
        self._job = job
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="digpy-watchdog",
                                            daemon=True)
            self._thread.start()

    def unwatch(self) -> None:
        self._job = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        watched: Job | None = None
        ticks = 0
        while not self._stop.wait(TICK_SECONDS):
            job = self._job
            if job is None or job.cancel.is_set():
                continue
            if job is not watched:  # a new task: its first kill check a second from now
                watched, ticks = job, 0
            ticks += 1
            try:
                self._check(job, kill_check=ticks % KILL_CHECK_TICKS == 0)
            except Exception:  # a store hiccup must not end the watch: try again next tick
                log.exception("watching %s failed", job.task.full_name)

    def _check(self, job: Job, *, kill_check: bool) -> None:
        if job.deadline is not None and job.deadline <= self._clock.now():
            job.timed_out = True
            job.cancel.set(job.timeout_reason)
        elif kill_check and job.executor.kill_requested():
            job.cancel.set("killed")
