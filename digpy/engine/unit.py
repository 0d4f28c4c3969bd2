"""One store transaction of the engine, mirrored into the graph only once it commits.

Every state change goes through ``Unit.move``: the edge is checked against ``ALLOWED``
first (a bug otherwise), then written as a compare-and-set. If the transaction rolls back,
the graph never hears of it; if a compare-and-set loses, the graph is stale and the
executor reloads it from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from digpy.model.records import NewTask, Task
from digpy.model.states import TaskFlags, TaskState, check_edge
from digpy.store.base import Tx

EdgeHook = Callable[[TaskState, TaskState], None]


@dataclass(frozen=True, slots=True)
class Change:
    """``before`` -> ``after`` for a moved or flagged task; ``before`` None for an insert."""

    before: Task | None
    after: Task


@dataclass(slots=True)
class Unit:
    tx: Tx
    on_edge: EdgeHook | None = None
    log: list[Change] = field(default_factory=list)  # in the order the writes happened
    stale: bool = False

    def move(
        self,
        task: Task,
        after: TaskState,
        *,
        add_flags: TaskFlags = TaskFlags.NONE,
        remove_flags: TaskFlags = TaskFlags.NONE,
        **fields: Any,
    ) -> Task | None:
        """Move ``task`` (as this unit last saw it) to ``after``; the new record, or None
        when another writer got there first."""
        check_edge(task.state, after)
        if self.on_edge is not None:
            self.on_edge(task.state, after)
        ok = self.tx.tasks.transition(
            task.id, task.state, after, add_flags=add_flags, remove_flags=remove_flags, **fields
        )
        if not ok:
            self.stale = True
            return None
        flags = (task.flags | add_flags) & ~remove_flags
        moved = replace(task, state=after, flags=TaskFlags(flags), **fields)
        self.log.append(Change(task, moved))
        return moved

    def flag(self, task: Task, *, add: TaskFlags) -> Task | None:
        if not self.tx.tasks.update_flags(task.id, task.state, add=add):
            self.stale = True
            return None
        flagged = replace(task, flags=task.flags | add)
        self.log.append(Change(task, flagged))
        return flagged

    def insert(self, attempt_id: int, rows: Sequence[NewTask]) -> list[Task]:
        stored = self.tx.tasks.insert_tasks(attempt_id, rows)
        self.log.extend(Change(None, t) for t in stored)
        return stored
