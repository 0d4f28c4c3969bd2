"""Stored rows as frozen values: what the store returns and what the engine inserts.

No behaviour lives here beyond small derived properties. Times are timezone-aware UTC
``datetime`` values; JSON-ish fields are plain mappings.

Every class has a docstring: without one, ``@dataclass`` builds it from
``inspect.signature`` at import time, which a run's start-up pays for each class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digpy.model.states import AttemptStatus, TaskFlags, TaskState, Trigger

Json = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A registered project: a folder of workflows, stored once per name."""

    id: int
    name: str
    path: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWorkflowDefinition:
    """One workflow of a revision: the compiled task list as JSON (engine.definitions)."""

    name: str
    timezone: str
    definition: Json
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowDefinition:
    """One workflow of a stored revision."""

    id: int
    revision_id: int
    project_id: int
    name: str
    timezone: str
    definition: Json
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Revision:
    """One stored version of a project's workflows."""

    id: int
    project_id: int
    name: str
    hash: str  # content hash over every workflow definition of the revision
    default_params: Json
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One slot a workflow runs for: unique per project, workflow and session time."""

    id: int
    project_id: int
    workflow_name: str
    session_time: datetime
    uuid: str
    last_attempt_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAttempt:
    """An attempt to insert for an existing session."""

    session_id: int
    name: str  # "" for the first attempt of a session
    params: Json
    trigger: Trigger
    who: str
    workflow_definition_id: int
    revision_name: str
    timezone: str
    created_at: datetime
    task_limit: int = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """An attempt joined with its session (the engine always needs both)."""

    id: int
    session_id: int
    project_id: int
    workflow_name: str
    session_time: datetime
    session_uuid: str
    name: str
    index: int  # 1, 2, ... within the session
    params: Json
    status: AttemptStatus
    trigger: Trigger
    who: str
    workflow_definition_id: int
    revision_name: str
    timezone: str
    created_at: datetime
    finished_at: datetime | None
    cancel_requested: bool
    task_limit: int
    result: Json | None = None
    error: Json | None = None

    @property
    def done(self) -> bool:
        return self.status.done


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskOutput:
    """What a successful task leaves behind for later tasks (spec §2.2), reusable on resume."""

    export_params: Json = field(default_factory=dict)
    store_params: Json = field(default_factory=dict)
    reset_keys: tuple[str, ...] = ()
    subtask_config: Json | None = None
    report: Json = field(default_factory=dict)

    @property
    def stores(self) -> bool:
        return bool(self.store_params or self.reset_keys)


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """A task row of an attempt: its place in the tree, its state and what it produced."""

    id: int
    attempt_id: int
    parent_id: int | None
    full_name: str
    is_group: bool
    operator: str | None
    state: TaskState
    flags: TaskFlags
    upstream_ids: tuple[int, ...]
    config: Json  # the task's own keys, raw (``${...}`` unevaluated)
    # runtime exports only; the static ``_export`` stays in ``config``
    export_params: Json = field(default_factory=dict)
    store_params: Json = field(default_factory=dict)
    reset_keys: tuple[str, ...] = ()
    state_params: Json = field(default_factory=dict)  # PollAgain state for the next run
    subtask_config: Json | None = None
    report: Json = field(default_factory=dict)
    error: Json | None = None
    retry_count: int = 0
    retry_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    log_path: str | None = None

    @property
    def output(self) -> TaskOutput:
        return TaskOutput(
            export_params=self.export_params,
            store_params=self.store_params,
            reset_keys=self.reset_keys,
            subtask_config=self.subtask_config,
            report=self.report,
        )

    @property
    def is_dynamic(self) -> bool:
        """Generated at run time (``^sub``, ``^error``, ``^check``) rather than compiled."""
        return "^" in self.full_name


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTask:
    """A task row to insert. ``parent_ref``/``upstream_refs`` point at earlier entries of the
    same batch (their ids are not known yet); ``parent_id``/``upstream_ids`` at stored rows."""

    full_name: str
    is_group: bool
    operator: str | None
    config: Json
    state: TaskState = TaskState.BLOCKED
    flags: TaskFlags = TaskFlags.NONE
    parent_id: int | None = None
    parent_ref: int | None = None
    upstream_ids: tuple[int, ...] = ()
    upstream_refs: tuple[int, ...] = ()
    output: TaskOutput | None = None  # resumed tasks come in as SUCCESS with their output
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumingTask:
    """A successful dynamic task of an earlier attempt, inserted as SUCCESS when its
    generator regenerates a task with the same full name (spec §6.3)."""

    full_name: str
    parent_full_name: str
    upstream_full_names: tuple[str, ...]
    is_group: bool
    operator: str | None
    config: Json
    output: TaskOutput = field(default_factory=TaskOutput)


# Columns a task transition may also write (store.base.TaskRepo.transition).
TASK_UPDATE_FIELDS: frozenset[str] = frozenset(
    {
        "export_params",
        "store_params",
        "reset_keys",
        "state_params",
        "subtask_config",
        "report",
        "error",
        "retry_count",
        "retry_at",
        "started_at",
        "finished_at",
        "log_path",
    }
)
