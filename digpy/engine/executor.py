"""The executor of one attempt: a state machine driven from outside, no threads, no SQL.

``tick(now)`` runs the propagation passes until nothing moves (each round is one store
transaction) and finishes the attempt when the root is done. An agent claims READY tasks
with ``claim``, runs them wherever it likes, and reports with ``finish``; ``advance`` does
all three in one transaction (the hot path: one commit per task of a sequential workflow).
Every write goes through a ``Unit`` (compare-and-set per transition); listeners hear of a
change only after it committed, and a rollback reloads the graph from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from digpy.dsl.model import WorkflowTask
from digpy.engine import propagate, sla
from digpy.engine.graph import AttemptGraph
from digpy.engine.listeners import Listener
from digpy.engine.outcomes import Outcome, Rules, Succeeded, apply_outcome
from digpy.engine.params import AttemptScope, TaskParams, subtree_outputs, task_params
from digpy.engine.unit import Batch, EdgeHook, Unit
from digpy.model.records import Attempt, Task
from digpy.model.states import DONE, WAITING, AttemptStatus, TaskFlags, TaskState
from digpy.store.base import Store, Tx

S = TaskState
MAX_ROUNDS = 10_000  # a safety net: every round moves at least one task forward
PASSES = (
    propagate.retry_pass,
    propagate.ready_groups_pass,
    propagate.blocked_pass,
    propagate.planned_pass,
)


def _compile_subtasks(config: Any, *, name: str, parent_full_name: str) -> Sequence[WorkflowTask]:
    from digpy.dsl.compiler import compile_subtasks

    return compile_subtasks(config, name=name, parent_full_name=parent_full_name)


class AttemptExecutor:
    def __init__(
        self,
        store: Store,
        attempt: Attempt,
        scope: AttemptScope,
        *,
        listeners: Listener | None = None,
        on_edge: EdgeHook | None = None,
        compile_subtasks: Callable[..., Sequence[WorkflowTask]] = _compile_subtasks,
        fence: Callable[[Tx], None] | None = None,
    ) -> None:
        self.store = store
        # Called first in every write transaction; raising rolls it back (a daemon's lease
        # check, so a stale owner's late writes never land).
        self.fence = fence
        self.attempt = attempt
        self.scope = scope
        self.listeners = listeners or Listener()
        self.on_edge = on_edge
        self._compile = compile_subtasks
        self._notes: dict[int, str] = {}
        self._timed: dict[int, tuple[datetime, str]] = {}
        self._batch: Batch | None = None  # set while advance() shares one transaction
        self.reload()

    # -- state -------------------------------------------------------------------------------

    def reload(self) -> None:
        """(Re)build the graph from the store: at start, and when it proved stale."""
        with self.store.read() as tx:
            self.attempt = tx.attempts.get_attempt(self.attempt.id)
            tasks = tx.tasks.list_tasks(self.attempt.id)
            resuming = tx.attempts.list_resuming_tasks(self.attempt.id)
        self.graph = AttemptGraph(tasks)
        self.rules = Rules(
            graph=self.graph,
            attempt_id=self.attempt.id,
            task_limit=self.attempt.task_limit,
            compile_subtasks=self._compile,
            resuming=resuming,
            resuming_outputs={r.full_name: r.output for r in resuming},
        )
        self._timed = {}
        for task in tasks:
            self._track_timeout(task)
        self._sla = sla.monitor_for(self.attempt, self.graph)

    @property
    def done(self) -> bool:
        return self.attempt.done

    @property
    def running(self) -> list[Task]:
        return [t for t in self.graph.tasks.values() if t.state is S.RUNNING]

    def params(self, task: Task) -> TaskParams:
        return task_params(self.scope, self.graph, task)

    def deadline(self, task: Task) -> tuple[datetime, str] | None:
        """The earliest ``_timeout`` among the task's ancestor groups (operator tasks add
        their own, which only the agent can evaluate)."""
        found = [self._timed[a.id] for a in self.graph.ancestors(task.id) if a.id in self._timed]
        return min(found) if found else None

    def next_wakeup(self) -> datetime | None:
        """When ``tick`` next has timed work (a retry falls due, a group times out)."""
        times = [t for t, _ in self._timed.values()]
        retry_at = self.graph.next_retry_at()
        if retry_at is not None:
            times.append(retry_at)
        if self._sla is not None and self.graph.root.state is S.PLANNED:
            times.append(self._sla.due)
        return min(times) if times else None

    # -- driving ------------------------------------------------------------------------------

    def tick(self, now: datetime) -> bool:
        """Run the passes until quiet; finish the attempt if its root is done. True when
        anything moved."""
        if self.done:
            return False
        self._expire_groups(now)
        self._check_sla(now)
        changed = False
        for _ in range(MAX_ROUNDS):
            if not self._has_work(now):
                break
            with self._unit() as unit:
                moved = sum(step(unit, self.rules, now) for step in PASSES)
            if not moved:
                break
            changed = True
        self._finish_if_done(now)
        return changed

    def take_ready(self, limit: int | None = None) -> list[Task]:
        """READY operator tasks to dispatch, oldest first; they leave the queue."""
        ids = list(self.graph.ready) if limit is None else list(self.graph.ready)[:limit]
        for task_id in ids:
            del self.graph.ready[task_id]
        return [self.graph[t] for t in ids if self.graph[t].state is S.READY]

    def claim(self, tasks: Sequence[tuple[Task, str | None]], now: datetime) -> list[Task]:
        """READY -> RUNNING for each (task, log path) in one transaction; the tasks whose
        compare-and-set won, as now stored."""
        claimed = []
        with self._unit() as unit:
            for task, log_path in tasks:
                moved = unit.move(task, S.RUNNING, started_at=now, log_path=log_path)
                if moved is not None:
                    claimed.append(moved)
        return claimed

    def finish(self, results: Sequence[tuple[Task, Outcome]], now: datetime) -> None:
        """Record outcomes of RUNNING tasks, all in one transaction."""
        with self._unit() as unit:
            for task, outcome in results:
                current = self.graph[task.id]
                if current.state is not S.RUNNING:
                    continue  # recorded already (e.g. recovered after a kill)
                if isinstance(outcome, Succeeded) and outcome.note:
                    self._notes[task.id] = outcome.note
                apply_outcome(unit, self.rules, current, outcome, now)

    def advance(
        self,
        results: Sequence[tuple[Task, Outcome]],
        now: datetime,
        *,
        claim: int,
        log_path: Callable[[Task], str | None],
    ) -> list[Task]:
        """``finish(results)``, ``tick(now)`` and ``claim`` of up to ``claim`` READY tasks
        as one transaction (none if nothing moves); the claimed tasks, once committed.

        The steps are the public methods, so a subclass's wrapping of them still applies.
        Each step's writes are mirrored into the graph before the next step reads it."""
        batch = self._batch = Batch(self._write)
        try:
            if results:
                self.finish(results, now)
            self.tick(now)  # finishing the attempt waits for the commit (below)
            ready = self.take_ready(claim) if claim > 0 and not self.done else []
            claimed = self.claim([(t, log_path(t)) for t in ready], now) if ready else []
            unit = batch.commit()
        except BaseException as exc:
            batch.abort(exc)
            self.reload()
            raise
        finally:
            self._batch = None
        if unit is not None and unit.stale:
            self.reload()
        self._announce(batch.events)
        self._finish_if_done(now)
        return claimed

    def kill(self) -> bool:
        """Request cancel (spec §3.10). False when the attempt is done or already killed."""
        with self.store.write() as tx:
            ok = tx.attempts.request_cancel(self.attempt.id)
        if ok:
            self.graph.cancel_requested()
            self.attempt = _replace_attempt(self.attempt, cancel_requested=True)
        return ok

    def check_external_kill(self) -> bool:
        """Notice a kill written by another process; True when one was found."""
        if self.kill_requested() and not self.attempt.cancel_requested:
            self.reload()
            return True
        return False

    def kill_requested(self) -> bool:
        """Whether the stored attempt is being killed. Only reads: a watchdog thread may
        call it while the driver's thread runs an operator (the graph is left alone)."""
        with self.store.read() as tx:
            return tx.attempts.get_attempt(self.attempt.id).cancel_requested

    def recover_running(self, now: datetime) -> int:
        """RUNNING tasks nobody runs any more (a crashed process) go back to READY."""
        stranded = self.running
        if stranded:
            with self._unit() as unit:
                for task in stranded:
                    unit.move(task, S.READY)
        return len(stranded)

    # -- internals ----------------------------------------------------------------------------

    def _has_work(self, now: datetime) -> bool:
        g = self.graph
        if g.blocked_candidates or g.planned_candidates or g.ready_groups or g.woken:
            return True
        retry_at = g.next_retry_at()
        return retry_at is not None and retry_at <= now

    @contextmanager
    def _write(self) -> Iterator[Unit]:
        with self.store.write() as tx:
            if self.fence is not None:
                self.fence(tx)
            yield Unit(tx, on_edge=self.on_edge)

    @contextmanager
    def _unit(self) -> Iterator[Unit]:
        batch = self._batch
        joined = batch is not None and not batch.closed
        try:
            with batch.join() if batch is not None and joined else self._write() as unit:
                yield unit
        except BaseException:
            self.reload()  # queues were consumed by a transaction that rolled back
            raise
        # Mirror everything first, then tell listeners: a listener that raises (even
        # KeyboardInterrupt) can never leave the graph half-updated.
        events = [self._apply(change.before, change.after) for change in unit.log]
        if batch is not None and joined:
            unit.log.clear()  # mirrored; the batch announces it after its commit
            batch.events += events
            return
        if unit.stale:
            self.reload()
        self._announce(events)

    def _announce(self, events: Sequence[tuple[TaskState, Task] | None]) -> None:
        for event in events:
            if event is not None:
                self._emit(*event)

    def _apply(self, before: Task | None, after: Task) -> tuple[TaskState, Task] | None:
        if before is None:
            self.graph.add(after)
            return None
        # The unit's record is the stored row (the unit saw every field it wrote); only flags
        # set by others (a kill) may differ, and the graph reloads when it notices those.
        task = self.graph.put(after)
        self._track_timeout(task)
        return (before.state, task) if before.state is not after.state else None

    def _emit(self, before: TaskState, task: Task) -> None:
        if task.state is S.RUNNING:
            self.listeners.on_task_started(self.attempt, task)
        elif before is S.RUNNING or task.state in DONE:
            self.listeners.on_task_finished(self.attempt, task, note=self._notes.pop(task.id, None))

    def _track_timeout(self, task: Task) -> None:
        if task.is_group and task.state is S.PLANNED and "_timeout" in task.config:
            found = propagate.group_deadline(task)
            if found is not None:
                self._timed[task.id] = found
        else:
            self._timed.pop(task.id, None)

    def _expire_groups(self, now: datetime) -> None:
        for group_id, (deadline, _) in list(self._timed.items()):
            if deadline > now:
                continue
            del self._timed[group_id]
            for task in self.graph.descendants(group_id):
                if task.state in WAITING:
                    self.graph.wake(task.id)

    def _check_sla(self, now: datetime) -> None:
        if self._sla is None or self._sla.due > now or self.attempt.cancel_requested:
            return
        with self._unit() as unit:
            fired = sla.fire(unit, self.rules, self.attempt, self._sla)
        if fired:
            self._sla = None

    def _finish_if_done(self, now: datetime) -> None:
        root = self.graph.root
        if root.state not in DONE or self.done or self._batch is not None:
            return  # (in a batch: advance() calls it again after the commit)
        status, error = self._final_status(root)
        with self.store.write() as tx:
            if self.fence is not None:
                self.fence(tx)
            tx.attempts.finish_attempt(self.attempt.id, status, now=now, error=error)
            finished = tx.attempts.get_attempt(self.attempt.id)
        # Only once committed: an executor that believed a rolled-back finish would count
        # as done, be dropped by its driver and leave the attempt running forever.
        self.attempt = finished
        self.listeners.on_attempt_finished(self.attempt)

    def _final_status(self, root: Task) -> tuple[AttemptStatus, dict[str, Any] | None]:
        if root.state is S.SUCCESS:
            return AttemptStatus.SUCCESS, None
        errors, _ = subtree_outputs(self.graph, root)
        if self.attempt.cancel_requested or root.flags & TaskFlags.CANCEL_REQUESTED:
            return AttemptStatus.KILLED, errors or None
        return AttemptStatus.ERROR, errors or {"message": f"{root.full_name} failed"}




def _replace_attempt(attempt: Attempt, **changes: Any) -> Attempt:
    from dataclasses import replace

    return replace(attempt, **changes)
