"""Task rows: batch insert, compare-and-set transitions, reads for the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from digpy.errors import NotFound
from digpy.model.records import TASK_UPDATE_FIELDS, NewTask, Task
from digpy.model.states import TaskFlags, TaskState
from digpy.store.base import TaskRepo
from digpy.store.sql.schema import attempts, tasks
from digpy.store.sql.shared import resolve_new_task


def _task(row: sa.Row[Any]) -> Task:
    return Task(
        id=row.id,
        attempt_id=row.attempt_id,
        parent_id=row.parent_id,
        full_name=row.full_name,
        is_group=bool(row.is_group),
        operator=row.operator,
        state=TaskState(row.state),
        flags=TaskFlags(row.flags),
        upstream_ids=tuple(row.upstream_ids),
        config=row.config,
        export_params=row.export_params,
        store_params=row.store_params,
        reset_keys=tuple(row.reset_keys),
        state_params=row.state_params,
        subtask_config=row.subtask_config,
        report=row.report,
        error=row.error,
        retry_count=row.retry_count,
        retry_at=row.retry_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        log_path=row.log_path,
    )


class SqlTaskRepo(TaskRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _allocate_ids(self, count: int) -> list[int]:
        """Ids for a batch, so parents and upstreams can be written in one INSERT."""
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence('tasks', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            )
            return sorted(int(r[0]) for r in rows)
        # SQLite: the write transaction began IMMEDIATE, so no other writer can interleave.
        top = self.conn.execute(sa.select(sa.func.coalesce(sa.func.max(tasks.c.id), 0)))
        start = int(top.scalar_one()) + 1
        return list(range(start, start + count))

    def insert_tasks(self, attempt_id: int, new_tasks: Sequence[NewTask]) -> list[Task]:
        if not new_tasks:
            return []
        ids = self._allocate_ids(len(new_tasks))
        pairs = zip(ids, new_tasks, strict=True)
        stored = [resolve_new_task(attempt_id, task_id, t, ids) for task_id, t in pairs]
        self.conn.execute(tasks.insert(), [_row(t) for t in stored])
        return stored

    def list_tasks(self, attempt_id: int) -> list[Task]:
        rows = self.conn.execute(
            tasks.select().where(tasks.c.attempt_id == attempt_id).order_by(tasks.c.id)
        )
        return [_task(r) for r in rows]

    def get_task(self, task_id: int) -> Task:
        row = self.conn.execute(tasks.select().where(tasks.c.id == task_id)).first()
        if row is None:
            raise NotFound(f"task {task_id} does not exist")
        return _task(row)

    def count_tasks(self, attempt_id: int) -> int:
        query = sa.select(sa.func.count()).where(tasks.c.attempt_id == attempt_id)
        return int(self.conn.execute(query).scalar_one())

    def transition(
        self,
        task_id: int,
        before: TaskState,
        after: TaskState,
        *,
        add_flags: TaskFlags = TaskFlags.NONE,
        remove_flags: TaskFlags = TaskFlags.NONE,
        **fields: Any,
    ) -> bool:
        unknown = fields.keys() - TASK_UPDATE_FIELDS
        if unknown:
            raise ValueError(f"unknown task fields: {sorted(unknown)}")
        values: dict[str, Any] = {"state": int(after), **_json_ready(fields)}
        if add_flags or remove_flags:
            values["flags"] = _flags_expr(add_flags, remove_flags)
        query = (
            tasks.update()
            .where(tasks.c.id == task_id, tasks.c.state == int(before))
            .values(**values)
        )
        return bool(self.conn.execute(query).rowcount == 1)

    def update_flags(
        self,
        task_id: int,
        state: TaskState,
        *,
        add: TaskFlags = TaskFlags.NONE,
        remove: TaskFlags = TaskFlags.NONE,
    ) -> bool:
        query = (
            tasks.update()
            .where(tasks.c.id == task_id, tasks.c.state == int(state))
            .values(flags=_flags_expr(add, remove))
        )
        return bool(self.conn.execute(query).rowcount == 1)

    def latest_successes(self, session_id: int, *, before_attempt_id: int) -> list[Task]:
        # Ids grow with creation, so the newest success per name is its highest id.
        newest = (
            sa.select(sa.func.max(tasks.c.id))
            .join(attempts, attempts.c.id == tasks.c.attempt_id)
            .where(
                attempts.c.session_id == session_id,
                attempts.c.id < before_attempt_id,
                tasks.c.state == int(TaskState.SUCCESS),
            )
            .group_by(tasks.c.full_name)
        )
        query = tasks.select().where(tasks.c.id.in_(newest)).order_by(tasks.c.full_name)
        return [_task(r) for r in self.conn.execute(query)]


def _flags_expr(add: TaskFlags, remove: TaskFlags) -> sa.ColumnElement[int]:
    # Bitwise in SQL, so a flag another process set meanwhile (a kill) is never lost.
    return tasks.c.flags.bitwise_or(int(add)).bitwise_and(~int(remove))


def _json_ready(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "reset_keys" in out:
        out["reset_keys"] = list(out["reset_keys"])
    for key in ("export_params", "store_params", "state_params", "report"):
        if key in out:
            out[key] = dict(out[key] or {})
    for key in ("subtask_config", "error"):
        if out.get(key) is not None:
            out[key] = dict(out[key])
    return out




def _row(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "attempt_id": t.attempt_id,
        "parent_id": t.parent_id,
        "full_name": t.full_name,
        "is_group": t.is_group,
        "operator": t.operator,
        "state": int(t.state),
        "flags": int(t.flags),
        "upstream_ids": list(t.upstream_ids),
        "config": dict(t.config),
        "export_params": dict(t.export_params),
        "store_params": dict(t.store_params),
        "reset_keys": list(t.reset_keys),
        "state_params": dict(t.state_params),
        "subtask_config": dict(t.subtask_config) if t.subtask_config is not None else None,
        "report": dict(t.report),
        "error": None,
        "retry_count": 0,
        "retry_at": None,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
        "log_path": None,
    }
