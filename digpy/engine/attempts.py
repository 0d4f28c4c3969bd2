"""Creating attempts: storing the project's revision, upserting the session, and inserting
the attempt with its compiled task tree (root PLANNED, the rest BLOCKED) in one transaction.
Retries are new attempts of the same session that may reuse earlier results.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from digpy.dsl.model import Schedule, Workflow
from digpy.engine.definitions import revision_hash, to_definition
from digpy.engine.generate import INITIAL, attach_resuming, compiled_rows, mark_resumed
from digpy.engine.params import AttemptScope, deep_merge
from digpy.engine.resume import ResumePlan
from digpy.model.records import (
    Attempt,
    NewAttempt,
    NewTask,
    Project,
    Revision,
    WorkflowDefinition,
)
from digpy.model.states import TaskState, Trigger
from digpy.store.base import Store, Tx

DEFAULT_TASK_LIMIT = 1000

# (schedule, timezone) -> an object with previous_session_time(t) / next_session_time(t):
# scheduler.triggers.ScheduleTimes, injected so the engine does not import the scheduler.
ScheduleTimesFactory = Callable[[Schedule, str], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Registered:
    project: Project
    revision: Revision
    definitions: Mapping[str, WorkflowDefinition]


def register_project(
    store: Store,
    *,
    name: str,
    path: str,
    workflows: Sequence[Workflow],
    default_params: Mapping[str, Any] | None = None,
    now: datetime,
) -> Registered:
    """Store the project and a revision holding ``workflows`` (idempotent by content)."""
    new_defs = [to_definition(w) for w in workflows]
    digest = revision_hash(new_defs)
    with store.write() as tx:
        project = tx.projects.put_project(name, path, now=now)
        revision = tx.projects.put_revision(
            project.id,
            name=digest[:12],
            hash=digest,
            workflows=new_defs,
            default_params=dict(default_params or {}),
            now=now,
        )
        definitions = {d.name: d for d in tx.projects.list_definitions(revision.id)}
    return Registered(project=project, revision=revision, definitions=definitions)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptRequest:
    """Everything needed to start one attempt of ``workflow``."""

    project_id: int
    workflow: Workflow
    definition: WorkflowDefinition
    revision_name: str
    session_time: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    trigger: Trigger = Trigger.RUN
    who: str = ""
    name: str = ""
    task_limit: int = DEFAULT_TASK_LIMIT
    resume: ResumePlan = field(default_factory=ResumePlan)
    last_executed_session_time: datetime | None = None


def start_attempt(store: Store, request: AttemptRequest, *, now: datetime) -> Attempt:
    """Upsert the session and insert the attempt and its tasks in one transaction.

    :raises Conflict: the session already has an attempt with this name."""
    with store.write() as tx:
        return start_attempt_in(tx, request, now=now)


def start_attempt_in(tx: Tx, request: AttemptRequest, *, now: datetime) -> Attempt:
    """``start_attempt`` inside an open transaction: the scheduler starts a session and
    advances the schedule in one transaction, so a crash never does only one of them.

    :raises Conflict: the session already has an attempt with this name."""
    workflow = request.workflow
    rows = _static_rows(workflow, request.resume, now)
    _, dynamic = request.resume.split({t.full_name for t in workflow.tasks})
    rows = attach_resuming(rows, dynamic)
    session = tx.sessions.put_session(
        request.project_id,
        workflow.name,
        request.session_time,
        uuid=str(uuid.uuid4()),
        now=now,
    )
    attempt = tx.attempts.insert_attempt(
        NewAttempt(
            session_id=session.id,
            name=request.name,
            params=dict(request.params),
            trigger=request.trigger,
            who=request.who,
            workflow_definition_id=request.definition.id,
            revision_name=request.revision_name,
            timezone=workflow.timezone,
            created_at=now,
            task_limit=request.task_limit,
        )
    )
    tx.tasks.insert_tasks(attempt.id, rows)
    tx.attempts.put_resuming_tasks(attempt.id, dynamic)
    return attempt


def _static_rows(workflow: Workflow, resume: ResumePlan, now: datetime) -> list[NewTask]:
    rows = compiled_rows(workflow.tasks, flags=INITIAL)
    # The root is always a group and starts PLANNED; its children become READY next tick.
    root = rows[0]
    rows[0] = NewTask(
        full_name=root.full_name,
        is_group=True,
        operator=None,
        config=root.config,
        state=TaskState.PLANNED,
        flags=INITIAL,
        started_at=now,
    )
    static, _ = resume.split({t.full_name for t in workflow.tasks})
    return mark_resumed(rows, static)


def attempt_params(
    workflow: Workflow,
    session_time: datetime,
    params: Mapping[str, Any],
    *,
    schedule_times: ScheduleTimesFactory | None = None,
    last_executed_session_time: datetime | None = None,
) -> dict[str, Any]:
    """Layer 3 of the params (spec §2.1): the given params plus ``last_/next_session_*``
    when the workflow has a schedule and ``last_executed_session_*`` (empty strings unless
    the scheduler knows the previous session)."""
    from digpy.dsl.builtins import empty_session_variables, session_variables

    tz = workflow.timezone
    extra: dict[str, Any] = {}
    if workflow.schedule is not None and schedule_times is not None:
        times = schedule_times(workflow.schedule, tz)
        previous = times.previous_session_time(session_time)
        following = times.next_session_time(session_time)
        extra.update(session_variables(previous, tz, prefix="last_session"))
        extra.update(session_variables(following, tz, prefix="next_session"))
    if last_executed_session_time is not None:
        extra.update(session_variables(last_executed_session_time, tz,
                                       prefix="last_executed_session"))
    else:
        extra.update(empty_session_variables("last_executed_session", tz))
    return deep_merge(extra, params)



def attempt_scope(
    store: Store, attempt: Attempt, *, project_path: Path, defaults: Mapping[str, Any]
) -> AttemptScope:
    """What every task of the attempt shares (identity, zone, params layers 1-3)."""
    with store.read() as tx:
        project = tx.projects.get_project(attempt.project_id)
        definition = tx.projects.get_definition(attempt.workflow_definition_id)
        revision = tx.projects.get_revision(definition.revision_id)
    return AttemptScope(
        project_id=project.id,
        project_name=project.name,
        project_path=project_path,
        workflow_name=attempt.workflow_name,
        session_id=attempt.session_id,
        session_uuid=attempt.session_uuid,
        session_time=attempt.session_time,
        attempt_id=attempt.id,
        attempt_name=attempt.name,
        timezone=attempt.timezone,
        attempt_params=attempt.params,
        default_params=deep_merge(defaults, revision.default_params),
    )
