"""Projects, revisions and workflow definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digpy.errors import Conflict, NotFound
from digpy.model.records import NewWorkflowDefinition, Project, Revision, WorkflowDefinition
from digpy.store.base import ProjectRepo
from digpy.store.sql.schema import projects, revisions, workflow_definitions


def _project(row: sa.Row[Any]) -> Project:
    return Project(id=row.id, name=row.name, path=row.path, created_at=row.created_at)


def _revision(row: sa.Row[Any]) -> Revision:
    return Revision(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        hash=row.hash,
        default_params=row.default_params,
        created_at=row.created_at,
    )


def _definition(row: sa.Row[Any]) -> WorkflowDefinition:
    return WorkflowDefinition(
        id=row.id,
        revision_id=row.revision_id,
        project_id=row.project_id,
        name=row.name,
        timezone=row.timezone,
        definition=row.definition,
        hash=row.hash,
    )


class SqlProjectRepo(ProjectRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def put_project(self, name: str, path: str, *, now: datetime) -> Project:
        found = self.find_project(name)
        if found is None:
            self.conn.execute(projects.insert().values(name=name, path=path, created_at=now))
        elif found.path != path:
            self.conn.execute(projects.update().where(projects.c.id == found.id).values(path=path))
        project = self.find_project(name)
        assert project is not None
        return project

    def get_project(self, project_id: int) -> Project:
        row = self.conn.execute(projects.select().where(projects.c.id == project_id)).first()
        if row is None:
            raise NotFound(f"project {project_id} does not exist")
        return _project(row)

    def find_project(self, name: str) -> Project | None:
        row = self.conn.execute(projects.select().where(projects.c.name == name)).first()
        return _project(row) if row else None

    def put_revision(
        self,
        project_id: int,
        *,
        name: str,
        hash: str,
        workflows: Sequence[NewWorkflowDefinition],
        default_params: Mapping[str, Any],
        now: datetime,
    ) -> Revision:
        same = self.conn.execute(
            revisions.select()
            .where(revisions.c.project_id == project_id, revisions.c.hash == hash)
            .order_by(revisions.c.id.desc())
        ).first()
        if same is not None:
            return _revision(same)
        taken = self.conn.execute(
            revisions.select().where(revisions.c.project_id == project_id, revisions.c.name == name)
        ).first()
        if taken is not None:
            raise Conflict(f"revision {name!r} already exists with different contents")
        key = self.conn.execute(
            revisions.insert().values(
                project_id=project_id,
                name=name,
                hash=hash,
                default_params=dict(default_params),
                created_at=now,
            )
        ).inserted_primary_key
        assert key is not None
        revision_id = int(key[0])
        self._insert_definitions(project_id, revision_id, workflows)
        return self.get_revision(revision_id)

    def _insert_definitions(
        self, project_id: int, revision_id: int, workflows: Sequence[NewWorkflowDefinition]
    ) -> None:
        if not workflows:
            return
        rows = [
            {
                "revision_id": revision_id,
                "project_id": project_id,
                "name": w.name,
                "timezone": w.timezone,
                "definition": dict(w.definition),
                "hash": w.hash,
            }
            for w in workflows
        ]
        self.conn.execute(workflow_definitions.insert(), rows)

    def get_revision(self, revision_id: int) -> Revision:
        row = self.conn.execute(revisions.select().where(revisions.c.id == revision_id)).first()
        if row is None:
            raise NotFound(f"revision {revision_id} does not exist")
        return _revision(row)

    def latest_revision(self, project_id: int) -> Revision | None:
        row = self.conn.execute(
            revisions.select()
            .where(revisions.c.project_id == project_id)
            .order_by(revisions.c.id.desc())
            .limit(1)
        ).first()
        return _revision(row) if row else None

    def list_definitions(self, revision_id: int) -> list[WorkflowDefinition]:
        rows = self.conn.execute(
            workflow_definitions.select()
            .where(workflow_definitions.c.revision_id == revision_id)
            .order_by(workflow_definitions.c.name)
        )
        return [_definition(r) for r in rows]

    def get_definition(self, definition_id: int) -> WorkflowDefinition:
        row = self.conn.execute(
            workflow_definitions.select().where(workflow_definitions.c.id == definition_id)
        ).first()
        if row is None:
            raise NotFound(f"workflow definition {definition_id} does not exist")
        return _definition(row)
