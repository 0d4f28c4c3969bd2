"""The compiled workflow: immutable values handed from the compiler to the engine.

A ``Workflow`` is a flat tuple of ``WorkflowTask`` with the root first; parents and
upstream edges are indexes into that tuple. ``config`` keeps the task's own keys raw
(``${...}`` is evaluated only when the task runs), including ``_export``, ``_retry``,
``_error``, ``_check``, ``_env`` and, for operator tasks, ``_type``/``_command``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from digpy.errors import Location

IntervalType = Literal["constant", "exponential"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """``_retry: N`` or ``{limit, interval, interval_type, max_interval}``.

    ``limit`` is the number of retries, so a task runs at most ``limit + 1`` times."""

    limit: int
    interval: int = 0
    interval_type: IntervalType = "constant"
    max_interval: int | None = None

    def __post_init__(self) -> None:
        if self.limit < 0 or self.interval < 0:
            raise ValueError("retry limit and interval must be >= 0")

    def interval_for(self, retry_count: int) -> int:
        """Seconds to wait before retry number ``retry_count`` (0-based), as Digdag does:
        constant ``interval``, or ``interval * 2**retry_count`` capped by ``max_interval``."""
        if self.interval_type == "exponential":
            wait = self.interval * (2**retry_count)
            return min(wait, self.max_interval) if self.max_interval is not None else wait
        return self.interval


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowTask:
    index: int
    name: str  # own key: "+child", or "+wf" for the root, "^sub"/"^error"/"^check" when generated
    full_name: str  # "+wf+parent+child"
    parent_index: int | None
    upstream_indexes: tuple[int, ...] = ()
    is_group: bool = False
    operator: str | None = None  # "sh" for `sh>:`/`_type: sh`; None for groups
    config: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """A ``schedule:`` block. ``kind`` is the operator name (``daily``, ``cron`` ...),
    ``cron`` the 5-field cron4j pattern for the *session* time (None for seconds_interval),
    ``delay`` seconds from session time to run time."""

    kind: str
    value: str
    cron: str | None
    delay: int = 0
    interval_seconds: int | None = None  # seconds_interval> only
    start: date | None = None
    end: date | None = None  # inclusive
    skip_on_overtime: bool = False
    skip_delayed_by: int | None = None  # seconds
    unknown_keys: tuple[str, ...] = ()  # warned about by `check`, rejected by `push`


@dataclass(frozen=True, slots=True, kw_only=True)
class Sla:
    """``sla:`` with exactly one of ``time`` (HH:MM[:SS] of day) or ``duration`` (seconds)."""

    time: tuple[int, int, int] | None = None
    duration: int | None = None
    alert: bool = True
    fail: bool = False
    tasks: Mapping[str, Any] = field(default_factory=dict)  # the user's +tasks, run as ^sla


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    name: str
    timezone: str  # IANA name or a fixed offset like "+09:00"; default "UTC"
    tasks: tuple[WorkflowTask, ...]
    schedule: Schedule | None = None
    sla: Sla | None = None
    source: str | None = None  # path of the .dig file, relative to the project
    config: Mapping[str, Any] = field(default_factory=dict)  # the raw top-level mapping

    @property
    def root(self) -> WorkflowTask:
        return self.tasks[0]

    def task(self, full_name: str) -> WorkflowTask:
        for t in self.tasks:
            if t.full_name == full_name:
                return t
        raise KeyError(full_name)

    def children(self, index: int) -> tuple[WorkflowTask, ...]:
        return tuple(t for t in self.tasks if t.parent_index == index)
