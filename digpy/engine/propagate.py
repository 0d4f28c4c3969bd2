"""The executor's idempotent passes (spec §3.3). Each looks only at the graph's queues of
tasks that may have changed, and returns how many tasks it moved.

- blocked: BLOCKED -> READY (PLANNED for a group, CANCELED when killed) once the parent
  started and every upstream succeeded;
- retries: RETRY_WAITING / GROUP_RETRY_WAITING -> READY once ``retry_at`` passed;
- groups: a READY group (back from a group retry) re-creates its initial children and
  plans again;
- planned: a PLANNED task with no progressible child finishes, retries, or runs ``^error``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from digpy.dsl.durations import format_duration, parse_duration
from digpy.dsl.model import RetryPolicy
from digpy.engine.generate import retry_copies
from digpy.engine.outcomes import Rules, add_error_tasks
from digpy.engine.params import static_export, subtree_outputs
from digpy.engine.unit import Unit
from digpy.errors import ConfigError
from digpy.model.records import Task
from digpy.model.states import FAILED, TaskFlags, TaskState

log = logging.getLogger(__name__)
S = TaskState
F = TaskFlags


def blocked_pass(unit: Unit, rules: Rules, now: datetime) -> int:
    graph = rules.graph
    candidates = sorted(graph.blocked_candidates)
    graph.blocked_candidates.clear()
    moved = 0
    for task_id in candidates:
        task = graph[task_id]
        if task.state is not S.BLOCKED or not graph.is_blocked_ready(task):
            continue
        if task.is_group:
            unit.move(task, S.PLANNED, started_at=now)
        elif task.flags & F.CANCEL_REQUESTED:
            unit.move(task, S.CANCELED, finished_at=now)
        else:
            unit.move(task, S.READY)
        moved += 1
    return moved


def retry_pass(unit: Unit, rules: Rules, now: datetime) -> int:
    due = rules.graph.pop_due_retries(now)
    for task in due:
        unit.move(task, S.READY)
    return len(due)


def ready_groups_pass(unit: Unit, rules: Rules, now: datetime) -> int:
    graph = rules.graph
    groups = [graph[t] for t in sorted(graph.ready_groups)]
    for group in groups:
        if group.flags & F.CANCEL_REQUESTED:
            unit.move(group, S.CANCELED, finished_at=now)
            continue
        unit.insert(rules.attempt_id, retry_copies(graph, group))
        unit.move(group, S.PLANNED, started_at=now)  # a retry restarts its _timeout clock
    return len(groups)


def planned_pass(unit: Unit, rules: Rules, now: datetime) -> int:
    graph = rules.graph
    candidates = sorted(graph.planned_candidates)
    graph.planned_candidates.clear()
    moved = 0
    for task_id in candidates:
        task = graph[task_id]
        if task.state is S.PLANNED and graph.active[task_id] == 0:
            _finish_planned(unit, rules, task, now)
            moved += 1
    return moved


def _finish_planned(unit: Unit, rules: Rules, task: Task, now: datetime) -> None:
    if task.flags & F.CANCEL_REQUESTED:
        unit.move(task, S.CANCELED, finished_at=now)
    elif task.flags & F.DELAYED_ERROR:
        unit.move(task, S.ERROR, remove_flags=F.DELAYED_ERROR, finished_at=now)
    elif task.flags & F.DELAYED_GROUP_ERROR:
        unit.move(task, S.GROUP_ERROR, remove_flags=F.DELAYED_GROUP_ERROR, finished_at=now)
    elif _has_failed_child(rules, task):
        _child_failed(unit, rules, task, now)
    else:
        unit.move(task, S.SUCCESS, finished_at=now)


def _has_failed_child(rules: Rules, task: Task) -> bool:
    # Old rows of earlier group-retry tries do not count: only the newest per name.
    return any(c.state in FAILED for c in rules.graph.child_tasks(task.id, newest_only=True))


def _child_failed(unit: Unit, rules: Rules, task: Task, now: datetime) -> None:
    policy = group_retry_policy(task)
    if policy is not None and task.retry_count < policy.limit:
        wait = policy.interval_for(task.retry_count)
        unit.move(
            task,
            S.GROUP_RETRY_WAITING,
            retry_at=now + timedelta(seconds=wait),
            retry_count=task.retry_count + 1,
        )
        return
    errors, stores = subtree_outputs(rules.graph, task)
    if add_error_tasks(unit, rules, task, errors, stores):
        unit.flag(task, add=F.DELAYED_GROUP_ERROR)
    else:
        unit.move(task, S.GROUP_ERROR, finished_at=now)


def group_retry_policy(task: Task) -> RetryPolicy | None:
    """``_retry`` from the task's own keys or own ``_export``; invalid ones are ignored with
    a warning, as Digdag does for groups."""
    from digpy.dsl.compiler import parse_retry

    value = task.config.get("_retry")
    if value is None:
        value = static_export(task).get("_retry")
    if value is None:
        return None
    try:
        return parse_retry(value)
    except ConfigError as exc:
        log.warning("ignoring the _retry of %s: %s", task.full_name, exc)
        return None


def group_deadline(task: Task) -> tuple[datetime, str] | None:
    """When a PLANNED group's ``_timeout`` runs out, and the reason its tasks fail with."""
    value = task.config.get("_timeout")
    if value is None or task.started_at is None:
        return None
    try:
        seconds = parse_duration(value)
    except ConfigError as exc:
        log.warning("ignoring the _timeout of %s: %s", task.full_name, exc)
        return None
    return task.started_at + timedelta(seconds=seconds), timeout_reason(seconds)


def timeout_reason(seconds: int) -> str:
    return f"timed out after {format_duration(seconds)}"
