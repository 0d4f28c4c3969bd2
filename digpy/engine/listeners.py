"""Listeners: how progress output, notifications and metrics learn what the engine did,
without the engine knowing about terminals or mail servers (dramatiq middleware).

Subclass ``Listener`` and override the hooks you need; every hook is a no-op by default.
Hooks run on the engine's thread after the change committed. A listener that raises is
logged and otherwise ignored: it can never break an attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from digpy.model.records import Attempt, Task

log = logging.getLogger(__name__)


class Listener:
    def on_attempt_started(self, attempt: Attempt) -> None:
        """The attempt's tasks exist and the executor starts driving it."""

    def on_task_started(self, attempt: Attempt, task: Task) -> None:
        """An operator task was claimed (READY -> RUNNING) and is about to run."""

    def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None) -> None:
        """A run of an operator ended (``task.state`` says how: success, planned with
        children, retry_waiting, error, canceled), or a group/task reached a done state.
        ``note`` is ``"replayed"`` or ``"skipped"`` when local mode did not run the operator.
        """

    def on_attempt_finished(self, attempt: Attempt) -> None:
        """The root task is done; ``attempt.status`` is final."""


class Listeners(Listener):
    """Several listeners behind one; failures are logged and swallowed."""

    def __init__(self, listeners: Iterable[Listener] = ()) -> None:
        self._listeners = list(listeners)

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_attempt_started(self, attempt: Attempt) -> None:
        for listener in self._listeners:
            try:
                listener.on_attempt_started(attempt)
            except Exception:
                log.exception("listener %r failed in on_attempt_started", listener)

    def on_task_started(self, attempt: Attempt, task: Task) -> None:
        for listener in self._listeners:
            try:
                listener.on_task_started(attempt, task)
            except Exception:
                log.exception("listener %r failed in on_task_started", listener)

    def on_task_finished(self, attempt: Attempt, task: Task, *, note: str | None = None) -> None:
        for listener in self._listeners:
            try:
                listener.on_task_finished(attempt, task, note=note)
            except Exception:
                log.exception("listener %r failed in on_task_finished", listener)

    def on_attempt_finished(self, attempt: Attempt) -> None:
        for listener in self._listeners:
            try:
                listener.on_attempt_finished(attempt)
            except Exception:
                log.exception("listener %r failed in on_attempt_finished", listener)
