"""Values that cross the boundary between the engine and an operator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskRequest:
    """Everything an operator may know about the task it runs.

    ``config`` is the fully merged and ``${...}``-evaluated params of the task (§2.1/§2.4 of
    the spec), ``local_config`` only the task's own keys (evaluated). ``last_state`` is what
    the operator passed to ``PollAgain`` last time (empty on the first run); ``retry_count``
    counts operator-level retries so far."""

    project_id: int
    project_name: str
    project_path: Path
    workflow_name: str
    session_id: int
    session_uuid: str
    session_time: datetime
    attempt_id: int
    task_id: int
    task_name: str
    timezone: str
    operator: str
    config: Mapping[str, Any]
    local_config: Mapping[str, Any] = field(default_factory=dict)
    last_state: Mapping[str, Any] = field(default_factory=dict)
    retry_count: int = 0
    workdir: str = ""  # relative to project_path (`_workdir`)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskResult:
    """What an operator returns: the whole contract with the engine.

    ``subtask_config`` (a task-definition mapping, compiled as ``^sub``), ``export_params``
    (visible to descendants), ``store_params`` (visible to later tasks), ``reset_store_params``
    (dotted keys deleted before the stores merge, e.g. ``td.last_results``) and ``report``."""

    subtask_config: Mapping[str, Any] | None = None
    export_params: Mapping[str, Any] = field(default_factory=dict)
    store_params: Mapping[str, Any] = field(default_factory=dict)
    reset_store_params: tuple[str, ...] = ()
    report: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> TaskResult:
        return cls()


class TaskLog(Protocol):
    """The task's log. Text written here goes to the console and the stored task log with
    secret values masked."""

    def write(self, text: str) -> None: ...


class SecretProvider(Protocol):
    def get(self, key: str) -> str | None:
        """The secret ``key`` (after ``_secrets`` remapping), or None. Reading a secret
        registers its value for masking in every log."""


class CancelToken(Protocol):
    """Set by the engine when the task must stop (kill, ``_timeout``, Ctrl-C)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float) -> bool: ...

    @property
    def reason(self) -> str: ...


class TemplateRenderer(Protocol):
    def __call__(self, text: str) -> str:
        """Render ``${...}`` in ``text`` (a SQL file, a mail body) against the task's params."""
