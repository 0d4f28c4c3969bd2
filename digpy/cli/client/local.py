"""``LocalBackend``: client views over a project's ``.digpy/state.db`` (what ``digpy run``
writes) and its ``.dig`` files. Read-only but for ``kill``, which only sets a flag: the
process running the attempt notices it, so no lock is taken.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digpy.cli.client.views import (
    AttemptView,
    ScheduleView,
    SessionView,
    TaskView,
    WorkflowView,
)

if TYPE_CHECKING:
    from digpy.dsl.model import Schedule
    from digpy.model.records import Attempt, Session, Task
    from digpy.store.base import Store

PROJECT_NAME = "default"  # the name LocalEngine registers a local project under
EVERY = 1 << 62  # "no limit" for store listings


class LocalBackend:
    """``project`` arguments are a server's project names: the local state holds one
    project, so the commands never pass one here (backend.split_target)."""

    def __init__(self, project_dir: Path) -> None:
        from digpy.store.sql.local import local_state_path

        self.root = project_dir.resolve()
        self.state = local_state_path(self.root)
        self.description = str(self.state)
        self._store: Store | None = None

    @cached_property
    def _has_state(self) -> bool:
        return self.state.is_file()

    def _open(self) -> Store:
        # Opened only when a state file exists, so reading never creates .digpy/.
        if self._store is None:
            from digpy.store.sql.lite import LiteStore

            self._store = LiteStore(self.state)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- definitions ------------------------------------------------------------------------

    def workflows(self, project: str | None = None) -> list[WorkflowView]:
        loaded = _load(self.root)
        revision = self._latest_revision()
        return [WorkflowView(name=w.name, project=loaded.name, timezone=w.timezone,
                             schedule=schedule_text(w.schedule), source=w.source,
                             tasks=len(w.tasks), revision=revision)
                for w in loaded.workflows.values()]

    def schedules(self, now: datetime, project: str | None = None) -> list[ScheduleView]:
        from digpy.scheduler.triggers import ScheduleTimes, is_never

        loaded = _load(self.root)
        views = []
        for w in loaded.workflows.values():
            if w.schedule is None:
                continue
            slot = ScheduleTimes(w.schedule, w.timezone).first_slot(now)
            ended = is_never(slot)
            views.append(ScheduleView(
                id=None, project=loaded.name, workflow=w.name,
                schedule=schedule_text(w.schedule) or "", timezone=w.timezone,
                next_session_time=None if ended else slot.session_time,
                next_run_time=None if ended else slot.run_time))
        return views

    def _latest_revision(self) -> str | None:
        if not self._has_state:
            return None
        with self._open().read() as tx:
            project = tx.projects.find_project(PROJECT_NAME)
            revision = tx.projects.latest_revision(project.id) if project else None
        return revision.name if revision else None

    # -- sessions and attempts --------------------------------------------------------------

    def sessions(self, workflow: str | None, *, limit: int,
                 project: str | None = None) -> list[SessionView]:
        if not self._has_state:
            return []
        with self._open().read() as tx:
            stored = tx.projects.find_project(PROJECT_NAME)
            if stored is None:
                return []
            rows = tx.sessions.list_sessions(stored.id, workflow, limit=limit)
            return [self._session(tx, s) for s in rows]

    def session(self, session_id: int) -> SessionView:
        from digpy.errors import NotFound

        with self._reading("session", session_id) as tx:
            try:
                return self._session(tx, tx.sessions.get_session(session_id))
            except NotFound:
                raise self._unknown("session", session_id) from None

    def attempts(self, session_id: int | None, *, limit: int,
                 workflow: tuple[str, str] | None = None) -> list[AttemptView]:
        if session_id is not None:
            self.session(session_id)  # an unknown session is an error, not an empty list
        if not self._has_state:
            return []
        with self._open().read() as tx:
            if session_id is not None:
                session_ids = [session_id]
            else:
                project = tx.projects.find_project(PROJECT_NAME)
                sessions = tx.sessions.list_sessions(project.id, limit=EVERY) if project else []
                session_ids = [s.id for s in sessions]
            # One query per session: fine for a local file, and no store change needed.
            found = [a for sid in session_ids for a in tx.attempts.list_attempts(sid)
                     if workflow is None or a.workflow_name == workflow[1]]
        found.sort(key=lambda a: a.id, reverse=True)
        return [attempt_view(a) for a in found[:limit]]

    def attempt(self, attempt_id: int) -> AttemptView:
        return attempt_view(self._attempt(attempt_id))

    def tasks(self, attempt_id: int) -> list[TaskView]:
        attempt = self._attempt(attempt_id)
        with self._open().read() as tx:
            rows = tx.tasks.list_tasks(attempt_id)
        return [task_view(t, attempt.timezone) for t in rows]

    def read_log(self, task: TaskView, offset: int) -> tuple[str, int]:
        if not task.log_path:
            return "", offset
        path = Path(task.log_path)
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return "", offset
        # Stop at the last complete line so a multi-byte character is never split.
        cut = data.rfind(b"\n") + 1 if not data.endswith(b"\n") else len(data)
        return data[:cut].decode("utf-8", errors="replace"), offset + cut

    def revision_hash(self, attempt: AttemptView) -> str | None:
        with self._open().read() as tx:
            row = tx.attempts.get_attempt(attempt.id)
            definition = tx.projects.get_definition(row.workflow_definition_id)
            return tx.projects.get_revision(definition.revision_id).hash

    def kill(self, attempt_id: int) -> bool:
        self._attempt(attempt_id)
        with self._open().write() as tx:
            return tx.attempts.request_cancel(attempt_id)

    # -- helpers ----------------------------------------------------------------------------

    def _attempt(self, attempt_id: int) -> Attempt:
        from digpy.errors import NotFound

        with self._reading("attempt", attempt_id) as tx:
            try:
                return tx.attempts.get_attempt(attempt_id)
            except NotFound:
                raise self._unknown("attempt", attempt_id) from None

    def _reading(self, kind: str, ident: int) -> Any:
        if not self._has_state:
            raise self._unknown(kind, ident)
        return self._open().read()

    def _unknown(self, kind: str, ident: int) -> Exception:
        from digpy.errors import ConfigError

        where = self.description if self._has_state else f"{self.root} (no .digpy/state.db)"
        return ConfigError(f"{kind} {ident} does not exist in {where}; `digpy "
                           f"{kind}s --project {self.root}` lists them")

    def _session(self, tx: Any, session: Session) -> SessionView:
        last = (attempt_view(tx.attempts.get_attempt(session.last_attempt_id))
                if session.last_attempt_id is not None else None)
        zone = last.session_time.tzinfo if last else None
        return SessionView(id=session.id, uuid=session.uuid, project=PROJECT_NAME,
                           workflow=session.workflow_name,
                           session_time=session.session_time.astimezone(zone),
                           last_attempt=last)


def _load(root: Path) -> Any:
    from digpy.dsl.project import load_project
    from digpy.errors import ConfigErrors

    project = load_project(root)
    if project.errors:
        raise project.errors[0] if len(project.errors) == 1 else ConfigErrors(project.errors)
    return project


def schedule_text(schedule: Schedule | None) -> str | None:
    return f"{schedule.kind}>: {schedule.value}" if schedule is not None else None


def attempt_view(a: Attempt) -> AttemptView:
    from digpy.dsl.timezones import parse_timezone

    zone = parse_timezone(a.timezone)
    message = str((a.error or {}).get("message") or a.error) if a.error else None
    return AttemptView(
        id=a.id, index=a.index, name=a.name, session_id=a.session_id,
        session_uuid=a.session_uuid, project=PROJECT_NAME, workflow=a.workflow_name,
        session_time=a.session_time.astimezone(zone), timezone=a.timezone,
        status=str(a.status), trigger=str(a.trigger), who=a.who, revision=a.revision_name,
        params=a.params, created_at=a.created_at.astimezone(zone),
        finished_at=a.finished_at.astimezone(zone) if a.finished_at else None,
        cancel_requested=a.cancel_requested, error=message)


def task_view(t: Task, timezone: str) -> TaskView:
    from digpy.dsl.timezones import parse_timezone

    zone = parse_timezone(timezone)
    message = str(t.error.get("message") or t.error) if t.error else None
    return TaskView(
        id=t.id, attempt_id=t.attempt_id, full_name=t.full_name, parent_id=t.parent_id,
        upstream_ids=t.upstream_ids, is_group=t.is_group, operator=t.operator,
        state=t.state.label, started_at=t.started_at.astimezone(zone) if t.started_at else None,
        finished_at=t.finished_at.astimezone(zone) if t.finished_at else None,
        retry_count=t.retry_count, error=message, config=t.config,
        store_params=t.store_params, export_params=t.export_params,
        state_params=t.state_params, log_path=t.log_path)
