"""The Python API: run a workflow from Python the way ``digpy run`` does.

    import digpy

    wf = digpy.Workflow.load("examples/hello/hello.dig")
    result = wf.run(params={"target": "prod"}, session_time="2016-01-30")
    if not result.success:
        print(result.failed_tasks[0].message, result.failed_tasks[0].log_path)
        result = wf.retry(result.attempt_id, resume_from="+load")

State lives in ``<project>/.digpy/`` exactly as for the CLI, so the two can be mixed: a run
started here can be retried with ``digpy retry`` and the other way round. The CLI is built
on the helpers below (``find_workflow``, ``open_engine``, ``newest_session``) so both wire
secrets, log masking and dry runs the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily at run time: `import digpy` stays cheap
    from digpy.agent.local import LocalEngine
    from digpy.agent.runner import OperatorResolver
    from digpy.clock import Clock
    from digpy.dsl.model import Workflow as Definition
    from digpy.engine.listeners import Listener
    from digpy.engine.results import RunResult
    from digpy.secrets.masking import Masker

__all__ = ["FailedTask", "Result", "Workflow"]

STATE_DIR = ".digpy"


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedTask:
    name: str  # full name, e.g. "+wf+load"
    message: str  # secret values masked
    log_path: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What one attempt did. ``tasks`` maps each task's full name to its final state
    ("success", "error", "group_error", "canceled", ...); ``params`` are the params the
    tasks stored (``store_params``), merged; ``duration`` is wall-clock seconds."""

    status: str  # "success", "error" or "killed"
    success: bool
    attempt_id: int
    session_id: int
    session_time: datetime
    workflow: str
    tasks: Mapping[str, str]
    duration: float
    error: str | None
    params: Mapping[str, Any]
    failed_tasks: tuple[FailedTask, ...]
    state_path: Path

    @classmethod
    def of(cls, run: RunResult, *, duration: float, state_path: Path, masker: Masker,
           timezone: str | None = None) -> Result:
        failed = tuple(
            FailedTask(name=t.full_name, message=masker.mask(_message(t.error)),
                       log_path=t.log_path)
            for t in run.failed_tasks
        )
        error = _message(run.error) if run.error else (failed[0].message if failed else None)
        session_time = run.session_time
        if timezone is not None:  # stored in UTC; users think in the workflow's zone
            from digpy.dsl.timezones import parse_timezone

            session_time = session_time.astimezone(parse_timezone(timezone))
        return cls(
            status=str(run.status),
            success=run.success,
            attempt_id=run.attempt_id,
            session_id=run.session_id,
            session_time=session_time,
            workflow=run.workflow_name,
            tasks=MappingProxyType({t.full_name: t.state for t in run.tasks}),
            duration=duration,
            error=masker.mask(error) if error else None,
            params=MappingProxyType(dict(run.store_params)),
            failed_tasks=failed,
            state_path=state_path,
        )


def _message(error: Mapping[str, Any] | None) -> str:
    if not error:
        return ""
    return str(error.get("message") or error)


class Workflow:
    """One compiled workflow of a project, ready to run."""

    def __init__(self, definition: Definition, project_path: Path) -> None:
        self.definition = definition
        self.project_path = Path(project_path).resolve()

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> Workflow:
        """``path`` is a ``.dig`` file (its folder is the project), or a project folder with
        ``name`` (optional when the project has exactly one workflow).

        :raises ConfigError: the workflow does not exist or does not compile."""
        definition, root = find_workflow(Path(path), name)
        return cls(definition, root)

    @property
    def name(self) -> str:
        return self.definition.name

    def run(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        session_time: datetime | str | None = None,
        rerun: bool = False,
        start: str | None = None,
        goal: str | None = None,
        end: str | None = None,
        only: str | None = None,
        max_task_threads: int = 0,
        dry_run: bool = False,
        echo: bool = False,
    ) -> Result:
        """Run to completion. ``session_time`` is a datetime or what ``--session`` takes
        ("last", the default; "daily", "2016-01-30", ...). Like ``digpy run``, tasks that
        succeeded earlier in the same session are replayed unless ``rerun``. ``echo``
        prints task output to stdout."""
        from digpy.cli.sessionopt import session_time_for
        from digpy.clock import SystemClock

        clock = SystemClock()
        with LocalRun(self.project_path, echo=_stdout if echo else None, dry_run=dry_run,
                      max_task_threads=max_task_threads, clock=clock) as local:
            when = session_time if isinstance(session_time, datetime) else session_time_for(
                session_time, self.definition, now=clock.now(),
                newest=lambda: newest_session(local.engine, self.name))
            began = clock.monotonic()
            run = local.engine.run(self.definition, session_time=when, params=params,
                                   rerun=rerun, start=start, goal=goal, end=end, only=only)
            return local.result(run, clock.monotonic() - began, self.definition.timezone)

    def retry(
        self,
        attempt_id: int,
        *,
        resume_from: str | None = None,
        resume: bool = False,
        params: Mapping[str, Any] | None = None,
        name: str | None = None,
        echo: bool = False,
    ) -> Result:
        """A new attempt of ``attempt_id``'s session with this (current) definition:
        ``resume_from="+task"`` reuses the tasks before ``+task``, ``resume=True`` reuses
        every task that succeeded, neither re-runs everything (spec §6.3)."""
        from digpy.clock import SystemClock

        if resume and resume_from:
            raise ValueError("pass resume=True or resume_from, not both")
        clock = SystemClock()
        with LocalRun(self.project_path, echo=_stdout if echo else None, clock=clock) as local:
            began = clock.monotonic()
            run = local.engine.retry(attempt_id, resume_from=resume_from,
                                     resume="failed" if resume else None, params=params,
                                     name=name, workflow=self.definition)
            return local.result(run, clock.monotonic() - began, self.definition.timezone)

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, project={str(self.project_path)!r})"


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# -- shared with the CLI ----------------------------------------------------------------------


def find_workflow(path: Path, name: str | None) -> tuple[Definition, Path]:
    """The compiled workflow and its project root, from a ``.dig`` path or a folder + name.

    :raises ConfigError: no such workflow, several to choose from, or it does not compile."""
    from digpy.dsl.project import WORKFLOW_SUFFIX, load_project, workflow_files
    from digpy.errors import ConfigError, ConfigErrors

    root = path
    if name is None and (path.suffix == ".dig" or path.is_file()):
        root, name = path.parent, path.name
    if name is None and root.is_dir():
        names = [f.name.removesuffix(WORKFLOW_SUFFIX) for f in workflow_files(root)]
        if len(names) != 1:
            listed = ", ".join(names) if names else "none"
            raise ConfigError(f"Project {root} has {len(names)} workflows ({listed}); "
                              "name the one to run")
        name = names[0]
    project = load_project(root, only=name)
    if project.errors:
        raise project.errors[0] if len(project.errors) == 1 else ConfigErrors(project.errors)
    return next(iter(project.workflows.values())), project.path


def state_path(project_path: Path) -> Path:
    from digpy.store.sql.local import local_state_path

    return local_state_path(project_path)


def newest_session(engine: LocalEngine, workflow_name: str) -> datetime | None:
    """The newest session time of ``workflow_name`` in the engine's state, or None."""
    with engine.store.read() as tx:
        project = tx.projects.find_project(engine.project_name)
        if project is None:
            return None
        sessions = tx.sessions.list_sessions(project.id, workflow_name, limit=1)
    return sessions[0].session_time if sessions else None


class LocalRun:
    """A ``LocalEngine`` wired as ``digpy run`` wires it: local secrets through each task's
    ``_secrets`` and one ``Masker`` per run that hides every secret value read from the
    task logs, the console echo and the error messages shown (the facade defaults to no
    secrets and a private masker, so both are injected here).

    ``dry_run`` replaces every operator with one that succeeds with an empty result, and runs
    against a scratch copy of the state so nothing a dry run "did" is replayed later."""

    def __init__(
        self,
        project_path: Path,
        *,
        listeners: Sequence[Listener] = (),
        echo: Callable[[str], None] | None = None,
        dry_run: bool = False,
        max_task_threads: int = 0,
        clock: Clock | None = None,
        masker: Masker | None = None,
    ) -> None:
        from digpy.secrets.masking import Masker

        self.project_path = Path(project_path).resolve()
        self.masker = masker if masker is not None else Masker()
        self.listeners = listeners
        self.echo = echo
        self.dry_run = dry_run
        self.max_task_threads = max_task_threads
        self.clock = clock
        self._stack = ExitStack()
        self.state_path = state_path(self.project_path)
        self.engine: LocalEngine

    def __enter__(self) -> LocalRun:
        self.engine = self._stack.enter_context(
            open_engine(self.project_path, masker=self.masker, listeners=self.listeners,
                        echo=self.echo, dry_run=self.dry_run,
                        max_task_threads=self.max_task_threads, clock=self.clock))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def result(self, run: RunResult, duration: float, timezone: str | None = None) -> Result:
        return Result.of(run, duration=duration, state_path=self.state_path, masker=self.masker,
                         timezone=timezone)


@contextmanager
def open_engine(
    project_path: Path,
    *,
    masker: Masker,
    listeners: Sequence[Listener] = (),
    echo: Callable[[str], None] | None = None,
    dry_run: bool = False,
    max_task_threads: int = 0,
    clock: Clock | None = None,
) -> Iterator[LocalEngine]:
    from digpy.agent.local import LocalEngine
    from digpy.agent.workspace import FileLogs, local_secrets

    with ExitStack() as stack:
        store = None
        logs_root = project_path / STATE_DIR / "logs"
        operators: OperatorResolver | None = None
        if dry_run:
            scratch = Path(stack.enter_context(_scratch_dir()))
            store = stack.enter_context(_scratch_store(project_path, scratch))
            logs_root = scratch / "logs"
            operators = dry_run_resolver()
        engine = LocalEngine(
            project_path, store=store, operators=operators, clock=clock,
            secrets=local_secrets(masker),
            logs=FileLogs(logs_root, masker=masker, echo=echo),
            listeners=listeners, max_task_threads=max_task_threads, mask=masker.mask,
        )
        yield stack.enter_context(engine)


def _scratch_dir() -> Any:
    import tempfile

    return tempfile.TemporaryDirectory(prefix="digpy-dry-run-")


@contextmanager
def _scratch_store(project_path: Path, scratch: Path) -> Iterator[Any]:
    """A throwaway copy of the project's state (SQLite's online backup, consistent even
    while another process writes), so a dry run sees earlier successes but saves nothing."""
    import sqlite3

    from digpy.store.sql.local import open_local

    source = state_path(project_path)
    target = state_path(scratch)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.exists():
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        src.close()
        dst.close()
    store = open_local(scratch)
    try:
        yield store
    finally:
        store.close()


def dry_run_resolver() -> OperatorResolver:
    """Resolve the real operator (so an unknown ``type>`` still fails), run a no-op."""
    from digpy.agent.registry import OperatorRegistry
    from digpy.spi import Operator, TaskResult

    registry = OperatorRegistry.from_entry_points()

    class DryRun(Operator):
        type = "dry_run"
        retryable = False

        def run(self) -> TaskResult:
            return TaskResult()

    def resolve(kind: str) -> type[Operator]:
        registry.get(kind)
        return DryRun

    return resolve
