"""An in-memory index of one attempt's tasks, so each executor pass touches only the tasks
that can have changed instead of scanning the whole attempt.

The store stays the source of truth: the graph is loaded from it, and the executor mirrors
into it only transitions that committed. What it indexes:

- children and downstream edges, and each task's position among its siblings;
- ``active[parent]``: children neither done nor *stuck* (BLOCKED behind a failed or
  canceled upstream). A parent can finish exactly when this is zero: some child is
  progressible (spec §3.3) if and only if some child is active;
- work queues: BLOCKED tasks worth re-checking, PLANNED tasks whose children may all be
  done, READY tasks to dispatch, and a heap of retry times;
- which subtrees hold store params, and (lazily) each task's transitive upstream siblings
  as a bit mask, so the params walk (engine.params) costs nothing when nothing stores.
"""

from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from digpy.model.records import Task
from digpy.model.states import DONE, WAITING, TaskFlags, TaskState

S = TaskState


class AttemptGraph:
    def __init__(self, tasks: Iterable[Task]) -> None:
        self.tasks: dict[int, Task] = {}
        self.children: defaultdict[int, list[int]] = defaultdict(list)
        self.downstream: defaultdict[int, list[int]] = defaultdict(list)
        self.position: dict[int, int] = {}
        self.newest: dict[str, int] = {}  # full name -> newest row (group retries copy)
        self.active: defaultdict[int, int] = defaultdict(int)
        self.stuck: set[int] = set()
        self.storing: set[int] = set()  # tasks whose subtree (self included) stores params
        self.storing_children: defaultdict[int, list[int]] = defaultdict(list)
        self.blocked_candidates: set[int] = set()
        self.planned_candidates: set[int] = set()
        self.ready: dict[int, None] = {}  # insertion-ordered set of READY operator tasks
        self.ready_groups: set[int] = set()  # READY groups, back from a group retry
        self.retry_heap: list[tuple[datetime, int]] = []
        self.woken: set[int] = set()  # waiting tasks due now whatever their retry_at says
        self._closure: dict[int, int] = {}
        self.root_id: int | None = None
        for task in tasks:
            self.add(task)

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, task_id: int) -> Task:
        return self.tasks[task_id]

    @property
    def root(self) -> Task:
        assert self.root_id is not None, "an attempt always has a root task"
        return self.tasks[self.root_id]

    def ancestors(self, task_id: int) -> list[Task]:
        """The task's ancestors, root first."""
        chain: list[Task] = []
        parent = self.tasks[task_id].parent_id
        while parent is not None:
            node = self.tasks[parent]
            chain.append(node)
            parent = node.parent_id
        chain.reverse()
        return chain

    def child_tasks(self, task_id: int, *, newest_only: bool = False) -> list[Task]:
        kids = [self.tasks[c] for c in self.children.get(task_id, ())]
        if newest_only:
            kids = [k for k in kids if self.newest[k.full_name] == k.id]
        return kids

    def descendants(self, task_id: int) -> Iterator[Task]:
        """Every descendant, depth first, children in creation order."""
        stack = list(reversed(self.children.get(task_id, ())))
        while stack:
            node = self.tasks[stack.pop()]
            yield node
            stack.extend(reversed(self.children.get(node.id, ())))

    def is_blocked_ready(self, task: Task) -> bool:
        """A BLOCKED task may start: its parent started and every upstream succeeded."""
        parent = self.tasks.get(task.parent_id) if task.parent_id is not None else None
        if parent is not None and parent.state not in (S.PLANNED, S.SUCCESS):
            return False
        return all(self.tasks[u].state is S.SUCCESS for u in task.upstream_ids)

    def upstream_mask(self, task_id: int) -> int:
        """Sibling positions reachable through upstream edges, as bits (memoised; edges
        never change once a task exists)."""
        known = self._closure.get(task_id)
        if known is not None:
            return known
        stack = [task_id]
        while stack:
            current = stack[-1]
            ups = self.tasks[current].upstream_ids
            missing = [u for u in ups if u not in self._closure]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            mask = 0
            for u in ups:
                mask |= self._closure[u] | (1 << self.position[u])
            self._closure[current] = mask
        return self._closure[task_id]

    def storing_upstreams(self, task_id: int) -> list[Task]:
        """Upstream siblings (transitively) whose subtree stores params, in creation order."""
        task = self.tasks[task_id]
        if task.parent_id is None:
            return []
        candidates = self.storing_children.get(task.parent_id)
        if not candidates:
            return []
        mask = self.upstream_mask(task_id)
        return [self.tasks[c] for c in candidates if mask >> self.position[c] & 1]

    def next_retry_at(self) -> datetime | None:
        """The earliest time a waiting task falls due (None: nothing waits on a timer)."""
        while self.retry_heap:
            at, task_id = self.retry_heap[0]
            task = self.tasks[task_id]
            if task.state in WAITING and task.retry_at == at:
                return at
            heapq.heappop(self.retry_heap)  # stale entry
        return None

    def pop_due_retries(self, now: datetime) -> list[Task]:
        due = [self.tasks[t] for t in sorted(self.woken) if self.tasks[t].state in WAITING]
        self.woken.clear()
        seen = {t.id for t in due}
        while self.retry_heap and self.retry_heap[0][0] <= now:
            at, task_id = heapq.heappop(self.retry_heap)
            task = self.tasks[task_id]
            if task.state in WAITING and task.retry_at == at and task.id not in seen:
                due.append(task)
        return due

    def wake(self, task_id: int) -> None:
        """Make a waiting task due at the next pass (kill, an expired group timeout)."""
        self.woken.add(task_id)

    # -- mirroring committed changes ----------------------------------------------------------

    def add(self, task: Task) -> None:
        self.tasks[task.id] = task
        self.newest[task.full_name] = task.id
        if task.parent_id is None:
            self.root_id = task.id if self.root_id is None else self.root_id
        else:
            siblings = self.children[task.parent_id]
            self.position[task.id] = len(siblings)
            siblings.append(task.id)
        for u in task.upstream_ids:
            self.downstream[u].append(task.id)
        if task.state is S.BLOCKED and any(self._failed_or_stuck(u) for u in task.upstream_ids):
            self.stuck.add(task.id)
        elif task.state not in DONE and task.parent_id is not None:
            self.active[task.parent_id] += 1
        if _stores(task):
            self._mark_storing(task)
        self._enqueue(task)

    def update(self, task_id: int, **changes: Any) -> Task:
        """Replace a task's fields after a committed write and keep the indexes true."""
        return self.put(replace(self.tasks[task_id], **changes))

    def put(self, after: Task) -> Task:
        """Replace a stored task with its new committed version (same id)."""
        before = self.tasks[after.id]
        self.tasks[after.id] = after
        if after.state is not before.state:
            self._state_changed(before, after)
        if _stores(after) and not _stores(before):
            self._mark_storing(after)
        return after

    def retry_at_changed(self, task: Task) -> None:
        if task.retry_at is not None:
            heapq.heappush(self.retry_heap, (task.retry_at, task.id))

    def _state_changed(self, before: Task, after: Task) -> None:
        self.ready.pop(after.id, None)
        self.ready_groups.discard(after.id)
        if after.state in DONE and before.state not in DONE:
            self._deactivate(after)
            if after.state is S.SUCCESS:
                self.blocked_candidates.update(self.downstream.get(after.id, ()))
            else:
                self._mark_stuck_downstream(after.id)
        self._enqueue(after)

    def _enqueue(self, task: Task) -> None:
        state = task.state
        if state is S.BLOCKED:
            if task.id not in self.stuck:
                self.blocked_candidates.add(task.id)
        elif state is S.READY:
            if task.is_group:
                self.ready_groups.add(task.id)
            else:
                self.ready[task.id] = None
        elif state is S.PLANNED:
            self.blocked_candidates.update(self.children.get(task.id, ()))
            if self.active[task.id] == 0:
                self.planned_candidates.add(task.id)
        elif state in WAITING:
            self.retry_at_changed(task)

    def _deactivate(self, task: Task) -> None:
        parent = task.parent_id
        if parent is None:
            return
        self.active[parent] -= 1
        if self.active[parent] == 0:
            self.planned_candidates.add(parent)

    def _failed_or_stuck(self, task_id: int) -> bool:
        state = self.tasks[task_id].state
        return (state in DONE and state is not S.SUCCESS) or task_id in self.stuck

    def _mark_stuck_downstream(self, task_id: int) -> None:
        stack = list(self.downstream.get(task_id, ()))
        while stack:
            node = self.tasks[stack.pop()]
            if node.state is not S.BLOCKED or node.id in self.stuck:
                continue
            self.stuck.add(node.id)
            self.blocked_candidates.discard(node.id)
            self._deactivate(node)
            stack.extend(self.downstream.get(node.id, ()))

    def _mark_storing(self, task: Task) -> None:
        node: Task | None = task
        while node is not None and node.id not in self.storing:
            self.storing.add(node.id)
            if node.parent_id is None:
                break
            bisect.insort(self.storing_children[node.parent_id], node.id)
            node = self.tasks[node.parent_id]

    def cancel_requested(self) -> None:
        """A kill reached the store: flag every unfinished task and wake every waiter."""
        for task in list(self.tasks.values()):
            if task.state in DONE:
                continue
            flagged = self.update(task.id, flags=task.flags | TaskFlags.CANCEL_REQUESTED)
            self._enqueue(flagged)
            if flagged.state in WAITING:
                self.wake(flagged.id)


def _stores(task: Task) -> bool:
    return bool(task.store_params or task.reset_keys)


def newest_by_name(tasks: Iterable[Task]) -> Mapping[str, Task]:
    newest: dict[str, Task] = {}
    for task in tasks:
        known = newest.get(task.full_name)
        if known is None or task.id > known.id:
            newest[task.full_name] = task
    return newest
