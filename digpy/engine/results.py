"""What a finished (or running) attempt looks like to callers: frozen summaries built from
the stored rows, for the CLI's end-of-run report and the Python API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digpy.engine.params import apply_stores
from digpy.model.records import Attempt, Task
from digpy.model.states import AttemptStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSummary:
    id: int
    full_name: str
    state: str  # "success", "error", "group_error", "canceled", "blocked", ...
    is_group: bool
    error: Mapping[str, Any] | None
    started_at: datetime | None
    finished_at: datetime | None
    retry_count: int
    log_path: str | None
    store_params: Mapping[str, Any] = field(default_factory=dict)
    export_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from the first start to the end (None until both are known)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    attempt_id: int
    attempt_name: str
    session_id: int
    session_time: datetime
    workflow_name: str
    status: AttemptStatus  # success / error / killed (running only while in progress)
    params: Mapping[str, Any]
    error: Mapping[str, Any] | None
    tasks: tuple[TaskSummary, ...]  # every row, creation order (old retry rows included)
    store_params: Mapping[str, Any] = field(default_factory=dict)  # all stores, merged

    @property
    def success(self) -> bool:
        return self.status is AttemptStatus.SUCCESS

    def task(self, full_name: str) -> TaskSummary:
        """The newest row with this full name. :raises KeyError: no such task."""
        for summary in reversed(self.tasks):
            if summary.full_name == full_name:
                return summary
        raise KeyError(full_name)

    @property
    def failed_tasks(self) -> tuple[TaskSummary, ...]:
        """Newest rows in ``error`` (the ones to show a user), creation order."""
        newest = {t.full_name: t for t in self.tasks}
        return tuple(t for t in newest.values() if t.state == "error")


def summarize(attempt: Attempt, tasks: Sequence[Task]) -> RunResult:
    stores: dict[str, Any] = {}
    for task in _pre_order(tasks):
        apply_stores(stores, task)
    return RunResult(
        attempt_id=attempt.id,
        attempt_name=attempt.name,
        session_id=attempt.session_id,
        session_time=attempt.session_time,
        workflow_name=attempt.workflow_name,
        status=attempt.status,
        params=attempt.params,
        error=attempt.error,
        tasks=tuple(_summary(t) for t in tasks),
        store_params=stores,
    )


def _pre_order(tasks: Sequence[Task]) -> list[Task]:
    """Each task followed by its whole subtree, siblings in creation order: the order in
    which spec §2.2 applies stores for a task that runs after everything (a branch's
    generated subtree is created after the next branch, yet is applied before it)."""
    children: dict[int | None, list[Task]] = {}
    for task in tasks:  # creation order
        children.setdefault(task.parent_id, []).append(task)
    known = {t.id for t in tasks}
    roots = [t for t in tasks if t.parent_id is None or t.parent_id not in known]
    ordered: list[Task] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(reversed(children.get(node.id, [])))
    return ordered


def _summary(task: Task) -> TaskSummary:
    return TaskSummary(
        id=task.id,
        full_name=task.full_name,
        state=task.state.label,
        is_group=task.is_group,
        error=task.error,
        started_at=task.started_at,
        finished_at=task.finished_at,
        retry_count=task.retry_count,
        log_path=task.log_path,
        store_params=task.store_params,
        export_params=task.export_params,
    )
