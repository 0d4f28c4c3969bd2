"""Sessions: one row per (project, workflow, session_time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digpy.errors import NotFound
from digpy.model.records import Session
from digpy.store.base import SessionRepo
from digpy.store.sql.schema import sessions


def _session(row: sa.Row[Any]) -> Session:
    return Session(
        id=row.id,
        project_id=row.project_id,
        workflow_name=row.workflow_name,
        session_time=row.session_time,
        uuid=row.uuid,
        last_attempt_id=row.last_attempt_id,
        created_at=row.created_at,
    )


def insert_ignoring_conflict(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """INSERT that silently does nothing when a unique key already exists (both dialects
    spell it ON CONFLICT DO NOTHING); the caller then reads the winning row."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())


class SqlSessionRepo(SessionRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def put_session(
        self,
        project_id: int,
        workflow_name: str,
        session_time: datetime,
        *,
        uuid: str,
        now: datetime,
    ) -> Session:
        insert_ignoring_conflict(
            self.conn,
            sessions,
            {
                "project_id": project_id,
                "workflow_name": workflow_name,
                "session_time": session_time,
                "uuid": uuid,
                "created_at": now,
            },
        )
        found = self.find_session(project_id, workflow_name, session_time)
        assert found is not None
        return found

    def get_session(self, session_id: int) -> Session:
        row = self.conn.execute(sessions.select().where(sessions.c.id == session_id)).first()
        if row is None:
            raise NotFound(f"session {session_id} does not exist")
        return _session(row)

    def find_session(
        self, project_id: int, workflow_name: str, session_time: datetime
    ) -> Session | None:
        row = self.conn.execute(
            sessions.select().where(
                sessions.c.project_id == project_id,
                sessions.c.workflow_name == workflow_name,
                sessions.c.session_time == session_time,
            )
        ).first()
        return _session(row) if row else None

    def list_sessions(
        self, project_id: int, workflow_name: str | None = None, *, limit: int = 100
    ) -> list[Session]:
        query = sessions.select().where(sessions.c.project_id == project_id)
        if workflow_name is not None:
            query = query.where(sessions.c.workflow_name == workflow_name)
        query = query.order_by(sessions.c.session_time.desc(), sessions.c.id.desc()).limit(limit)
        return [_session(r) for r in self.conn.execute(query)]
