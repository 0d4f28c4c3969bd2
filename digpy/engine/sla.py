"""SLA (spec §5.6): when an attempt's deadline falls, and the ``^sla`` tasks it adds then.

The executor owns the check (``AttemptExecutor.tick``), so an SLA fires wherever the attempt
is driven: in ``digpy run`` as in the daemon, as Digdag's session monitor does in both. The
deadline is derived, not stored: it follows from the attempt (trigger, session time,
creation time, zone) and the root task's ``sla:`` config, and "fired already" is the
``^sla`` task existing in the attempt. So a restart neither loses nor repeats an SLA.

As Digdag, ``alert: true`` (the default) adds ``^sla^alert`` (``notify>: SLA violation``,
sent through the system notifier, digpy.spi.notify) and ``fail: true`` adds ``^sla^fail``
(``fail>: SLA violation``), in that order, next to the user's tasks: under the ``^sla``
group, or beside ``^sla`` when the ``sla:`` block is a single operator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from digpy.dsl.model import Sla
from digpy.dsl.timezones import parse_timezone
from digpy.engine.generate import compiled_rows
from digpy.engine.graph import AttemptGraph
from digpy.engine.outcomes import Rules
from digpy.engine.unit import Unit
from digpy.errors import ConfigError
from digpy.model.records import Attempt, NewTask
from digpy.model.states import TaskState, Trigger

log = logging.getLogger(__name__)

SLA_TASK = "^sla"
FAIL_TASK = "^fail"
ALERT_TASK = "^alert"
VIOLATION = "SLA violation"


@dataclass(frozen=True, slots=True)
class SlaMonitor:
    """An attempt's SLA that has not fired yet, and when it falls due."""

    sla: Sla
    due: datetime


def due_time(sla: Sla, *, run_time: datetime, timezone: str) -> datetime:
    """Digdag's SlaCalculator: ``duration`` after the run time, or the next ``time`` of day
    at or after the run time in the workflow zone (the same wall-clock time a day later when
    it has passed, across DST changes too)."""
    if sla.duration is not None:
        return run_time + timedelta(seconds=sla.duration)
    assert sla.time is not None  # parse_sla requires exactly one of them
    hour, minute, second = sla.time
    local = run_time.astimezone(parse_timezone(timezone))
    trigger = local.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if trigger < local:
        # zoneinfo arithmetic is wall-clock arithmetic, like ZonedDateTime.plusDays.
        trigger = (trigger + timedelta(days=1)).replace(fold=0)
    return trigger.astimezone(UTC)


def run_time(attempt: Attempt, root_config: dict[str, Any]) -> datetime:
    """The time an SLA counts from: a scheduled attempt's run time (session time plus the
    schedule's delay, so a late or caught-up slot is judged by when it should have run),
    otherwise when the attempt was created (``run``, ``start``, ``retry``, backfill)."""
    if attempt.trigger is Trigger.SCHEDULE and "schedule" in root_config:
        from digpy.dsl.schedule import parse_schedule

        try:
            schedule = parse_schedule(root_config["schedule"], timezone=attempt.timezone)
        except ConfigError:
            return attempt.created_at
        return attempt.session_time + timedelta(seconds=schedule.delay)
    return attempt.created_at


def monitor_for(attempt: Attempt, graph: AttemptGraph) -> SlaMonitor | None:
    """The attempt's pending SLA, or None: no ``sla:``, already fired, done or killed."""
    if attempt.done or attempt.cancel_requested or graph.root_id is None:
        return None
    root = graph.root
    config = root.config.get("sla")
    if not config or root.full_name + SLA_TASK in graph.newest:
        return None
    from digpy.dsl.schedule import parse_sla

    try:
        sla = parse_sla(config)
    except ConfigError as exc:  # compiled fine when stored; a newer digpy may disagree
        log.warning("ignoring the sla: of attempt %s: %s", attempt.id, exc)
        return None
    due = due_time(sla, run_time=run_time(attempt, dict(root.config)), timezone=attempt.timezone)
    return SlaMonitor(sla, due)


def fire(unit: Unit, rules: Rules, attempt: Attempt, monitor: SlaMonitor) -> bool:
    """Add the ``^sla`` tree under the root (Digdag's addMonitorTask); it runs alongside
    whatever still runs, and ``^sla^fail`` makes the root, so the attempt, fail once all
    is done. False when the root is not PLANNED (a root-level group retry): try later."""
    root = rules.graph.root
    if root.state is not TaskState.PLANNED:
        return False
    rows = _sla_rows(rules, root.id, root.full_name, monitor.sla)
    unit.insert(rules.attempt_id, rows)
    log.info("%s: attempt %s of %s (session %s) is not done by %s", VIOLATION, attempt.id,
             attempt.workflow_name, attempt.session_time.isoformat(), monitor.due.isoformat())
    return True


def _sla_rows(rules: Rules, root_id: int, root_name: str, sla: Sla) -> list[NewTask]:
    try:
        compiled = rules.compile_subtasks(dict(sla.tasks), name=SLA_TASK,
                                          parent_full_name=root_name)
    except ConfigError as exc:  # the tasks compiled with the workflow; keep the SLA anyway
        log.warning("skipping the sla: tasks of %s: %s", root_name, exc)
        compiled = rules.compile_subtasks({}, name=SLA_TASK, parent_full_name=root_name)
    rows = compiled_rows(compiled, parent_id=root_id)
    wanted = [(sla.alert, ALERT_TASK, "notify>"), (sla.fail, FAIL_TASK, "fail>")]
    for on, name, operator in wanted:
        if not on:
            continue
        generated = rules.compile_subtasks({operator: VIOLATION}, name=name,
                                           parent_full_name=root_name + SLA_TASK)
        extra = compiled_rows(generated, parent_id=root_id, offset=len(rows))
        if compiled[0].is_group:  # under the ^sla group just added, else beside the task
            extra[0] = replace(extra[0], parent_id=None, parent_ref=0)
        rows.extend(extra)
    return rows
