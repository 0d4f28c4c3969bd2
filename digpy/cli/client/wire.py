"""A digpy server's JSON (Digdag's REST shapes: camelCase, string ids) read into the client's
views, so ``--json`` prints the same objects whether the state is local or on a server.

Times are shown in the workflow's time zone, as the local backend does: the attempt's
``timezone`` when the server sends it, else the offset of its ``sessionTime``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from digpy.cli.client.views import AttemptView, ScheduleView, SessionView, TaskView, WorkflowView


def ident(value: Any) -> int:
    """Digdag sends ids as strings; the views keep them as ints."""
    return int(value)


def opt_ident(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def when(value: Any, zone: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 time (``Z`` accepted) or epoch seconds, in ``zone`` when given."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        parsed = datetime.fromtimestamp(value, UTC)
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(zone) if zone is not None else parsed


def zone_of(data: Mapping[str, Any]) -> tuple[str, tzinfo | None]:
    """The workflow zone name and tzinfo of an attempt or session."""
    from digpy.dsl.timezones import parse_timezone
    from digpy.errors import ConfigError

    name = data.get("timezone")
    if isinstance(name, str) and name:
        try:
            return name, parse_timezone(name)
        except ConfigError:
            pass  # a zone this machine does not know: fall back to the offset
    session_time = when(data.get("sessionTime"))
    zone = session_time.tzinfo if session_time else None
    return (str(name) if name else str(zone or "UTC")), zone


def _name(ref: Any) -> str:
    """``{"id": "1", "name": "etl"}`` or a bare name."""
    if isinstance(ref, Mapping):
        return str(ref.get("name") or "")
    return str(ref or "")


def _message(error: Any) -> str | None:
    if not error:
        return None
    if isinstance(error, Mapping):
        found = error.get("message")
        return str(found) if found else (str(dict(error)) if error else None)
    return str(error)


def _status(data: Mapping[str, Any]) -> str:
    """digpy's status words from Digdag's ``status`` or its ``done``/``success`` flags."""
    status = data.get("status")
    if isinstance(status, str) and status:
        return status
    if not data.get("done"):
        return "running"
    if data.get("success"):
        return "success"
    return "killed" if data.get("cancelRequested") else "error"


def attempt(data: Mapping[str, Any]) -> AttemptView:
    name, zone = zone_of(data)
    session_time = when(data["sessionTime"], zone)
    created = when(data.get("createdAt"), zone)
    assert session_time is not None and created is not None  # the server always sends both
    return AttemptView(
        id=ident(data["id"]), index=int(data.get("index") or 1),
        name=str(data.get("retryAttemptName") or ""), session_id=ident(data["sessionId"]),
        session_uuid=str(data.get("sessionUuid") or ""), project=_name(data.get("project")),
        workflow=_name(data.get("workflow")), session_time=session_time, timezone=name,
        status=_status(data), trigger=str(data.get("trigger") or ""),
        who=str(data.get("who") or ""), revision=str(data.get("revision") or ""),
        params=dict(data.get("params") or {}), created_at=created,
        finished_at=when(data.get("finishedAt"), zone),
        cancel_requested=bool(data.get("cancelRequested")),
        error=_message(data.get("error")))


def session(data: Mapping[str, Any]) -> SessionView:
    last = data.get("lastAttempt")
    last_view = attempt(_session_attempt(data, last)) if last else None
    zone = last_view.session_time.tzinfo if last_view else zone_of(data)[1]
    session_time = when(data["sessionTime"], zone)
    assert session_time is not None
    return SessionView(id=ident(data["id"]), uuid=str(data.get("sessionUuid") or ""),
                       project=_name(data.get("project")), workflow=_name(data.get("workflow")),
                       session_time=session_time, last_attempt=last_view)


def _session_attempt(session_data: Mapping[str, Any], last: Mapping[str, Any]
                     ) -> dict[str, Any]:
    """Digdag's ``lastAttempt`` leaves out what its session already says; fill it in."""
    filled = {"sessionId": session_data["id"], "sessionUuid": session_data.get("sessionUuid"),
              "project": session_data.get("project"), "workflow": session_data.get("workflow"),
              "sessionTime": session_data.get("sessionTime")}
    filled.update({k: v for k, v in last.items() if v is not None})
    return filled


def task(data: Mapping[str, Any], attempt_id: int, zone: tzinfo | None) -> TaskView:
    return TaskView(
        id=ident(data["id"]), attempt_id=opt_ident(data.get("attemptId")) or attempt_id,
        full_name=str(data["fullName"]),
        parent_id=opt_ident(data.get("parentId")),
        upstream_ids=tuple(ident(u) for u in data.get("upstreams") or ()),
        is_group=bool(data.get("isGroup")), operator=data.get("operator"),
        state=str(data.get("state") or ""), started_at=when(data.get("startedAt"), zone),
        finished_at=when(data.get("finishedAt"), zone),
        retry_count=int(data.get("retryCount") or 0), error=_message(data.get("error")),
        config=dict(data.get("config") or {}), store_params=dict(data.get("storeParams") or {}),
        export_params=dict(data.get("exportParams") or {}),
        state_params=dict(data.get("stateParams") or {}),
        log_path=data.get("logFile"))  # a file name under /api/logs/{attempt}/files/


def workflow(data: Mapping[str, Any]) -> WorkflowView:
    config = data.get("config") or {}
    schedule = data.get("schedule")
    if schedule is None and isinstance(config, Mapping):
        schedule = _schedule_text(config.get("schedule"))
    return WorkflowView(
        name=str(data["name"]), project=_name(data.get("project")),
        timezone=str(data.get("timezone") or "UTC"), schedule=schedule,
        source=data.get("source"), tasks=int(data.get("tasks") or 0),
        revision=data.get("revision"))


def _schedule_text(config: Any) -> str | None:
    """``{"daily>": "07:00:00"}`` as ``daily>: 07:00:00``, the local backend's form."""
    if not isinstance(config, Mapping):
        return None
    for key, value in config.items():
        if str(key).endswith(">"):
            return f"{key}: {value}"
    return None


def schedule(data: Mapping[str, Any]) -> ScheduleView:
    zone_name, zone = zone_of(data)
    next_session = when(data.get("nextScheduleTime"), zone)
    return ScheduleView(
        id=opt_ident(data.get("id")), project=_name(data.get("project")),
        workflow=_name(data.get("workflow")), schedule=str(data.get("schedule") or ""),
        timezone=zone_name, next_session_time=next_session,
        next_run_time=when(data.get("nextRunTime"), zone) if next_session else None,
        disabled=bool(data.get("disabledAt")))
