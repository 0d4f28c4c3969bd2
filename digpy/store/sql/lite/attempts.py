"""Attempts, joined with their session, and resuming tasks (stdlib sqlite3)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from digpy.errors import Conflict, NotFound
from digpy.model.records import Attempt, NewAttempt, ResumingTask
from digpy.model.states import DONE, AttemptStatus, TaskFlags, Trigger
from digpy.store.base import AttemptRepo
from digpy.store.sql.lite.rows import dump, dump_or_null, load, ms, when, when_required
from digpy.store.sql.shared import output_from_json, output_json

_JOINED = (
    "SELECT a.*, s.project_id, s.workflow_name, s.session_time, s.uuid AS session_uuid "
    "FROM attempts a JOIN sessions s ON s.id = a.session_id "
)
_NOT_DONE = ", ".join(str(int(s)) for s in sorted(DONE))


def _attempt(row: sqlite3.Row) -> Attempt:
    return Attempt(
        id=row["id"],
        session_id=row["session_id"],
        project_id=row["project_id"],
        workflow_name=row["workflow_name"],
        session_time=when_required(row["session_time"]),
        session_uuid=row["session_uuid"],
        name=row["name"],
        index=row["index"],
        params=load(row["params"]),
        status=AttemptStatus(row["status"]),
        trigger=Trigger(row["trigger"]),
        who=row["who"],
        workflow_definition_id=row["workflow_definition_id"],
        revision_name=row["revision_name"],
        timezone=row["timezone"],
        created_at=when_required(row["created_at"]),
        finished_at=when(row["finished_at"]),
        cancel_requested=bool(row["cancel_requested"]),
        task_limit=row["task_limit"],
        result=load(row["result"]),
        error=load(row["error"]),
    )






class LiteAttemptRepo(AttemptRepo):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def insert_attempt(self, new: NewAttempt) -> Attempt:
        (index,) = self.conn.execute(
            'SELECT COALESCE(MAX("index"), 0) FROM attempts WHERE session_id = ?',
            (new.session_id,),
        ).fetchone()
        try:
            cursor = self.conn.execute(
                'INSERT INTO attempts (session_id, name, "index", params, status, "trigger", '
                "who, workflow_definition_id, revision_name, timezone, created_at, "
                "cancel_requested, task_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                (new.session_id, new.name, index + 1, dump(new.params),
                 AttemptStatus.RUNNING.value, new.trigger.value, new.who,
                 new.workflow_definition_id, new.revision_name, new.timezone,
                 ms(new.created_at), new.task_limit),
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(
                f"session {new.session_id} already has an attempt named {new.name!r}"
            ) from exc
        attempt_id = cursor.lastrowid
        assert attempt_id is not None
        self.conn.execute(
            "UPDATE sessions SET last_attempt_id = ? WHERE id = ?", (attempt_id, new.session_id)
        )
        return self.get_attempt(attempt_id)

    def get_attempt(self, attempt_id: int) -> Attempt:
        row = self.conn.execute(_JOINED + "WHERE a.id = ?", (attempt_id,)).fetchone()
        if row is None:
            raise NotFound(f"attempt {attempt_id} does not exist")
        return _attempt(row)

    def find_attempt(self, session_id: int, name: str) -> Attempt | None:
        row = self.conn.execute(
            _JOINED + "WHERE a.session_id = ? AND a.name = ?", (session_id, name)
        ).fetchone()
        return _attempt(row) if row else None

    def list_attempts(self, session_id: int) -> list[Attempt]:
        rows = self.conn.execute(
            _JOINED + 'WHERE a.session_id = ? ORDER BY a."index"', (session_id,)
        )
        return [_attempt(r) for r in rows]

    def list_running_attempts(self, project_id: int | None = None) -> list[Attempt]:
        query = _JOINED + "WHERE a.status = ?"
        args: list[Any] = [AttemptStatus.RUNNING.value]
        if project_id is not None:
            query += " AND s.project_id = ?"
            args.append(project_id)
        return [_attempt(r) for r in self.conn.execute(query + " ORDER BY a.id", args)]

    def finish_attempt(
        self,
        attempt_id: int,
        status: AttemptStatus,
        *,
        now: datetime,
        result: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        if status is AttemptStatus.RUNNING:
            raise ValueError("finish_attempt needs a final status")
        cursor = self.conn.execute(
            "UPDATE attempts SET status = ?, finished_at = ?, result = ?, error = ? "
            "WHERE id = ? AND status = ?",
            (status.value, ms(now), dump_or_null(result), dump_or_null(error), attempt_id,
             AttemptStatus.RUNNING.value),
        )
        return cursor.rowcount == 1

    def request_cancel(self, attempt_id: int) -> bool:
        self.get_attempt(attempt_id)  # NotFound for an unknown id
        cursor = self.conn.execute(
            "UPDATE attempts SET cancel_requested = 1 "
            "WHERE id = ? AND status = ? AND cancel_requested = 0",
            (attempt_id, AttemptStatus.RUNNING.value),
        )
        if cursor.rowcount != 1:
            return False
        self.conn.execute(
            f"UPDATE tasks SET flags = flags | ? WHERE attempt_id = ? "
            f"AND state NOT IN ({_NOT_DONE})",
            (int(TaskFlags.CANCEL_REQUESTED), attempt_id),
        )
        return True

    def put_resuming_tasks(self, attempt_id: int, items: Sequence[ResumingTask]) -> None:
        self.conn.executemany(
            "INSERT INTO resuming_tasks (attempt_id, full_name, parent_full_name, "
            "upstream_full_names, is_group, operator, config, output) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(attempt_id, t.full_name, t.parent_full_name, dump(t.upstream_full_names),
              t.is_group, t.operator, dump(t.config), dump(output_json(t.output)))
             for t in items],
        )

    def list_resuming_tasks(self, attempt_id: int) -> list[ResumingTask]:
        rows = self.conn.execute(
            "SELECT * FROM resuming_tasks WHERE attempt_id = ? ORDER BY id", (attempt_id,)
        )
        return [
            ResumingTask(
                full_name=r["full_name"],
                parent_full_name=r["parent_full_name"],
                upstream_full_names=tuple(load(r["upstream_full_names"])),
                is_group=bool(r["is_group"]),
                operator=r["operator"],
                config=load(r["config"]),
                output=output_from_json(load(r["output"])),
            )
            for r in rows
        ]
