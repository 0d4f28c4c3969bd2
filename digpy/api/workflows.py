"""Workflow definitions: of a project (latest or named revision), of every project, one by
id, and ``truncated_session_time`` (what ``start --session daily`` asks the server)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from digpy.api.errors import bad_request, not_found
from digpy.api.projects import live_project, revision_of
from digpy.api.request import ApiContext, ApiRequest, parse_time
from digpy.api.routes import Endpoint
from digpy.api.shapes import Names, local, workflow_json
from digpy.errors import ConfigError
from digpy.model.records import WorkflowDefinition

TRUNCATE_MODES = ("hour", "day", "schedule", "next_schedule")


def schedule_text(ctx: ApiContext, definition: WorkflowDefinition) -> str | None:
    try:
        schedule = ctx.workflow(definition).schedule
    except ConfigError:
        return None
    return f"{schedule.kind}>: {schedule.value}" if schedule is not None else None


def definition_json(ctx: ApiContext, names: Names, definition: WorkflowDefinition
                    ) -> dict[str, Any]:
    try:
        tasks = len(ctx.workflow(definition).tasks)
    except ConfigError:  # stored by an older digpy and no longer compiling: still listed
        tasks = 0
    return workflow_json(names, definition, schedule=schedule_text(ctx, definition),
                         tasks=tasks)


def project_workflows(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    name = req.text("name")
    with ctx.store.read() as tx:
        project = live_project(tx, req.path_id())
        revision = revision_of(tx, project.id, req.text("revision"))
        names = Names(tx)
        found = [d for d in tx.projects.list_definitions(revision.id)
                 if name is None or d.name == name]
        return {"workflows": [definition_json(ctx, names, d) for d in found]}


def project_workflow(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    name = req.path["name"]
    with ctx.store.read() as tx:
        project = live_project(tx, req.path_id())
        revision = revision_of(tx, project.id, req.text("revision"))
        found = [d for d in tx.projects.list_definitions(revision.id) if d.name == name]
        if not found:
            raise not_found(f"project {project.name} has no workflow {name!r} in revision "
                            f"{revision.name}")
        return definition_json(ctx, Names(tx), found[0])


def list_workflows(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    last_id, size = req.page()
    with ctx.store.read() as tx:
        names = Names(tx)
        found: list[WorkflowDefinition] = []
        for project in tx.browse.list_projects():
            revision = names.latest(project.id)
            if revision is not None:
                found.extend(tx.projects.list_definitions(revision.id))
        found = sorted((d for d in found if last_id is None or d.id < last_id),
                       key=lambda d: d.id, reverse=True)[:size]
        return {"workflows": [definition_json(ctx, names, d) for d in found]}


def get_workflow(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return definition_json(ctx, Names(tx), tx.projects.get_definition(req.path_id()))


def truncated_session_time(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    raw = req.text("session_time")
    if raw is None:
        raise bad_request("give session_time (ISO 8601 with an offset)")
    when = parse_time(raw, "session_time")
    mode = req.text("mode") or "hour"
    if mode not in TRUNCATE_MODES:
        raise bad_request(f"mode must be one of {', '.join(TRUNCATE_MODES)}, not {mode!r}")
    with ctx.store.read() as tx:
        definition = tx.projects.get_definition(req.path_id())
        names = Names(tx)
        revision = names.revision(definition.revision_id)
        truncated = _truncate(ctx, definition, when, mode)
        return {"project": names.project_ref(definition.project_id),
                "revision": revision.name,
                "sessionTime": local(truncated, definition.timezone),
                "timeZone": definition.timezone}


def _truncate(ctx: ApiContext, definition: WorkflowDefinition, when: datetime, mode: str
              ) -> datetime:
    from digpy.dsl.timezones import parse_timezone
    from digpy.scheduler.triggers import ScheduleTimes

    zoned = when.astimezone(parse_timezone(definition.timezone))
    if mode == "hour":
        return zoned.replace(minute=0, second=0, microsecond=0)
    if mode == "day":
        return zoned.replace(hour=0, minute=0, second=0, microsecond=0)
    workflow = ctx.workflow(definition)
    if workflow.schedule is None:
        raise bad_request(f"workflow {definition.name} has no schedule: use mode hour or day")
    times = ScheduleTimes(workflow.schedule, workflow.timezone)
    if mode == "schedule":  # the slot at or before the time
        return times.previous_session_time(when + timedelta(seconds=1))
    return times.slot_at_or_after(when).session_time


ENDPOINTS = [
    Endpoint(method="GET", path="/api/projects/{id}/workflows", handler=project_workflows,
             summary="List a project's workflows (latest or named revision)",
             returns="WorkflowList", query=("revision", "name")),
    Endpoint(method="GET", path="/api/projects/{id}/workflows/{name}",
             handler=project_workflow, summary="Get a project's workflow by name",
             returns="Workflow", query=("revision",)),
    Endpoint(method="GET", path="/api/workflows", handler=list_workflows,
             summary="List the workflows of every project's latest revision",
             returns="WorkflowList", query=("last_id", "page_size")),
    Endpoint(method="GET", path="/api/workflows/{id}", handler=get_workflow,
             summary="Get a workflow definition", returns="Workflow"),
    Endpoint(method="GET", path="/api/workflows/{id}/truncated_session_time",
             handler=truncated_session_time, summary="Truncate a session time",
             returns="TruncatedSessionTime", query=("session_time", "mode")),
]
