"""Schedules: list and get, and control (skip, backfill, enable, disable) through
``scheduler.control``, which owns the rules (spec §5.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digpy.api.errors import ApiError, bad_request
from digpy.api.projects import live_project
from digpy.api.request import ApiContext, ApiRequest, parse_time
from digpy.api.routes import Endpoint
from digpy.api.shapes import Names, attempt_json, local, schedule_json, utc
from digpy.api.workflows import schedule_text
from digpy.model.schedules import StoredSchedule
from digpy.scheduler.triggers import is_never
from digpy.store.base import Tx


def _json(ctx: ApiContext, names: Names, row: StoredSchedule) -> dict[str, Any]:
    definition = names.definition(row.workflow_definition_id)
    return schedule_json(names, row, schedule=schedule_text(ctx, definition))


def list_schedules(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    last_id, size = req.page()
    with ctx.store.read() as tx:
        names = Names(tx)
        rows = [r for r in tx.schedules.list_schedules()
                if (last_id is None or r.id > last_id)][:size]  # Digdag pages schedules upwards
        return {"schedules": [_json(ctx, names, r) for r in rows]}


def project_schedules(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    workflow = req.text("workflow")
    with ctx.store.read() as tx:
        project = live_project(tx, req.path_id())
        names = Names(tx)
        rows = [r for r in tx.schedules.list_schedules(project.id)
                if workflow is None or r.workflow_name == workflow]
        return {"schedules": [_json(ctx, names, r) for r in rows]}


def get_schedule(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    with ctx.store.read() as tx:
        return _json(ctx, Names(tx), tx.schedules.get_schedule(req.path_id()))


def _control() -> Any:
    try:
        from digpy.scheduler import control
    except ImportError as exc:  # the module is another engineer's work in progress
        raise ApiError(501, f"schedule control is not available in this digpy ({exc})") from None
    return control


def _time(body: dict[str, Any], name: str) -> datetime | None:
    # Digdag accepts local times ("2024-05-01 00:00:00") read in the workflow's zone.
    raw = body.get(name)
    return None if raw is None else parse_time(str(raw).replace(" ", "T", 1), name, aware=False)


def _count(body: dict[str, Any]) -> int | None:
    raw = body.get("count")
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise bad_request(f"count must be an integer, not {raw!r}")
    return raw


def _state_json(ctx: ApiContext, schedule_id: int, state: Any) -> dict[str, Any]:
    """The schedule as stored, with the next times the call computed (a dry run's too)."""
    with ctx.store.read() as tx:
        names = Names(tx)
        shown = _json(ctx, names, tx.schedules.get_schedule(schedule_id))
        zone = shown["timezone"]
    ended = is_never(state.next_schedule_time)
    shown["nextScheduleTime"] = None if ended else local(state.next_schedule_time, zone)
    shown["nextRunTime"] = None if ended else utc(state.next_run_time)
    return shown


def skip(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    body, schedule_id = req.json(), req.path_id()
    state = _control().skip(
        ctx.store, schedule_id, count=_count(body), from_time=_time(body, "fromTime"),
        next_time=_time(body, "nextTime"), next_run_time=_time(body, "nextRunTime"),
        dry_run=bool(body.get("dryRun")), now=ctx.clock.now())
    return _state_json(ctx, schedule_id, state)


def backfill(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    body, schedule_id = req.json(), req.path_id()
    from_time = _time(body, "fromTime")
    if from_time is None:
        raise bad_request("a backfill needs fromTime")
    plan = _control().backfill(
        ctx.store, schedule_id, from_time=from_time,
        attempt_name=str(body.get("attemptName") or ""), count=_count(body),
        to_time=_time(body, "toTime"), dry_run=bool(body.get("dryRun")),
        now=ctx.clock.now())
    return _plan_json(ctx, plan)


def _plan_json(ctx: ApiContext, plan: Any) -> dict[str, Any]:
    with ctx.store.read() as tx:
        names = Names(tx)
        zone = names.definition(tx.schedules.get_schedule(plan.schedule_id)
                                .workflow_definition_id).timezone
        attempts = _started(tx, names, plan)
    return {"attempts": attempts,
            "sessionTimes": [local(t, zone) for t in plan.session_times],
            "backfillId": str(plan.backfill_id) if plan.backfill_id is not None else None,
            "dryRun": plan.dry_run}


def _started(tx: Tx, names: Names, plan: Any) -> list[dict[str, Any]]:
    if plan.first_attempt_id is None:
        return []
    return [attempt_json(names, tx.attempts.get_attempt(plan.first_attempt_id))]


def enable(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    body, schedule_id = req.json(), req.path_id()
    state = _control().enable(ctx.store, schedule_id,
                              skip_schedule=bool(body.get("skipSchedule")),
                              next_time=_time(body, "nextTime"), now=ctx.clock.now())
    return _state_json(ctx, schedule_id, state)


def disable(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    schedule_id = req.path_id()
    state = _control().disable(ctx.store, schedule_id, now=ctx.clock.now())
    return _state_json(ctx, schedule_id, state)


ENDPOINTS = [
    Endpoint(method="GET", path="/api/schedules", handler=list_schedules,
             summary="List schedules by id", returns="ScheduleList",
             query=("last_id", "page_size")),
    Endpoint(method="GET", path="/api/schedules/{id}", handler=get_schedule,
             summary="Get a schedule", returns="Schedule"),
    Endpoint(method="GET", path="/api/projects/{id}/schedules", handler=project_schedules,
             summary="List a project's schedules", returns="ScheduleList",
             query=("workflow",)),
    Endpoint(method="POST", path="/api/schedules/{id}/skip", handler=skip, body="json",
             summary="Skip slots or move to a next time (reschedule)", returns="Schedule"),
    Endpoint(method="POST", path="/api/schedules/{id}/backfill", handler=backfill, body="json",
             summary="Run past slots again, one after another", returns="Backfill"),
    Endpoint(method="POST", path="/api/schedules/{id}/enable", handler=enable, body="json",
             summary="Enable a schedule", returns="Schedule"),
    Endpoint(method="POST", path="/api/schedules/{id}/disable", handler=disable,
             summary="Disable a schedule", returns="Schedule"),
]
