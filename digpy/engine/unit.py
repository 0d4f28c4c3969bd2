"""One store transaction of the engine, mirrored into the graph only once it commits.

Every state change goes through ``Unit.move``: the edge is checked against ``ALLOWED``
first (a bug otherwise), then written as a compare-and-set. If the transaction rolls back,
the graph never hears of it; if a compare-and-set loses, the graph is stale and the
executor reloads it from the store.

A ``Batch`` lets several units share one transaction (``AttemptExecutor.advance``: record
a task's outcome, propagate, claim the next task, one commit). Each joined unit is mirrored
into the graph as it ends, so the next one reads it; listeners hear of any of it only after
the commit, and a rollback makes the executor reload the graph from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from operator import attrgetter
from typing import Any

from digpy.model.records import NewTask, Task
from digpy.model.states import TaskFlags, TaskState, check_edge
from digpy.store.base import Tx

EdgeHook = Callable[[TaskState, TaskState], None]

_TASK_FIELDS = tuple(f.name for f in dataclass_fields(Task))
_TASK_FIELD_SET = frozenset(_TASK_FIELDS)
_set = object.__setattr__
_all_fields = attrgetter(*_TASK_FIELDS)  # every field's value in one call


def _moved_copy(task: Task, changes: dict[str, Any]) -> Task:
    """``dataclasses.replace(task, **changes)`` at half the cost (it runs for every
    transition): the fields are copied straight into a new frozen record. ``Task`` has no
    ``__post_init__``, so nothing is skipped."""
    if not _TASK_FIELD_SET.issuperset(changes):
        raise TypeError(f"Task has no field(s) {sorted(set(changes) - _TASK_FIELD_SET)}")
    new = object.__new__(Task)
    for name, value in zip(_TASK_FIELDS, _all_fields(task), strict=True):
        _set(new, name, changes.get(name, value))
    return new


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
        fields["state"] = after
        if add_flags or remove_flags:  # IntFlag arithmetic runs in Python: only when needed
            fields["flags"] = TaskFlags((task.flags | add_flags) & ~remove_flags)
        moved = _moved_copy(task, fields)
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


@dataclass(slots=True)
class Batch:
    """One transaction for several units: the first ``join`` opens it with ``open`` (the
    executor's fenced write), later ones reuse it, ``commit`` ends it. A unit that raises
    rolls the whole transaction back and closes the batch: later units of the same step go
    back to transactions of their own."""

    open: Callable[[], AbstractContextManager[Unit]]
    unit: Unit | None = None
    events: list[Any] = field(default_factory=list)  # mirrored, announced after the commit
    closed: bool = False
    _stack: ExitStack | None = None

    @contextmanager
    def join(self) -> Iterator[Unit]:
        if self.unit is None:
            stack = ExitStack()
            try:
                self.unit = stack.enter_context(self.open())
            except BaseException:
                self.closed = True  # e.g. a fence refused: nothing was written
                raise
            self._stack = stack
        try:
            yield self.unit
        except BaseException as exc:
            self.abort(exc)
            raise

    def abort(self, exc: BaseException) -> None:
        """Roll back whatever the batch wrote; nothing of it is announced."""
        stack = self._end()
        self.events.clear()
        if stack is not None:
            stack.__exit__(type(exc), exc, exc.__traceback__)

    def commit(self) -> Unit | None:
        """Commit (raises if the commit fails); the shared unit, None if nothing opened."""
        unit = self.unit
        stack = self._end()
        if stack is not None:
            stack.__exit__(None, None, None)
        return unit

    def _end(self) -> ExitStack | None:
        stack, self._stack, self.unit, self.closed = self._stack, None, None, True
        return stack
