"""The REST API's listings (paged by ``last_id``, newest first), project soft delete, and
the aggregates behind ``/metrics``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from digpy.errors import NotFound
from digpy.model.records import Attempt, Project, Revision, Session
from digpy.model.states import AttemptStatus, TaskState
from digpy.store.base import BrowseRepo
from digpy.store.sql.attempts import _JOINED, _attempt
from digpy.store.sql.projects import _project, _revision
from digpy.store.sql.schema import (
    attempts,
    projects,
    revision_archives,
    revisions,
    schedules,
    sessions,
    tasks,
)
from digpy.store.sql.sessions import _session


class SqlBrowseRepo(BrowseRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def list_projects(self, *, include_deleted: bool = False) -> list[Project]:
        query = projects.select().order_by(projects.c.id)
        if not include_deleted:
            query = query.where(projects.c.deleted_at.is_(None))
        return [_project(r) for r in self.conn.execute(query)]

    def project_deleted_at(self, project_id: int) -> datetime | None:
        row = self.conn.execute(
            sa.select(projects.c.deleted_at).where(projects.c.id == project_id)).first()
        if row is None:
            raise NotFound(f"project {project_id} does not exist")
        return row.deleted_at

    def delete_project(self, project_id: int, *, now: datetime) -> bool:
        changed = self.conn.execute(
            projects.update().where(projects.c.id == project_id, projects.c.deleted_at.is_(None))
            .values(deleted_at=now)
        ).rowcount
        self.conn.execute(schedules.delete().where(schedules.c.project_id == project_id))
        return bool(changed)

    def restore_project(self, project_id: int) -> None:
        self.conn.execute(
            projects.update().where(projects.c.id == project_id).values(deleted_at=None))

    def list_revisions(self, project_id: int) -> list[Revision]:
        rows = self.conn.execute(
            revisions.select().where(revisions.c.project_id == project_id)
            .order_by(revisions.c.id.desc()))
        return [_revision(r) for r in rows]

    def find_revision(self, project_id: int, name: str) -> Revision | None:
        row = self.conn.execute(
            revisions.select().where(revisions.c.project_id == project_id,
                                     revisions.c.name == name)).first()
        return _revision(row) if row is not None else None

    def archive_hash(self, revision_id: int) -> str | None:
        row = self.conn.execute(sa.select(revision_archives.c.hash).where(
            revision_archives.c.revision_id == revision_id)).first()
        return str(row.hash) if row is not None else None

    def page_sessions(self, *, project_id: int | None = None, workflow: str | None = None,
                      last_id: int | None = None, limit: int = 100) -> list[Session]:
        query = sessions.select().order_by(sessions.c.id.desc()).limit(limit)
        if project_id is not None:
            query = query.where(sessions.c.project_id == project_id)
        if workflow is not None:
            query = query.where(sessions.c.workflow_name == workflow)
        if last_id is not None:
            query = query.where(sessions.c.id < last_id)
        return [_session(r) for r in self.conn.execute(query)]

    def page_attempts(self, *, project_id: int | None = None, workflow: str | None = None,
                      session_id: int | None = None, include_retried: bool = False,
                      last_id: int | None = None, limit: int = 100) -> list[Attempt]:
        query = _JOINED.order_by(attempts.c.id.desc()).limit(limit)
        if project_id is not None:
            query = query.where(sessions.c.project_id == project_id)
        if workflow is not None:
            query = query.where(sessions.c.workflow_name == workflow)
        if session_id is not None:
            query = query.where(attempts.c.session_id == session_id)
        if not include_retried:
            query = query.where(attempts.c.id == sessions.c.last_attempt_id)
        if last_id is not None:
            query = query.where(attempts.c.id < last_id)
        return [_attempt(r) for r in self.conn.execute(query)]

    def count_attempts_by_status(self) -> dict[str, int]:
        rows = self.conn.execute(
            sa.select(attempts.c.status, sa.func.count()).group_by(attempts.c.status))
        return {str(AttemptStatus(status)): int(n) for status, n in rows}

    def count_ready_tasks(self) -> int:
        running = sa.select(attempts.c.id).where(
            attempts.c.status == AttemptStatus.RUNNING.value)
        query = sa.select(sa.func.count()).select_from(tasks).where(
            tasks.c.state == int(TaskState.READY), tasks.c.attempt_id.in_(running))
        return int(self.conn.execute(query).scalar_one())

    def task_duration_histogram(self, bounds: Sequence[float]) -> tuple[list[int], int, float]:
        # One scan with a CASE per bucket: no rows travel to Python, however many tasks.
        millis = tasks.c.finished_at - tasks.c.started_at
        columns = [sa.func.sum(sa.case((millis <= round(b * 1000), 1), else_=0))
                   for b in bounds]
        query = sa.select(sa.func.count(), sa.func.sum(millis), *columns).where(
            tasks.c.is_group.is_(False), tasks.c.started_at.is_not(None),
            tasks.c.finished_at.is_not(None))
        row = self.conn.execute(query).one()
        total, total_millis, *cumulative = row
        # SUM is a Decimal on PostgreSQL and an int on SQLite.
        return [int(c or 0) for c in cumulative], int(total or 0), float(total_millis or 0) / 1000
