"""Sessions (stdlib sqlite3)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from digpy.errors import NotFound
from digpy.model.records import Session
from digpy.store.base import SessionRepo
from digpy.store.sql.lite.rows import ms, when_required


def _session(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        project_id=row["project_id"],
        workflow_name=row["workflow_name"],
        session_time=when_required(row["session_time"]),
        uuid=row["uuid"],
        last_attempt_id=row["last_attempt_id"],
        created_at=when_required(row["created_at"]),
    )


class LiteSessionRepo(SessionRepo):
    def __init__(self, conn: sqlite3.Connection) -> None:
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
        self.conn.execute(
            "INSERT INTO sessions (project_id, workflow_name, session_time, uuid, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (project_id, workflow_name, ms(session_time), uuid, ms(now)),
        )
        found = self.find_session(project_id, workflow_name, session_time)
        assert found is not None
        return found

    def get_session(self, session_id: int) -> Session:
        row = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise NotFound(f"session {session_id} does not exist")
        return _session(row)

    def find_session(
        self, project_id: int, workflow_name: str, session_time: datetime
    ) -> Session | None:
        row = self.conn.execute(
            "SELECT * FROM sessions WHERE project_id = ? AND workflow_name = ? "
            "AND session_time = ?",
            (project_id, workflow_name, ms(session_time)),
        ).fetchone()
        return _session(row) if row else None

    def list_sessions(
        self, project_id: int, workflow_name: str | None = None, *, limit: int = 100
    ) -> list[Session]:
        where = "project_id = ?"
        args: list[Any] = [project_id]
        if workflow_name is not None:
            where += " AND workflow_name = ?"
            args.append(workflow_name)
        rows = self.conn.execute(
            f"SELECT * FROM sessions WHERE {where} "  # only fixed fragments
            "ORDER BY session_time DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [_session(r) for r in rows]
