"""What happened when a task ran, and the one transaction that records it (spec §3.3 rows
for ``running``, §3.5 generated tasks, §3.7 ``_error``, §3.8 operator retry, §3.9 polling).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from digpy.dsl.model import RetryPolicy, WorkflowTask
from digpy.engine.generate import (
    INITIAL,
    attach_resuming,
    compiled_rows,
    error_task_config,
    mark_resumed,
)
from digpy.engine.graph import AttemptGraph
from digpy.engine.params import static_export
from digpy.engine.unit import Unit
from digpy.errors import ConfigError
from digpy.model.records import NewTask, ResumingTask, Task, TaskOutput
from digpy.model.states import TaskFlags, TaskState

log = logging.getLogger(__name__)
S = TaskState
CompileSubtasks = Callable[..., Sequence[WorkflowTask]]


@dataclass(frozen=True, slots=True)
class Succeeded:
    output: TaskOutput = field(default_factory=TaskOutput)
    note: str | None = None  # "replayed" / "skipped" in local mode; None when it ran


@dataclass(frozen=True, slots=True)
class Failed:
    error: Mapping[str, Any]
    retry: RetryPolicy | None = None  # operator-level _retry, when the operator honours it


@dataclass(frozen=True, slots=True)
class Polled:
    interval: float
    state: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Canceled:
    pass


Outcome = Succeeded | Failed | Polled | Canceled


@dataclass(slots=True, kw_only=True)
class Rules:
    """What outcome and propagation rules need besides the transaction."""

    graph: AttemptGraph
    attempt_id: int
    task_limit: int
    compile_subtasks: CompileSubtasks
    resuming: Sequence[ResumingTask] = ()
    resuming_outputs: Mapping[str, TaskOutput] = field(default_factory=dict)


def apply_outcome(unit: Unit, rules: Rules, task: Task, outcome: Outcome, now: datetime) -> None:
    """Record ``outcome`` for a RUNNING ``task``."""
    if isinstance(outcome, Canceled) or task.flags & TaskFlags.CANCEL_REQUESTED:
        # A killed task ends canceled whatever the operator said (spec §3.10).
        unit.move(task, S.CANCELED, finished_at=now)
    elif isinstance(outcome, Polled):
        retry_at = now + timedelta(seconds=outcome.interval)
        unit.move(task, S.RETRY_WAITING, retry_at=retry_at, state_params=dict(outcome.state))
    elif isinstance(outcome, Succeeded):
        _succeed(unit, rules, task, outcome.output, now)
    else:
        fail(unit, rules, task, outcome, now)


def _succeed(unit: Unit, rules: Rules, task: Task, output: TaskOutput, now: datetime) -> None:
    try:
        rows = _generated_rows(rules, task, output)
    except ConfigError as exc:
        fail(unit, rules, task, Failed({"message": str(exc)}), now)
        return
    fields = _output_fields(output)
    if not rows:
        unit.move(task, S.SUCCESS, finished_at=now, **fields)
        return
    excess = _limit_error(rules, len(rows))
    if excess is not None:
        fail(unit, rules, task, Failed({"message": excess}), now)
        return
    rows = attach_resuming(mark_resumed(rows, rules.resuming_outputs), rules.resuming)
    unit.insert(rules.attempt_id, rows)
    unit.move(task, S.PLANNED, **fields)


def _generated_rows(rules: Rules, task: Task, output: TaskOutput) -> list[NewTask]:
    """``^sub`` from the operator's subtask config, then ``^check`` depending on it."""
    rows: list[NewTask] = []
    if output.subtask_config:
        compiled = rules.compile_subtasks(
            output.subtask_config, name="^sub", parent_full_name=task.full_name
        )
        rows += compiled_rows(compiled, parent_id=task.id, flags=INITIAL)
    check = task.config.get("_check")
    if check:
        compiled = rules.compile_subtasks(check, name="^check", parent_full_name=task.full_name)
        rows += compiled_rows(
            compiled, parent_id=task.id, offset=len(rows), head_upstream_refs=(0,) if rows else ()
        )
    return rows


def _output_fields(output: TaskOutput) -> dict[str, Any]:
    return {
        "export_params": dict(output.export_params),
        "store_params": dict(output.store_params),
        "reset_keys": tuple(output.reset_keys),
        "subtask_config": dict(output.subtask_config) if output.subtask_config else None,
        "report": dict(output.report),
        "error": None,
    }


def _limit_error(rules: Rules, adding: int) -> str | None:
    current = len(rules.graph)
    if current + adding <= rules.task_limit:
        return None
    return (
        f"Too many tasks: the attempt has {current} tasks and this would add {adding}, over "
        f"the limit of {rules.task_limit} tasks per attempt (raise task_limit to allow more)"
    )


def fail(unit: Unit, rules: Rules, task: Task, outcome: Failed, now: datetime) -> None:
    """Operator retry while the budget lasts; else ``^error`` if configured; else ERROR."""
    policy = outcome.retry
    error = dict(outcome.error)
    if policy is not None and task.retry_count < policy.limit:
        wait = policy.interval_for(task.retry_count)
        unit.move(
            task,
            S.RETRY_WAITING,
            retry_at=now + timedelta(seconds=wait),
            retry_count=task.retry_count + 1,
            state_params={},  # the operator starts from scratch (Digdag clears it too)
            error=error,
        )
        return
    if add_error_tasks(unit, rules, task, error, {}):
        unit.move(task, S.PLANNED, add_flags=TaskFlags.DELAYED_ERROR, error=error)
    else:
        unit.move(task, S.ERROR, error=error, finished_at=now)


def error_config(task: Task) -> Any:
    """``_error`` from the task's own keys, or from its own ``_export`` (spec §3.7)."""
    found = task.config.get("_error")
    return found if found is not None else static_export(task).get("_error")


def add_error_tasks(
    unit: Unit, rules: Rules, task: Task, error: Mapping[str, Any], stores: Mapping[str, Any]
) -> bool:
    """Insert the ``^error`` tree under ``task``; False when there is none to run. A broken
    or over-limit handler is logged and skipped, as Digdag does."""
    config = error_config(task)
    if not config:
        return False
    try:
        compiled = rules.compile_subtasks(
            error_task_config(config, error, stores), name="^error", parent_full_name=task.full_name
        )
    except ConfigError as exc:
        log.warning("skipping the _error tasks of %s: %s", task.full_name, exc)
        return False
    rows = compiled_rows(compiled, parent_id=task.id)
    excess = _limit_error(rules, len(rows))
    if excess is not None:
        log.warning("skipping the _error tasks of %s: %s", task.full_name, excess)
        return False
    unit.insert(rules.attempt_id, rows)
    return True
