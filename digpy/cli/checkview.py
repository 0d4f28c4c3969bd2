"""What `digpy check` shows, as plain data: one dict per workflow (also the --json shape)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digpy.dsl.model import Schedule, Sla, Workflow, WorkflowTask
from digpy.errors import ConfigError

UPCOMING_RUNS = 3
# Keys shown as directives in the tree; _type/_command are shown as the operator instead.
_HIDDEN = frozenset({"_type", "_command"})


def describe_workflow(workflow: Workflow, now: datetime) -> dict[str, Any]:
    root = workflow.root
    return {
        "name": workflow.name,
        "file": workflow.source,
        "timezone": workflow.timezone,
        "task_count": len(workflow.tasks),
        "tasks": [_describe_task(workflow, t) for t in workflow.tasks],
        "export": dict(root.config.get("_export") or {}),
        "schedule": _describe_schedule(workflow, now),
        "sla": _describe_sla(workflow.sla),
    }


def known_operators(used: set[str]) -> set[str]:
    """Operator names this installation resolves: built-ins, and the ``digpy.operators``
    entry points when ``used`` needs more (the scan costs ~70 ms; nothing is imported)."""
    from digpy.agent.builtins import BUILTIN_OPERATORS

    known = set(BUILTIN_OPERATORS)
    if used <= known:
        return known
    from importlib.metadata import entry_points

    from digpy.agent.registry import ENTRY_POINT_GROUP

    return known | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def operator_warnings(workflow: Workflow, known: set[str]) -> list[dict[str, Any]]:
    """A warning, not an error, per task whose operator nothing here provides: Digdag
    accepts the file too (a plugin may provide it) and fails the task when it runs."""
    from digpy.cli.checkdeferred import deferred_trees
    from digpy.dsl.suggest import did_you_mean

    deferred = deferred_trees(workflow)
    found = list(deferred.warnings)
    for task in workflow.tasks + deferred.tasks:
        if task.operator is None or task.operator in known:
            continue
        close = did_you_mean(task.operator, known)
        hint = f" (did you mean {close[0]}>?)" if close else ""
        message = (f"unknown operator {task.operator}> in {task.full_name}{hint}; the task "
                   "fails when it runs unless a plugin provides it")
        where = f"{task.location}: " if task.location else f"{workflow.source}: "
        found.append({"file": task.location.file if task.location else workflow.source,
                      "line": task.location.line if task.location else None,
                      "message": message, "text": where + "warning: " + message})
    return found


def describe_error(error: ConfigError) -> dict[str, Any]:
    loc = error.location
    return {
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "col": loc.col if loc else None,
        "message": error.message,
        "suggestions": list(error.suggestions),
        "text": str(error),
    }


def _describe_task(workflow: Workflow, task: WorkflowTask) -> dict[str, Any]:
    return {
        "name": task.name,
        "full_name": task.full_name,
        "depth": task.full_name.count("+") - 1,
        "operator": task.operator,
        "command": task.config.get("_command"),
        "group": task.is_group,
        "upstreams": [workflow.tasks[i].full_name for i in task.upstream_indexes],
        "directives": {
            k: v for k, v in task.config.items() if k.startswith("_") and k not in _HIDDEN
        },
    }


def _describe_schedule(workflow: Workflow, now: datetime) -> dict[str, Any] | None:
    schedule = workflow.schedule
    if schedule is None:
        return None
    from digpy.scheduler.triggers import ScheduleTimes, is_never

    slots = ScheduleTimes(schedule, workflow.timezone).upcoming(now, UPCOMING_RUNS + 1)
    live = [s for s in slots if not is_never(s)]
    first = live[0] if live else None
    return {
        "type": schedule.kind,
        "value": schedule.value,
        "options": _schedule_options(schedule),
        "unknown_keys": list(schedule.unknown_keys),
        "first_session_time": first.session_time.isoformat() if first else None,
        "first_run_time": first.run_time.isoformat() if first else None,
        "next_run_times": [s.run_time.isoformat() for s in live[1:]],
        "ended": first is None,
    }


def _schedule_options(schedule: Schedule) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if schedule.start:
        options["start"] = schedule.start.isoformat()
    if schedule.end:
        options["end"] = schedule.end.isoformat()
    if schedule.skip_on_overtime:
        options["skip_on_overtime"] = True
    if schedule.skip_delayed_by is not None:
        options["skip_delayed_by"] = schedule.skip_delayed_by
    if schedule.delay and schedule.kind in ("cron", "minutes_interval", "seconds_interval"):
        options["delay"] = schedule.delay
    return options


def _describe_sla(sla: Sla | None) -> dict[str, Any] | None:
    if sla is None:
        return None
    return {
        "time": "{:02d}:{:02d}:{:02d}".format(*sla.time) if sla.time else None,
        "duration": sla.duration,
        "alert": sla.alert,
        "fail": sla.fail,
        "tasks": [k for k in sla.tasks if isinstance(k, str) and k.startswith("+")],
    }


def scalar(value: Any) -> str:
    """A compact one-line rendering of a config value for the text view."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if value is True or value is False:
        return "true" if value else "false"
    return "null" if value is None else str(value)
