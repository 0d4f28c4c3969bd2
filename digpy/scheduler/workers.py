"""The daemon's executor: it drives every running attempt of the store on one ``Driver``
and one ``WorkerPool`` (agent.pool), adopting attempts as the scheduler or clients create
them. Each attempt runs in its project's directory: the directory it was registered from,
or its pushed revision's archive extracted under ``<data_dir>/revisions/<id>``.

Single daemon (SQLite): tasks a crashed daemon left RUNNING run again when the attempt is
adopted after a restart (at-least-once), and ``retry_at`` waits continue from the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from digpy.agent.pool import Driver, WorkerPool
from digpy.agent.runner import Job, TaskRunner
from digpy.agent.workspace import FileLogs, no_secrets, registry_resolver
from digpy.clock import Clock
from digpy.engine.attempts import attempt_scope
from digpy.engine.executor import AttemptExecutor
from digpy.engine.outcomes import Outcome
from digpy.model.records import Attempt, Task
from digpy.scheduler.archive import extract_archive
from digpy.store.base import Store

log = logging.getLogger(__name__)


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
                 max_task_threads: int = 0) -> None:
        self.store = store
        self.clock = clock
        self.data_dir = data_dir
        self.runner = RoutingRunner(
            project_path=data_dir, project_name="", resolve_operator=registry_resolver(),
            secrets=no_secrets, logs=FileLogs(data_dir / "logs"), clock=clock,
        )
        self.pool = WorkerPool(self.runner, max_task_threads)
        self.driver = Driver(self.runner, self.pool, clock, executor_for=self._executor_for)
        self._paths: dict[int, Path] = {}  # revision id -> project directory

    @property
    def busy(self) -> bool:
        return bool(self.pool.running) or any(not d.executor.done for d in self.driver.attempts)

    def adopt_new(self) -> int:
        """Start driving running attempts this daemon does not drive yet; how many."""
        with self.store.read() as tx:
            running = tx.attempts.list_running_attempts()
        driven = {d.executor.attempt.id for d in self.driver.attempts}
        added = 0
        for attempt in running:
            if attempt.id not in driven:
                executor = self._executor(attempt)
                executor.recover_running(self.clock.now())
                self.driver.add(executor)
                added += 1
        return added

    def step(self) -> None:
        """One driver round; finished attempts are dropped so the list does not grow."""
        self.driver.attempts[:] = [d for d in self.driver.attempts if not d.executor.done]
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
            self.step()

    def close(self) -> None:
        self.pool.shutdown()

    def _executor_for(self, attempt_id: int) -> AttemptExecutor:
        with self.store.read() as tx:
            attempt = tx.attempts.get_attempt(attempt_id)
        return self._executor(attempt)

    def _executor(self, attempt: Attempt) -> AttemptExecutor:
        scope = attempt_scope(self.store, attempt, project_path=self._project_dir(attempt),
                              defaults={})
        return AttemptExecutor(self.store, attempt, scope)

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
