"""``digpy server``'s main loop: the schedule executor and the attempt workers on one thread.

One thread keeps SQLite a single writer and the driver's store calls where agent.pool wants
them. Every ``scheduler_interval`` (1 s) the loop calls ``ScheduleService.tick(now)``; in
between it steps the workers. A plain interval loop rather than APScheduler's
BackgroundScheduler: the schedule state lives in the database (so several daemons and
restarts agree), and a due-schedule query per second is all Digdag does too; an APScheduler
job store would be a second copy of that state.

SQLite means one daemon: a lock file next to the database refuses a second one (and a
``digpy run`` on the same file). PostgreSQL allows several (``FOR UPDATE SKIP LOCKED``):
each drives the attempts it holds a lease on (scheduler.leasing), renewed every heartbeat
from this same loop, so a wedged loop stops renewing and its attempts move elsewhere.
``request_stop()`` (SIGTERM) drains: running tasks finish, nothing new starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from digpy.clock import Clock
from digpy.scheduler.limits import TtlEnforcer, Ttls
from digpy.scheduler.service import ScheduleService
from digpy.scheduler.workers import AttemptWorkers, LeaseTimes
from digpy.settings import Settings
from digpy.store.base import StoreLocked
from digpy.store.sql.engine import SqlStore, open_store
from digpy.store.sql.local import RunLock

log = logging.getLogger(__name__)

IDLE_SLEEP_SECONDS = 0.2  # how long the loop naps when no attempt needs it
FAULT_BACKOFF_SECONDS = 0.2  # after a failed round: the database gets a breath, stop stays quick


class DaemonLocked(StoreLocked):
    """Another daemon (or ``digpy run``) holds the SQLite database."""


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) and url != prefix else None


def acquire_lock(url: str) -> RunLock | None:
    """The SQLite lock file, held for the daemon's life; None on PostgreSQL.

    :raises DaemonLocked: another digpy daemon holds the file."""
    path = sqlite_path(url)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = RunLock(path)
    try:
        lock.acquire()
    except StoreLocked:
        owner = lock.path.read_text(encoding="utf-8").strip() or "unknown"
        raise DaemonLocked(f"another digpy daemon holds {path} (pid {owner}); SQLite allows "
                           f"one daemon per file: stop it, or use PostgreSQL for several"
                           ) from None
    return lock


class Daemon:
    """Runs until ``request_stop()``. ``on_tick`` hooks (the local scheduler's file
    watcher) run on the loop's thread before each schedule tick."""

    def __init__(self, settings: Settings, store: SqlStore, clock: Clock,
                 on_tick: Sequence[Callable[[], None]] = ()) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.schedules = ScheduleService(store, attempt_max_run=settings.attempt_max_run)
        self.ttls = TtlEnforcer(Ttls(task_ttl=settings.task_ttl, attempt_ttl=settings.attempt_ttl),
                                clock, every=settings.scheduler_interval)
        self.workers = AttemptWorkers(
            store, clock, data_dir=settings.data_path, max_task_threads=settings.max_task_threads,
            leases=LeaseTimes(lease_seconds=settings.lease_seconds,
                              heartbeat_seconds=settings.heartbeat_interval))
        self._on_tick = list(on_tick)
        self._stop = threading.Event()
        self._next_tick = clock.monotonic()
        self._registered = False  # as a lease holder: on the first step

    def request_stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        log.info("digpy daemon on %s (scheduler %s, executor %s)", self.store.description,
                 "off" if self.settings.disable_scheduler else "on",
                 "off" if self.settings.disable_executor else "on")
        try:
            while not self._stop.is_set():
                self.step()
            log.info("stopping: waiting for %d running task(s)", len(self.workers.pool.running))
            self.workers.drain()
            if self._registered:
                self.workers.release()
        finally:
            self.workers.close()
        log.info("stopped")

    def step(self) -> None:
        """One loop round. A round that raises (the database busy, timing out or cut off,
        even after a commit whose reply was lost) is logged and the next round retries:
        every step of a round is idempotent against the store (reliability R9), so the loop
        never dies of a transient error."""
        try:
            self._round()
        except Exception as exc:  # the loop outlives any one round
            self._round_failed(exc)

    def _round_failed(self, exc: Exception) -> None:
        if _transient(exc):
            log.warning("loop round failed, retrying: %s: %s", type(exc).__name__,
                        (str(exc).splitlines() or [""])[0])
        else:
            log.exception("loop round failed unexpectedly, retrying")
        self.clock.sleep(FAULT_BACKOFF_SECONDS)
        try:
            self._adopt_held()
        except Exception as again:  # still failing: the next round retries
            log.warning("resync after a failed round failed too: %s",
                        (str(again).splitlines() or [""])[0])

    def _adopt_held(self) -> None:
        """Drive every attempt this daemon holds a lease on but does not drive: a lease
        claim whose commit succeeded but reported an error leaves such attempts, which no
        one else would take while the heartbeat renews them."""
        if self.settings.disable_executor or not self._registered:
            return
        workers = self.workers
        with self.store.write() as tx:
            held = tx.leases.heartbeat(workers.daemon_id,
                                       lease_seconds=workers.leases.lease_seconds)
        # An executor that counts itself done drives nothing, whatever the store says.
        driven = {d.executor.attempt.id for d in workers.driver.attempts
                  if not d.executor.done}
        for lease in held:
            if lease.attempt_id not in driven:
                log.info("attempt %d: leased but not driven after a failed round; adopting",
                         lease.attempt_id)
                workers.drive(lease)  # the path a fresh claim takes

    def _round(self) -> None:
        """A schedule tick when due, then the workers."""
        if not self._registered and not self.settings.disable_executor:
            self.workers.register(exclusive=sqlite_path(self.settings.database_url) is not None)
            self._registered = True
        if self.clock.monotonic() >= self._next_tick:
            self._next_tick = self.clock.monotonic() + self.settings.scheduler_interval
            for hook in self._on_tick:
                hook()
            if not self.settings.disable_scheduler:
                self.schedules.tick(self.clock.now())
                self._wake_when_due()
            if not self.settings.disable_executor:
                self.workers.adopt_new()
        if not self.settings.disable_executor:
            self.workers.keep_leases()
            self.ttls.check(self.workers.driver)  # at most once per scheduler_interval
        if not self.settings.disable_executor and self.workers.busy:
            self.workers.step()
        else:
            self._stop.wait(min(IDLE_SLEEP_SECONDS,
                                max(0.0, self._next_tick - self.clock.monotonic())))

    def _wake_when_due(self) -> None:
        # Tick again at the next run time, not up to an interval later: lateness stays in
        # milliseconds (bench/bench_lateness.py). A run time already past (a schedule another
        # daemon holds) keeps the plain interval, so the loop never spins.
        due, now = self.schedules.next_due(), self.clock.now()
        if due is not None and due > now:
            wait = (due - now).total_seconds()
            self._next_tick = min(self._next_tick, self.clock.monotonic() + wait)


def _transient(exc: Exception) -> bool:
    """A database error worth only a warning: the store's lock timeout, or any SQLAlchemy
    operational/connection error (matched by module: no SQL import outside store.sql)."""
    return isinstance(exc, StoreLocked) or type(exc).__module__ == "sqlalchemy.exc"


def open_daemon_store(settings: Settings) -> tuple[SqlStore, RunLock | None]:
    """Lock (SQLite), then open and migrate the store."""
    lock = acquire_lock(settings.database_url)
    try:
        return open_store(settings.database_url), lock
    except BaseException:
        if lock is not None:
            lock.release()
        raise
