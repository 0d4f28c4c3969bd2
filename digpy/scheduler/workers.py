"""The daemon's executor: it drives every running attempt of the store on one ``Driver``
and one ``WorkerPool`` (agent.pool), adopting attempts as the scheduler or clients create
them. Each attempt runs in its project's directory: the directory it was registered from,
or its pushed revision's archive extracted under ``<data_dir>/revisions/<id>``.

A daemon drives only the attempts it holds a lease on (scheduler.leasing): it claims free
or expired ones while it has idle worker threads, so several daemons on PostgreSQL share
the work, renews its leases every heartbeat, and drops an attempt whose lease it lost.
Tasks a crashed daemon left RUNNING run again when the attempt is taken over
(at-least-once), and ``retry_at`` waits continue from the store. Their commands may still be
running (own process groups survive ``kill -9``): the ones recorded on this host under
``<data_dir>/running`` are stopped first (agent.orphans), so a task never runs twice at once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from digpy.agent.orphans import kill_orphans
from digpy.agent.pool import Driven, Driver, WorkerPool
from digpy.agent.runner import Job, TaskRunner
from digpy.agent.workspace import FileLogs, SecretsFactory, registry_resolver
from digpy.clock import Clock
from digpy.engine.attempts import attempt_scope
from digpy.engine.executor import AttemptExecutor
from digpy.engine.outcomes import Outcome
from digpy.model.leases import Lease
from digpy.model.records import Attempt, Task
from digpy.scheduler.archive import extract_archive
from digpy.scheduler.leasing import LeasedExecutor, new_daemon_id
from digpy.spi.process import set_process_records
from digpy.store.base import Store

log = logging.getLogger(__name__)

# How often a daemon with idle threads looks for free or expired leases between schedule
# ticks: a finished attempt's threads get new work within this, not a whole tick later.
CLAIM_POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseTimes:
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 20.0


@dataclass(slots=True, kw_only=True)
class RoutingRunner(TaskRunner):
    """A TaskRunner that prepares each task in its own attempt's project directory (the
    runner's ``project_path`` is fixed; a daemon serves many projects and revisions)."""

    def prepare(self, executor: AttemptExecutor, task: Task, now: datetime) -> Job | Outcome:
        scope = executor.scope
        runner = replace(self, project_path=scope.project_path,
                         project_name=scope.project_name)
        return TaskRunner.prepare(runner, executor, task, now)


class AttemptWorkers:
    """Adopts running attempts and steps them. Every call comes from the daemon's thread."""

    def __init__(self, store: Store, clock: Clock, *, data_dir: Path,
                 max_task_threads: int = 0, leases: LeaseTimes = LeaseTimes(),
                 daemon_id: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.data_dir = data_dir
        self.leases = leases
        self.daemon_id = daemon_id or new_daemon_id()
        self._next_heartbeat = clock.monotonic() + leases.heartbeat_seconds
        self._next_claim = clock.monotonic()
        logs = FileLogs(data_dir / "logs")
        self.runner = RoutingRunner(
            project_path=data_dir, project_name="", resolve_operator=registry_resolver(),
            secrets=_project_secrets(store, data_dir, logs), logs=logs, clock=clock,
        )
        self.pool = WorkerPool(self.runner, max_task_threads)
        self.driver = Driver(self.runner, self.pool, clock, executor_for=self._executor_for)
        self._paths: dict[int, Path] = {}  # revision id -> project directory
        self._records = set_process_records(self.running_dir)

    @property
    def running_dir(self) -> Path:
        """Where this daemon's task commands are recorded while they run."""
        return self.data_dir / "running"

    @property
    def busy(self) -> bool:
        return bool(self.pool.running) or any(not d.executor.done for d in self.driver.attempts)

    def register(self, *, exclusive: bool) -> None:
        """Record this daemon; ``exclusive`` (SQLite: the lock file proves no other daemon is
        alive) frees every lease at once instead of waiting for dead holders' to expire."""
        with self.store.write() as tx:
            if exclusive:
                freed = tx.leases.break_all_leases()
                if freed:
                    log.info("freed %d lease(s) of a previous daemon on this database", freed)
            tx.leases.register_daemon(self.daemon_id, host=self.daemon_id.split(":")[0],
                                      pid=os.getpid())
        if exclusive:  # every recorded command of this host outlived a daemon: stop them all
            kill_orphans(self.running_dir)
        log.info("daemon %s: lease %gs, heartbeat %gs", self.daemon_id,
                 self.leases.lease_seconds, self.leases.heartbeat_seconds)

    def adopt_new(self) -> int:
        """Claim running attempts whose lease is free or expired while worker threads are
        idle (each attempt wants at least one), and start driving them; how many."""
        wanted = self.pool.free - self._demand()
        if wanted <= 0:
            return 0
        with self.store.write() as tx:
            leases = tx.leases.claim_attempts(self.daemon_id, limit=wanted,
                                              lease_seconds=self.leases.lease_seconds)
        for lease in leases:
            self.drive(lease)
        return len(leases)

    def keep_leases(self) -> None:
        """Called every loop round: renew leases when a heartbeat is due, and claim more
        attempts when threads are idle (at most every ``CLAIM_POLL_SECONDS``)."""
        self.heartbeat_if_due()
        if self.clock.monotonic() >= self._next_claim:
            self._next_claim = self.clock.monotonic() + CLAIM_POLL_SECONDS
            self.adopt_new()

    def heartbeat_if_due(self) -> None:
        """Renew this daemon's leases every ``heartbeat_seconds``; drop attempts whose
        lease another daemon took (this one was stopped or cut off past its lease)."""
        if self.clock.monotonic() < self._next_heartbeat:
            return
        self._next_heartbeat = self.clock.monotonic() + self.leases.heartbeat_seconds
        with self.store.write() as tx:
            held = {lease.attempt_id for lease in tx.leases.heartbeat(
                self.daemon_id, lease_seconds=self.leases.lease_seconds)}
        for driven in self._live():
            executor = driven.executor
            if isinstance(executor, LeasedExecutor) and executor.attempt.id not in held:
                executor.lose(None, "the heartbeat found it gone; further work")

    def release(self) -> None:
        """A clean stop: free the leases so another daemon continues at once."""
        with self.store.write() as tx:
            freed = tx.leases.release_leases(self.daemon_id)
        if freed:
            log.info("released %d lease(s)", freed)

    def step(self) -> None:
        """One driver round; finished attempts are dropped so the list does not grow."""
        for driven in self.driver.attempts:
            if isinstance(driven.executor, LeasedExecutor) and driven.executor.lost:
                self.pool.cancel_all("lease lost", driven.executor)  # the new owner re-runs it
        self.driver.attempts[:] = self._live()
        if self.driver.done:
            return
        try:
            self.driver.step()
        except RuntimeError as exc:  # an attempt waits on nothing this daemon can see
            log.warning("%s", exc)
            self.clock.sleep(1.0)

    def drain(self) -> None:
        """Let running operators finish and record them; start nothing new (SIGTERM)."""
        self.pool.size = 0  # no free threads: the driver dispatches nothing more
        while self.pool.running:
            self.heartbeat_if_due()  # a long drain must not lose the leases it finishes under
            self.step()

    def close(self) -> None:
        self.pool.shutdown()
        set_process_records(self._records)

    def _demand(self) -> int:
        """Threads the driven attempts want soon: their READY tasks, and at least one for an
        attempt with nothing running (just adopted, or between steps)."""
        running = {id(job.executor) for job in self.pool.running.values()}
        return sum(max(len(d.executor.graph.ready), int(id(d.executor) not in running))
                   for d in self._live())

    def _live(self) -> list[Driven]:
        return [d for d in self.driver.attempts if not d.executor.done]

    def drive(self, lease: Lease) -> None:
        """Start driving the attempt ``lease`` holds (a fresh claim, or one held but not
        driven after a failed round)."""
        if lease.taken_from is not None:
            log.info("attempt %d: taking over from %s (lease expired)", lease.attempt_id,
                     lease.taken_from)
        with self.store.read() as tx:
            attempt = tx.attempts.get_attempt(lease.attempt_id)
        executor = self._executor(attempt, lease)
        # Before its RUNNING tasks go back to READY: the previous owner's commands on this
        # host must be gone, or the re-run would overlap them.
        kill_orphans(self.running_dir, attempt_id=attempt.id)
        executor.recover_running(self.clock.now())
        self.driver.add(executor)

    def _executor_for(self, attempt_id: int) -> AttemptExecutor:
        """An attempt started while running another one (``require>``): drive it only if
        its lease can be had."""
        with self.store.write() as tx:
            leases = tx.leases.claim_attempts(self.daemon_id, limit=1, attempt_id=attempt_id,
                                              lease_seconds=self.leases.lease_seconds)
            attempt = tx.attempts.get_attempt(attempt_id)
        if not leases:
            raise RuntimeError(f"attempt {attempt_id} is driven by another daemon")
        return self._executor(attempt, leases[0])

    def _executor(self, attempt: Attempt, lease: Lease) -> LeasedExecutor:
        scope = attempt_scope(self.store, attempt, project_path=self._project_dir(attempt),
                              defaults={})
        return LeasedExecutor(self.store, attempt, scope, lease=lease)

    def _project_dir(self, attempt: Attempt) -> Path:
        with self.store.read() as tx:
            definition = tx.projects.get_definition(attempt.workflow_definition_id)
            if definition.revision_id in self._paths:
                return self._paths[definition.revision_id]
            archive = tx.archives.get_archive(definition.revision_id)
            project = tx.projects.get_project(attempt.project_id)
        if archive is None:
            path = Path(project.path)
        else:
            path = extract_archive(archive, self.data_dir / "revisions" /
                                   str(definition.revision_id))
        self._paths[definition.revision_id] = path
        return path


def _project_secrets(store: Store, data_dir: Path, logs: FileLogs) -> SecretsFactory:
    """``${secret:...}`` reads the project's secrets set through the REST API (encrypted
    with ``<data_dir>/secret.key``); every value read is masked in the task logs."""
    from digpy.secrets.server import server_cipher, server_secrets

    return server_secrets(store, server_cipher(data_dir), logs.masker)
