"""Task rows (stdlib sqlite3): batch insert, compare-and-set transitions, reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from digpy.errors import NotFound
from digpy.model.records import TASK_UPDATE_FIELDS, NewTask, Task
from digpy.model.states import TaskFlags, TaskState
from digpy.store.base import TaskRepo
from digpy.store.sql.lite.rows import dump, dump_or_null, load, ms, when
from digpy.store.sql.shared import resolve_new_task

_INSERT = (
    "INSERT INTO tasks (id, attempt_id, parent_id, full_name, is_group, operator, state, "
    "flags, upstream_ids, config, export_params, store_params, reset_keys, state_params, "
    "subtask_config, report, error, retry_count, retry_at, started_at, finished_at, log_path) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, NULL, 0, NULL, ?, ?, NULL)"
)
_JSON_FIELDS = frozenset({"export_params", "store_params", "state_params", "report"})
_NULLABLE_JSON = frozenset({"subtask_config", "error"})
_TIME_FIELDS = frozenset({"retry_at", "started_at", "finished_at"})


def _task(row: sqlite3.Row) -> Task:
    return Task(
        id=row["id"],
        attempt_id=row["attempt_id"],
        parent_id=row["parent_id"],
        full_name=row["full_name"],
        is_group=bool(row["is_group"]),
        operator=row["operator"],
        state=TaskState(row["state"]),
        flags=TaskFlags(row["flags"]),
        upstream_ids=tuple(load(row["upstream_ids"])),
        config=load(row["config"]),
        export_params=load(row["export_params"]),
        store_params=load(row["store_params"]),
        reset_keys=tuple(load(row["reset_keys"])),
        state_params=load(row["state_params"]),
        subtask_config=load(row["subtask_config"]),
        report=load(row["report"]),
        error=load(row["error"]),
        retry_count=row["retry_count"],
        retry_at=when(row["retry_at"]),
        started_at=when(row["started_at"]),
        finished_at=when(row["finished_at"]),
        log_path=row["log_path"],
    )


class LiteTaskRepo(TaskRepo):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def insert_tasks(self, attempt_id: int, new_tasks: Sequence[NewTask]) -> list[Task]:
        if not new_tasks:
            return []
        # Ids are allocated up front (the transaction began IMMEDIATE, so no other writer
        # can interleave) so a whole tree, parents and upstreams included, is one INSERT.
        (top,) = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM tasks").fetchone()
        ids = list(range(top + 1, top + 1 + len(new_tasks)))
        pairs = zip(ids, new_tasks, strict=True)
        stored = [resolve_new_task(attempt_id, i, t, ids) for i, t in pairs]
        self.conn.executemany(_INSERT, [_row(t) for t in stored])
        return stored

    def list_tasks(self, attempt_id: int) -> list[Task]:
        rows = self.conn.execute(
            "SELECT * FROM tasks WHERE attempt_id = ? ORDER BY id", (attempt_id,)
        )
        return [_task(r) for r in rows]

    def get_task(self, task_id: int) -> Task:
        row = self.conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            raise NotFound(f"task {task_id} does not exist")
        return _task(row)

    def count_tasks(self, attempt_id: int) -> int:
        (count,) = self.conn.execute(
            "SELECT COUNT(*) FROM tasks WHERE attempt_id = ?", (attempt_id,)
        ).fetchone()
        return int(count)

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
        names = tuple(sorted(fields))
        flagged = bool(add_flags or remove_flags)
        sql = _TRANSITIONS.get((names, flagged)) or _transition_sql(names, flagged)
        args: list[Any] = [int(after), *(_encode(n, fields[n]) for n in names)]
        if flagged:
            args += [int(add_flags), int(remove_flags)]
        return self.conn.execute(sql, (*args, task_id, int(before))).rowcount == 1

    def update_flags(
        self,
        task_id: int,
        state: TaskState,
        *,
        add: TaskFlags = TaskFlags.NONE,
        remove: TaskFlags = TaskFlags.NONE,
    ) -> bool:
        cursor = self.conn.execute(
            "UPDATE tasks SET flags = (flags | ?) & ~? WHERE id = ? AND state = ?",
            (int(add), int(remove), task_id, int(state)),
        )
        return cursor.rowcount == 1

    def latest_successes(self, session_id: int, *, before_attempt_id: int) -> list[Task]:
        # Ids grow with creation, so the newest success per name is its highest id.
        rows = self.conn.execute(
            "SELECT * FROM tasks WHERE id IN (SELECT MAX(t.id) FROM tasks t "
            "JOIN attempts a ON a.id = t.attempt_id WHERE a.session_id = ? AND a.id < ? "
            "AND t.state = ? GROUP BY t.full_name) ORDER BY full_name",
            (session_id, before_attempt_id, int(TaskState.SUCCESS)),
        )
        return [_task(r) for r in rows]


# The few field sets the engine writes, each a statement text built once (sqlite3 caches
# the compiled statement by its text).
_TRANSITIONS: dict[tuple[tuple[str, ...], bool], str] = {}


def _transition_sql(names: tuple[str, ...], flagged: bool) -> str:
    unknown = set(names) - TASK_UPDATE_FIELDS
    if unknown:
        raise ValueError(f"unknown task fields: {sorted(unknown)}")
    sets = ["state = ?", *(f"{n} = ?" for n in names)]
    if flagged:
        # Bitwise in SQL, so a flag another process set meanwhile (a kill) is kept.
        sets.append("flags = (flags | ?) & ~?")
    sql = f"UPDATE tasks SET {', '.join(sets)} WHERE id = ? AND state = ?"
    _TRANSITIONS[(names, flagged)] = sql
    return sql


def _encode(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS:
        return dump(value) if value else "{}"
    if name in _NULLABLE_JSON:
        return dump_or_null(value)
    if name == "reset_keys":
        return dump(list(value))
    if name in _TIME_FIELDS:
        return ms(value)
    return value




def _row(t: Task) -> tuple[Any, ...]:
    return (
        t.id, t.attempt_id, t.parent_id, t.full_name, t.is_group, t.operator, int(t.state),
        int(t.flags), dump(list(t.upstream_ids)), dump(t.config), dump(t.export_params),
        dump(t.store_params), dump(list(t.reset_keys)), dump_or_null(t.subtask_config),
        dump(t.report), ms(t.started_at), ms(t.finished_at),
    )
