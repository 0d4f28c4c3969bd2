"""What client commands show: frozen views built from stored rows (or, later, from a
server's JSON), each with ``to_json`` — the one shape ``--json``/``--jsonl`` print.

Times are shown in the workflow's time zone (users think in it; Digdag issues #32/#539
are about mixed zones) and serialized as ISO 8601 with the offset, so they stay exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowView:
    name: str
    project: str
    timezone: str
    schedule: str | None  # "daily>: 07:00:00"
    source: str | None
    tasks: int
    revision: str | None  # the newest stored revision, None before any run

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "project": self.project, "timezone": self.timezone,
                "schedule": self.schedule, "source": self.source, "tasks": self.tasks,
                "revision": self.revision}


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleView:
    id: int | None  # a server's schedule id; None on the local state (nothing is stored)
    project: str
    workflow: str
    schedule: str
    timezone: str
    next_session_time: datetime | None  # None: the schedule has ended
    next_run_time: datetime | None
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "project": self.project, "workflow": self.workflow,
                "schedule": self.schedule, "timezone": self.timezone,
                "next_session_time": iso(self.next_session_time),
                "next_run_time": iso(self.next_run_time), "disabled": self.disabled}


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptView:
    id: int
    index: int
    name: str
    session_id: int
    session_uuid: str
    project: str
    workflow: str
    session_time: datetime
    timezone: str
    status: str  # running, success, error, killed
    trigger: str
    who: str
    revision: str
    params: Mapping[str, Any]
    created_at: datetime
    finished_at: datetime | None
    cancel_requested: bool
    error: str | None

    @property
    def duration(self) -> float | None:
        return seconds_between(self.created_at, self.finished_at)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "name": self.name,
                "session_id": self.session_id, "session_uuid": self.session_uuid,
                "project": self.project, "workflow": self.workflow,
                "session_time": iso(self.session_time), "timezone": self.timezone,
                "status": self.status, "trigger": self.trigger, "who": self.who,
                "revision": self.revision, "params": dict(self.params),
                "created_at": iso(self.created_at), "finished_at": iso(self.finished_at),
                "duration": self.duration, "cancel_requested": self.cancel_requested,
                "error": self.error}


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionView:
    id: int
    uuid: str
    project: str
    workflow: str
    session_time: datetime
    last_attempt: AttemptView | None  # None: pending (no attempt yet)

    @property
    def status(self) -> str:
        return self.last_attempt.status if self.last_attempt else "pending"

    def to_json(self) -> dict[str, Any]:
        last = self.last_attempt
        return {"id": self.id, "uuid": self.uuid, "project": self.project,
                "workflow": self.workflow, "session_time": iso(self.session_time),
                "status": self.status, "last_attempt": last.to_json() if last else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskView:
    id: int
    attempt_id: int
    full_name: str
    parent_id: int | None
    upstream_ids: tuple[int, ...]
    is_group: bool
    operator: str | None
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    retry_count: int
    error: str | None
    config: Mapping[str, Any] = field(default_factory=dict)
    store_params: Mapping[str, Any] = field(default_factory=dict)
    export_params: Mapping[str, Any] = field(default_factory=dict)
    state_params: Mapping[str, Any] = field(default_factory=dict)
    log_path: str | None = None

    @property
    def duration(self) -> float | None:
        return seconds_between(self.started_at, self.finished_at)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "attempt_id": self.attempt_id, "full_name": self.full_name,
                "parent_id": self.parent_id, "upstream_ids": list(self.upstream_ids),
                "is_group": self.is_group, "operator": self.operator, "state": self.state,
                "started_at": iso(self.started_at), "finished_at": iso(self.finished_at),
                "duration": self.duration, "retry_count": self.retry_count,
                "error": self.error, "config": dict(self.config),
                "store_params": dict(self.store_params),
                "export_params": dict(self.export_params),
                "state_params": dict(self.state_params), "log_path": self.log_path}
