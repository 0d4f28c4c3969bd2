"""Digdag's executor limits (spec §3.11): ``attempt_max_run``, ``task_ttl``, ``attempt_ttl``.

* **attempt_max_run** (100): running attempts in the whole store. Whoever creates an attempt
  counts the running ones in the same transaction as the insert (``check_capacity``): the
  scheduler retries the slot 10 minutes later (``LIMIT_RETRY``, Digdag's rule), a backfill
  slot waits for the next tick, ``PUT /api/attempts`` answers 429. On PostgreSQL two daemons
  can both count 99 and both insert: the limit is soft by at most one attempt per concurrent
  creator (Digdag counts the same way); serialising every start on one lock would cost
  every daemon a round trip to save a few attempts over a limit meant against runaways.
* **task_ttl** (1d) / **attempt_ttl** (7d): the daemon holding an attempt's lease checks the
  attempts it drives (in memory, no query) once per scheduler interval (``TtlEnforcer``);
  an attempt with a task RUNNING longer than ``task_ttl``, or created longer than
  ``attempt_ttl`` ago, is killed like ``digpy kill`` (running operators are stopped, the
  attempt ends ``killed``). ``attempt_ttl`` also sends Digdag's "Workflow execution timeout"
  notification through the system notifier (digpy.spi.notify), on a thread of its own so a
  slow webhook never delays the loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digpy.clock import Clock
from digpy.dsl.durations import parse_duration
from digpy.errors import DigpyError
from digpy.model.records import Attempt, Task
from digpy.spi.notify import Notification, send_in_background
from digpy.store.base import Tx

if TYPE_CHECKING:  # the API imports this module; it needs no worker pool
    from digpy.agent.pool import Driver

log = logging.getLogger(__name__)

DEFAULT_ATTEMPT_MAX_RUN = 100
TIMEOUT_MESSAGE = "Workflow execution timeout"
LIMIT_RETRY = timedelta(minutes=10)  # Digdag retries a slot refused by a limit this much later


class TooManyAttempts(DigpyError):
    """``attempt_max_run`` attempts are running already: no new one now."""

    def __init__(self, running: int, limit: int) -> None:
        super().__init__(f"too many running attempts ({limit}): {running} are running; "
                         "wait for some to finish, kill some, or raise attempt_max_run")
        self.running = running
        self.limit = limit


def check_capacity(tx: Tx, limit: int) -> None:
    """Call in the transaction that inserts the attempt.

    :raises TooManyAttempts: ``limit`` or more attempts are running."""
    running = tx.attempts.count_running_attempts()
    if running >= limit:
        raise TooManyAttempts(running, limit)


def has_capacity(tx: Tx, limit: int) -> bool:
    try:
        check_capacity(tx, limit)
    except TooManyAttempts:
        return False
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Ttls:
    """The two time limits, as written (``"1d"``) for messages."""

    task_ttl: str = "1d"
    attempt_ttl: str = "7d"

    @property
    def task_seconds(self) -> int:
        return parse_duration(self.task_ttl)

    @property
    def attempt_seconds(self) -> int:
        return parse_duration(self.attempt_ttl)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expired:
    """Why one attempt must be killed. ``timeout``: its attempt_ttl ran out (Digdag sends
    the "Workflow execution timeout" notification then)."""

    attempt_id: int
    reason: str
    timeout: bool


def find_expired(attempt: Attempt, running: Sequence[Task], ttls: Ttls,
                 now: datetime) -> Expired | None:
    """The limit ``attempt`` (with its RUNNING tasks) exceeds at ``now``, if any."""
    if now - attempt.created_at >= timedelta(seconds=ttls.attempt_seconds):
        return Expired(attempt_id=attempt.id, timeout=True,
                       reason=f"attempt {attempt.id} exceeded attempt_ttl {ttls.attempt_ttl}")
    task_limit = timedelta(seconds=ttls.task_seconds)
    for task in running:
        if task.started_at is not None and now - task.started_at >= task_limit:
            return Expired(attempt_id=attempt.id, timeout=False,
                           reason=f"task {task.full_name} exceeded task_ttl {ttls.task_ttl}")
    return None


class TtlEnforcer:
    """Kills the attempts a daemon drives once they outlive a TTL. ``check`` is called every
    loop round and looks at most once per ``every`` seconds (the scheduler interval)."""

    def __init__(self, ttls: Ttls, clock: Clock, *, every: float) -> None:
        self.ttls = ttls
        self.clock = clock
        self.every = every
        self._next = clock.monotonic()
        self.notifying: list[threading.Thread] = []  # timeout notifications being sent

    def check(self, driver: Driver) -> list[Expired]:
        if self.clock.monotonic() < self._next:
            return []
        self._next = self.clock.monotonic() + self.every
        now = self.clock.now()
        killed: list[Expired] = []
        for driven in list(driver.attempts):
            executor = driven.executor
            if executor.done or executor.attempt.cancel_requested:
                continue  # finished, or a kill is already under way
            found = find_expired(executor.attempt, executor.running, self.ttls, now)
            if found is None:
                continue
            _report(executor.attempt, executor.scope.project_name, found)
            if found.timeout:
                self._notify_timeout(executor.attempt, executor.scope.project_name, now)
            driver.kill(executor, found.reason)
            killed.append(found)
        return killed

    def _notify_timeout(self, attempt: Attempt, project: str, now: datetime) -> None:
        self.notifying = [t for t in self.notifying if t.is_alive()]
        self.notifying.append(send_in_background(timeout_notification(attempt, project, now)))


def timeout_notification(attempt: Attempt, project: str, now: datetime) -> Notification:
    """Digdag's attempt_ttl notification: the attempt's identity, no task."""
    return Notification(
        timestamp=now, message=TIMEOUT_MESSAGE, project_id=attempt.project_id,
        project_name=project, workflow_name=attempt.workflow_name,
        revision=attempt.revision_name, attempt_id=attempt.id, session_id=attempt.session_id,
        timezone=attempt.timezone, session_uuid=attempt.session_uuid,
        session_time=attempt.session_time)


def _report(attempt: Attempt, project: str, expired: Expired) -> None:
    where = (f"attempt {attempt.id} (project {project}, workflow {attempt.workflow_name}, "
             f"session {attempt.session_time.isoformat()})")
    if expired.timeout:
        log.warning("Workflow execution timeout: %s: %s; killing it", where, expired.reason)
    else:
        log.warning("%s: %s; killing the attempt", where, expired.reason)
