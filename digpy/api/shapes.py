"""Stored rows as Digdag 0.10's JSON (camelCase, string ids) plus digpy's fields.

``Names`` caches the rows one response refers to many times (a page of attempts names the
same project, definition and revision again and again) for the length of one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from digpy.dsl.timezones import parse_timezone
from digpy.model.records import Attempt, Project, Revision, Session, Task, WorkflowDefinition
from digpy.model.schedules import StoredSchedule
from digpy.model.states import AttemptStatus, TaskFlags
from digpy.scheduler.triggers import is_never
from digpy.store.base import Tx


def utc(when: datetime | None) -> str | None:
    """``2024-05-01T07:00:03Z`` (milliseconds when the store has them)."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local(when: datetime | None, timezone: str) -> str | None:
    """The time with the workflow zone's offset (``sessionTime``)."""
    if when is None:
        return None
    return when.astimezone(parse_timezone(timezone)).isoformat()


def message_of(error: Any) -> str | None:
    if not error:
        return None
    return str(error.get("message") or error) if isinstance(error, dict) else str(error)


class Names:
    """Per-transaction cache of projects, definitions and revisions by id."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self._projects: dict[int, Project] = {}
        self._definitions: dict[int, WorkflowDefinition] = {}
        self._revisions: dict[int, Revision] = {}
        self._latest: dict[int, Revision | None] = {}

    def project(self, project_id: int) -> Project:
        if project_id not in self._projects:
            self._projects[project_id] = self.tx.projects.get_project(project_id)
        return self._projects[project_id]

    def definition(self, definition_id: int) -> WorkflowDefinition:
        if definition_id not in self._definitions:
            self._definitions[definition_id] = self.tx.projects.get_definition(definition_id)
        return self._definitions[definition_id]

    def revision(self, revision_id: int) -> Revision:
        if revision_id not in self._revisions:
            self._revisions[revision_id] = self.tx.projects.get_revision(revision_id)
        return self._revisions[revision_id]

    def latest(self, project_id: int) -> Revision | None:
        if project_id not in self._latest:
            self._latest[project_id] = self.tx.projects.latest_revision(project_id)
        return self._latest[project_id]

    def project_ref(self, project_id: int) -> dict[str, str]:
        return {"id": str(project_id), "name": self.project(project_id).name}


def project_json(names: Names, project: Project) -> dict[str, Any]:
    tx = names.tx
    latest = names.latest(project.id)
    archive = tx.browse.archive_hash(latest.id) if latest else None
    return {
        "id": str(project.id), "name": project.name,
        "revision": latest.name if latest else None,
        "createdAt": utc(project.created_at),
        "updatedAt": utc(latest.created_at if latest else project.created_at),
        "deletedAt": utc(tx.browse.project_deleted_at(project.id)),
        "archiveType": "db" if archive else "none", "archiveMd5": None,
        "revisionHash": latest.hash if latest else None,
    }


def revision_json(names: Names, revision: Revision) -> dict[str, Any]:
    archive = names.tx.browse.archive_hash(revision.id)
    return {"id": str(revision.id), "revision": revision.name,
            "createdAt": utc(revision.created_at), "archiveType": "db" if archive else "none",
            "archiveMd5": None, "userInfo": {}, "revisionHash": revision.hash}


def workflow_json(names: Names, definition: WorkflowDefinition, *, schedule: str | None,
                  tasks: int) -> dict[str, Any]:
    revision = names.revision(definition.revision_id)
    body = definition.definition
    return {
        "id": str(definition.id), "name": definition.name,
        "project": names.project_ref(definition.project_id), "revision": revision.name,
        "timezone": definition.timezone, "config": body.get("config", {}),
        "schedule": schedule, "source": body.get("source"), "tasks": tasks,
        "revisionHash": revision.hash,
    }


def schedule_json(names: Names, row: StoredSchedule, *, schedule: str | None) -> dict[str, Any]:
    definition = names.definition(row.workflow_definition_id)
    zone = definition.timezone
    ended = is_never(row.next_schedule_time)
    return {
        "id": str(row.id), "project": names.project_ref(row.project_id),
        "workflow": {"id": str(definition.id), "name": row.workflow_name},
        "nextRunTime": None if ended else utc(row.next_run_time),
        "nextScheduleTime": None if ended else local(row.next_schedule_time, zone),
        "disabledAt": utc(row.disabled_at), "schedule": schedule, "timezone": zone,
        "lastSessionTime": local(row.last_session_time, zone),
    }


def attempt_json(names: Names, a: Attempt) -> dict[str, Any]:
    definition = names.definition(a.workflow_definition_id)
    revision = names.revision(definition.revision_id)
    return {
        "id": str(a.id), "index": a.index, "project": names.project_ref(a.project_id),
        "workflow": {"id": str(definition.id), "name": a.workflow_name},
        "sessionId": str(a.session_id), "sessionUuid": a.session_uuid,
        "sessionTime": local(a.session_time, a.timezone),
        "retryAttemptName": a.name or None, "done": a.done,
        "success": a.status is AttemptStatus.SUCCESS, "cancelRequested": a.cancel_requested,
        "status": str(a.status), "params": dict(a.params), "createdAt": utc(a.created_at),
        "finishedAt": utc(a.finished_at), "timezone": a.timezone, "trigger": str(a.trigger),
        "who": a.who, "revision": a.revision_name, "revisionHash": revision.hash,
        "error": message_of(a.error),
    }


def session_json(names: Names, s: Session) -> dict[str, Any]:
    last = (names.tx.attempts.get_attempt(s.last_attempt_id)
            if s.last_attempt_id is not None else None)
    shown = attempt_json(names, last) if last else None
    timezone = last.timezone if last else "UTC"
    return {
        "id": str(s.id), "project": names.project_ref(s.project_id),
        "workflow": {"id": shown["workflow"]["id"] if shown else None, "name": s.workflow_name},
        "sessionUuid": s.uuid, "sessionTime": local(s.session_time, timezone),
        "lastAttempt": shown,
    }


def log_file_of(task: Task) -> str | None:
    from pathlib import PurePath

    return PurePath(task.log_path).name if task.log_path else None


def task_json(t: Task) -> dict[str, Any]:
    return {
        "id": str(t.id), "fullName": t.full_name,
        "parentId": str(t.parent_id) if t.parent_id is not None else None,
        "upstreams": [str(u) for u in t.upstream_ids], "isGroup": t.is_group,
        "state": t.state.label,
        "cancelRequested": bool(t.flags & TaskFlags.CANCEL_REQUESTED),
        "config": dict(t.config), "exportParams": dict(t.export_params),
        "storeParams": dict(t.store_params), "stateParams": dict(t.state_params),
        "error": dict(t.error or {}), "startedAt": utc(t.started_at),
        "updatedAt": utc(t.finished_at or t.started_at), "retryAt": utc(t.retry_at),
        "attemptId": str(t.attempt_id), "operator": t.operator,
        "finishedAt": utc(t.finished_at), "retryCount": t.retry_count,
        "logFile": log_file_of(t),
    }
