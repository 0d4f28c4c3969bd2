"""``LocalEngine``: the entry point the CLI and the Python API use to run workflows
in-process (docs/engine.md). It opens the project's store, stores the revision, creates or
reuses the session, starts an attempt and drives it on worker threads, reporting to
listeners, and returns a frozen ``RunResult``. It lives in ``agent``, not ``engine``,
because it wires threads and a concrete store, which the engine never touches.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from digpy.agent.pool import Driver, WorkerPool
from digpy.agent.runner import Evaluator, OperatorResolver, Renderer, TaskRunner
from digpy.agent.sessions import (
    LocalSessionControl,
    default_session_time,
    previous_successes,
    start_named,
)
from digpy.agent.workspace import (
    FileLogs,
    LogFactory,
    SecretsFactory,
    no_secrets,
    open_local_store,
    registry_resolver,
)
from digpy.agent.workspace import schedule_times as default_schedule_times
from digpy.clock import Clock, SystemClock
from digpy.dsl.model import Workflow
from digpy.engine.attempts import (
    DEFAULT_TASK_LIMIT,
    AttemptRequest,
    Registered,
    ScheduleTimesFactory,
    attempt_params,
    attempt_scope,
    register_project,
    start_attempt,
)
from digpy.engine.definitions import from_definition
from digpy.engine.executor import AttemptExecutor
from digpy.engine.listeners import Listener, Listeners
from digpy.engine.params import AttemptScope, deep_merge
from digpy.engine.results import RunResult, summarize
from digpy.engine.resume import LocalSelection, local_selection, plan_resume
from digpy.engine.selection import only_subtree
from digpy.engine.unit import EdgeHook
from digpy.errors import Conflict, NotFound
from digpy.model.records import Attempt
from digpy.model.states import Trigger
from digpy.spi.workflows import set_session_control
from digpy.store.base import Store


class LocalEngine:
    """Run workflows of one project in this process. Not thread-safe: one call at a time.

    Collaborators are injected so tests (and the CLI) choose them: ``operators`` resolves
    an operator type name to its class (default: the entry-point registry), ``secrets``
    builds a task's SecretProvider, ``logs`` opens task logs (default: files under
    ``.digpy/logs`` echoed to ``echo``), ``clock`` is the only source of time.
    """

    def __init__(
        self,
        project_path: Path,
        *,
        project_name: str = "default",
        store: Store | None = None,
        clock: Clock | None = None,
        operators: OperatorResolver | None = None,
        secrets: SecretsFactory | None = None,
        logs: LogFactory | None = None,
        listeners: Sequence[Listener] = (),
        max_task_threads: int = 0,
        task_limit: int = DEFAULT_TASK_LIMIT,
        default_params: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = None,
        evaluate: Evaluator | None = None,
        render: Renderer | None = None,
        schedule_times: ScheduleTimesFactory | None = None,
        on_edge: EdgeHook | None = None,
        mask: Callable[[str], str] | None = None,
    ) -> None:
        self.project_path = Path(project_path).resolve()
        self.project_name = project_name
        self.clock = clock or SystemClock()
        self.listeners = Listeners(listeners)
        self.max_task_threads = max_task_threads
        self.task_limit = task_limit
        self.default_params = dict(default_params or {})
        self.schedule_times = schedule_times or default_schedule_times
        self.on_edge = on_edge
        self._own_store = store is None
        self.store = store if store is not None else open_local_store(self.project_path)
        self.runner = TaskRunner(
            project_path=self.project_path,
            project_name=project_name,
            resolve_operator=operators or registry_resolver(),
            secrets=secrets or no_secrets,
            logs=logs or FileLogs(self.project_path / ".digpy" / "logs", echo=echo),
            clock=self.clock,
            evaluate=evaluate,
            render=render,
            mask=mask,
        )
        self._driver: Driver | None = None
        self._registered: Registered | None = None
        self._workflows: dict[str, Workflow] = {}

    # -- the API ------------------------------------------------------------------------------

    def register(
        self, workflows: Sequence[Workflow], default_params: Mapping[str, Any] | None = None
    ) -> Registered:
        """Store the project and a revision of ``workflows`` (idempotent by content). The
        CLI registers every workflow of the project, so ``require>`` finds its targets."""
        self._workflows = {w.name: w for w in workflows}
        self._registered = register_project(
            self.store,
            name=self.project_name,
            path=str(self.project_path),
            workflows=workflows,
            default_params=default_params,
            now=self.clock.now(),
        )
        return self._registered

    def run(
        self,
        workflow: Workflow,
        *,
        session_time: datetime | None = None,
        params: Mapping[str, Any] | None = None,
        rerun: bool = False,
        start: str | None = None,
        goal: str | None = None,
        end: str | None = None,
        only: str | None = None,
        attempt_name: str | None = None,
        trigger: Trigger = Trigger.RUN,
        who: str = "",
        last_executed_session_time: datetime | None = None,
    ) -> RunResult:
        """Run ``workflow`` to completion (``digpy run``).

        Tasks that succeeded in earlier attempts of the same session are replayed unless
        ``rerun``; ``start``/``goal``/``end`` narrow that (spec §7.1); ``only="+task"`` runs
        just that task's subtree. ``session_time`` defaults to the workflow's newest
        session, else today 00:00 in the workflow's time zone.

        :raises ConfigError: a bad option or task pattern. :raises StoreLocked: another
            process is running attempts on this project's store."""
        with self._locked():
            registered = self._ensure_registered(workflow)
            project_id = registered.project.id
            when = session_time or default_session_time(
                self.store, self.clock, project_id, workflow
            )
            previous = (
                [] if rerun else previous_successes(self.store, project_id, workflow.name, when)
            )
            selection = local_selection(
                workflow, previous, rerun=rerun, start=start, goal=goal, end=end
            )
            request = self._request(
                registered, workflow, when, params, trigger=trigger, who=who,
                last_executed_session_time=last_executed_session_time,
            )
            if only:
                request = replace(request, workflow=only_subtree(workflow, only))
            attempt = start_named(self.store, self.clock, request, attempt_name)
            return self._drive(attempt, selection)

    def start(
        self,
        workflow: Workflow,
        *,
        session_time: datetime,
        params: Mapping[str, Any] | None = None,
        name: str = "",
        trigger: Trigger = Trigger.API,
        who: str = "",
    ) -> Attempt:
        """Create an attempt without running it (``require>`` and ``digpy start`` use it;
        ``continue_attempt`` or a running driver runs it).

        :raises Conflict: the session already has an attempt named ``name``."""
        registered = self._ensure_registered(workflow)
        request = self._request(registered, workflow, session_time, params, trigger=trigger,
                                who=who)
        return start_attempt(self.store, replace(request, name=name), now=self.clock.now())

    def retry(
        self,
        attempt_id: int,
        *,
        resume_from: str | None = None,
        resume: str | None = None,
        params: Mapping[str, Any] | None = None,
        name: str | None = None,
        workflow: Workflow | None = None,
    ) -> RunResult:
        """A new attempt of a finished attempt's session (spec §6.3), run to completion.

        ``resume="failed"`` reuses every successful task but the root; ``resume_from="+t"``
        reuses the tasks before ``+t``; neither (or ``resume="all"``) re-runs everything.
        Params are the old attempt's deep-merged with ``params``. ``workflow`` runs a new
        definition (latest revision); by default the old definition is kept.

        :raises Conflict: the attempt is still running, or ``name`` is taken.
        :raises ConfigError: a bad pattern, or reused tasks that did not succeed."""
        with self._locked():
            with self.store.read() as tx:
                old = tx.attempts.get_attempt(attempt_id)
                old_tasks = tx.tasks.list_tasks(attempt_id)
            if not old.done:
                raise Conflict(f"attempt {attempt_id} is still running; kill it or wait")
            plan = plan_resume(old_tasks, resume=resume, resume_from=resume_from)
            request = replace(
                self._retry_request(old, workflow),
                params=deep_merge(old.params, params or {}),
                name=name or uuid.uuid4().hex,
                resume=plan,
            )
            attempt = start_attempt(self.store, request, now=self.clock.now())
            return self._drive(attempt, LocalSelection())

    def continue_attempt(self, attempt_id: int) -> RunResult:
        """Drive an unfinished attempt whose process stopped (a crash, ``kill -9``) to the
        end. Tasks it left RUNNING run again: execution is at-least-once.

        :raises StoreLocked: another process is still driving attempts on this store."""
        with self._locked():
            with self.store.read() as tx:
                attempt = tx.attempts.get_attempt(attempt_id)
            if attempt.done:
                return self.result(attempt_id)
            return self._drive(attempt, LocalSelection(), recover=True)

    def kill(self, attempt_id: int) -> bool:
        """Kill an attempt (spec §3.10): running operators are told to stop, nothing else
        starts, no ``_error`` runs; the attempt ends ``killed``. False when it is already
        done or being killed. Works from another process too (the runner notices)."""
        driver = self._driver
        if driver is not None:
            for driven in driver.attempts:
                if driven.executor.attempt.id == attempt_id:
                    return driver.kill(driven.executor)
        with self.store.write() as tx:
            return tx.attempts.request_cancel(attempt_id)

    def result(self, attempt_id: int) -> RunResult:
        """What an attempt did so far (or in the end)."""
        with self.store.read() as tx:
            attempt = tx.attempts.get_attempt(attempt_id)
            tasks = tx.tasks.list_tasks(attempt_id)
        return summarize(attempt, tasks)

    def close(self) -> None:
        if self._own_store:
            self.store.close()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _drive(
        self, attempt: Attempt, selection: LocalSelection, *, recover: bool = False
    ) -> RunResult:
        executor = AttemptExecutor(
            self.store,
            attempt,
            self._scope(attempt),
            listeners=self.listeners,
            on_edge=self.on_edge,
        )
        if recover:
            executor.recover_running(self.clock.now())
        self.listeners.on_attempt_started(executor.attempt)
        pool = WorkerPool(self.runner, self.max_task_threads)
        driver = Driver(self.runner, pool, self.clock, executor_for=self._executor_for,
                        inline=True)
        driver.add(executor, selection)
        self._driver = driver
        previous = set_session_control(LocalSessionControl(self, driver))
        try:
            driver.run_interruptibly()
        finally:
            set_session_control(previous)
            self._driver = None
            driver.close()
            pool.shutdown()
        return self.result(attempt.id)

    def _executor_for(self, attempt_id: int) -> AttemptExecutor:
        """An executor for an attempt ``require>`` started while this run goes on."""
        with self.store.read() as tx:
            attempt = tx.attempts.get_attempt(attempt_id)
        executor = AttemptExecutor(
            self.store, attempt, self._scope(attempt), listeners=self.listeners,
            on_edge=self.on_edge,
        )
        self.listeners.on_attempt_started(executor.attempt)
        return executor

    @property
    def registered(self) -> Registered:
        """The project and its latest revision as stored (registering nothing new)."""
        if self._registered is None:
            self._registered = self.register(list(self._workflows.values()))
        return self._registered

    def workflow_named(self, name: str) -> Workflow:
        """A workflow of the project: registered, or loaded from ``<project>/<name>.dig``.

        :raises NotFound: no such workflow."""
        if name in self._workflows:
            return self._workflows[name]
        path = self.project_path / f"{name}.dig"
        if not path.is_file():
            raise NotFound(f"workflow {name!r} does not exist in {self.project_path}")
        from digpy.dsl.project import load_workflow

        workflow = load_workflow(path, project_root=self.project_path)
        self._workflows[name] = workflow
        return workflow

    def _request(
        self,
        registered: Registered,
        workflow: Workflow,
        when: datetime,
        params: Mapping[str, Any] | None,
        *,
        trigger: Trigger,
        who: str,
        last_executed_session_time: datetime | None = None,
    ) -> AttemptRequest:
        values = attempt_params(
            workflow,
            when,
            params or {},
            schedule_times=self.schedule_times,
            last_executed_session_time=last_executed_session_time,
        )
        return AttemptRequest(
            project_id=registered.project.id,
            workflow=workflow,
            definition=registered.definitions[workflow.name],
            revision_name=registered.revision.name,
            session_time=when,
            params=values,
            trigger=trigger,
            who=who,
            task_limit=self.task_limit,
        )

    def _retry_request(self, old: Attempt, workflow: Workflow | None) -> AttemptRequest:
        """The old attempt's definition (recompiled), or ``workflow`` as a new revision."""
        if workflow is not None:
            registered = self._ensure_registered(workflow)
            definition = registered.definitions[workflow.name]
            revision = registered.revision
        else:
            with self.store.read() as tx:
                definition = tx.projects.get_definition(old.workflow_definition_id)
                revision = tx.projects.get_revision(definition.revision_id)
            workflow = from_definition(definition)
        return AttemptRequest(
            project_id=old.project_id,
            workflow=workflow,
            definition=definition,
            revision_name=revision.name,
            session_time=old.session_time,
            trigger=Trigger.RETRY,
            task_limit=old.task_limit,
        )

    def _scope(self, attempt: Attempt) -> AttemptScope:
        return attempt_scope(
            self.store, attempt, project_path=self.project_path, defaults=self.default_params
        )

    def _ensure_registered(self, workflow: Workflow) -> Registered:
        from digpy.engine.definitions import to_definition

        known = self._registered
        stored = known.definitions.get(workflow.name) if known is not None else None
        if known is not None and stored is not None and stored.hash == to_definition(workflow).hash:
            return known
        return self.register([*(w for w in self._workflows.values() if w.name != workflow.name),
                              workflow])

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from digpy.agent.orphans import sole_driver_records
        from digpy.store.sql.local import RunLock, local_state_path

        if not self._own_store:  # an injected store: the caller owns its locking
            yield
            return
        state = local_state_path(self.project_path)
        # Commands a killed run left behind are stopped before anything runs again.
        with RunLock(state), sole_driver_records(state.parent / "running"):
            yield
