"""Projects, revisions and workflow definitions (stdlib sqlite3)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from digpy.errors import Conflict, NotFound
from digpy.model.records import NewWorkflowDefinition, Project, Revision, WorkflowDefinition
from digpy.store.base import ProjectRepo
from digpy.store.sql.lite.rows import dump, load, ms, when_required


def _project(row: sqlite3.Row) -> Project:
    return Project(
        id=row["id"], name=row["name"], path=row["path"],
        created_at=when_required(row["created_at"]),
    )


def _revision(row: sqlite3.Row) -> Revision:
    return Revision(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        hash=row["hash"],
        default_params=load(row["default_params"]),
        created_at=when_required(row["created_at"]),
    )


def _definition(row: sqlite3.Row) -> WorkflowDefinition:
    return WorkflowDefinition(
        id=row["id"],
        revision_id=row["revision_id"],
        project_id=row["project_id"],
        name=row["name"],
        timezone=row["timezone"],
        definition=load(row["definition"]),
        hash=row["hash"],
    )


class LiteProjectRepo(ProjectRepo):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def put_project(self, name: str, path: str, *, now: datetime) -> Project:
        self.conn.execute(
            "INSERT INTO projects (name, path, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET path = excluded.path",
            (name, path, ms(now)),
        )
        found = self.find_project(name)
        assert found is not None
        return found

    def get_project(self, project_id: int) -> Project:
        row = self.conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise NotFound(f"project {project_id} does not exist")
        return _project(row)

    def find_project(self, name: str) -> Project | None:
        row = self.conn.execute("SELECT * FROM projects WHERE name = ?", (name,)).fetchone()
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
            "SELECT * FROM revisions WHERE project_id = ? AND hash = ? ORDER BY id DESC",
            (project_id, hash),
        ).fetchone()
        if same is not None:
            return _revision(same)
        try:
            cursor = self.conn.execute(
                "INSERT INTO revisions (project_id, name, hash, default_params, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (project_id, name, hash, dump(default_params), ms(now)),
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"revision {name!r} already exists with different contents") from exc
        revision_id = cursor.lastrowid
        self.conn.executemany(
            "INSERT INTO workflow_definitions "
            "(revision_id, project_id, name, timezone, definition, hash) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(revision_id, project_id, w.name, w.timezone, dump(w.definition), w.hash)
             for w in workflows],
        )
        assert revision_id is not None
        return self.get_revision(revision_id)

    def get_revision(self, revision_id: int) -> Revision:
        row = self.conn.execute("SELECT * FROM revisions WHERE id = ?", (revision_id,)).fetchone()
        if row is None:
            raise NotFound(f"revision {revision_id} does not exist")
        return _revision(row)

    def latest_revision(self, project_id: int) -> Revision | None:
        row = self.conn.execute(
            "SELECT * FROM revisions WHERE project_id = ? ORDER BY id DESC LIMIT 1",
            (project_id,),
        ).fetchone()
        return _revision(row) if row else None

    def list_definitions(self, revision_id: int) -> list[WorkflowDefinition]:
        rows = self.conn.execute(
            "SELECT * FROM workflow_definitions WHERE revision_id = ? ORDER BY name",
            (revision_id,),
        )
        return [_definition(r) for r in rows]

    def get_definition(self, definition_id: int) -> WorkflowDefinition:
        row = self.conn.execute(
            "SELECT * FROM workflow_definitions WHERE id = ?", (definition_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"workflow definition {definition_id} does not exist")
        return _definition(row)
