"""Task states, flags and the only edges the engine may take between states.

The integer codes are Digdag's ``TaskStateCode`` values and are stored in the database, so
they must never be renumbered. Orthogonal facts (a kill was requested, an error handler is
running, the task belongs to the initial tree) are flags, not more states.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, IntFlag, StrEnum


class TaskState(IntEnum):
    BLOCKED = 0
    READY = 1
    RETRY_WAITING = 2
    GROUP_RETRY_WAITING = 3
    PLANNED = 4
    RUNNING = 5
    SUCCESS = 6
    GROUP_ERROR = 7
    ERROR = 8
    CANCELED = 9

    @property
    def label(self) -> str:
        """The lower-case name users see (``group_error``)."""
        return self.name.lower()


class TaskFlags(IntFlag):
    NONE = 0
    CANCEL_REQUESTED = 1  # kill: finish as canceled, never run _error
    DELAYED_ERROR = 2  # the operator failed; its ^error children are running
    DELAYED_GROUP_ERROR = 4  # a child failed; this task's ^error children are running
    INITIAL_TASK = 8  # part of the compiled tree or a ^sub: a group retry re-creates it


S = TaskState

DONE: frozenset[TaskState] = frozenset({S.SUCCESS, S.GROUP_ERROR, S.ERROR, S.CANCELED})
FAILED: frozenset[TaskState] = frozenset({S.GROUP_ERROR, S.ERROR})
WAITING: frozenset[TaskState] = frozenset({S.RETRY_WAITING, S.GROUP_RETRY_WAITING})
# States in which a child keeps its parent from finishing (plus BLOCKED with every upstream
# successful: see "progressible" in the spec, §3.3).
PROGRESSING: frozenset[TaskState] = frozenset(
    {S.READY, S.RETRY_WAITING, S.GROUP_RETRY_WAITING, S.RUNNING, S.PLANNED}
)

ALLOWED: Mapping[TaskState, frozenset[TaskState]] = {
    # the parent started and every upstream succeeded: groups plan, killed tasks cancel
    S.BLOCKED: frozenset({S.READY, S.PLANNED, S.CANCELED}),
    # dispatched; a group back from GROUP_RETRY_WAITING re-plans; killed before it ran
    S.READY: frozenset({S.RUNNING, S.PLANNED, S.CANCELED}),
    # READY again: the agent running it was lost (crash recovery re-dispatches it)
    S.RUNNING: frozenset(
        {S.SUCCESS, S.PLANNED, S.RETRY_WAITING, S.ERROR, S.CANCELED, S.READY}
    ),
    S.RETRY_WAITING: frozenset({S.READY}),
    S.GROUP_RETRY_WAITING: frozenset({S.READY}),
    S.PLANNED: frozenset(
        {S.SUCCESS, S.ERROR, S.GROUP_ERROR, S.CANCELED, S.GROUP_RETRY_WAITING}
    ),
    S.SUCCESS: frozenset(),
    S.GROUP_ERROR: frozenset(),
    S.ERROR: frozenset(),
    S.CANCELED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """The engine tried an edge that is not in ``ALLOWED``: a bug, never a user error."""

    def __init__(self, before: TaskState, after: TaskState) -> None:
        super().__init__(f"illegal task transition {before.label} -> {after.label}")
        self.before = before
        self.after = after


def check_edge(before: TaskState, after: TaskState) -> None:
    """Raise ``IllegalTransition`` unless ``before -> after`` is in ``ALLOWED``."""
    if after not in ALLOWED[before]:
        raise IllegalTransition(before, after)


class AttemptStatus(StrEnum):
    """What clients show for an attempt (spec §6.2)."""

    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    KILLED = "killed"

    @property
    def done(self) -> bool:
        return self is not AttemptStatus.RUNNING


class Trigger(StrEnum):
    """Who started an attempt."""

    RUN = "run"  # digpy run
    SCHEDULE = "schedule"
    RETRY = "retry"
    BACKFILL = "backfill"
    API = "api"
