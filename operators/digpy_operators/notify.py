"""``notify>: MESSAGE`` sends a notification through the system notifier (spec §4 notify>
row, §8.7; docs/operators.md). Digdag generates it for SLA alerts (``^sla^alert``); a
workflow may use it directly too.

The notifier is the process's (``digpy.spi.notify``): the daemon's settings, or the
``DIGPY_NOTIFICATION_*`` environment under ``digpy run``; ``log`` by default, which writes
the message as a WARNING to the daemon log. The task log always gets the message and where
it was sent. As in Digdag, ``notify>`` ignores ``_retry`` (spec §3.8): the sender tries
three times itself (waiting 1 s, then 2 s), each failed try noted in the task log; after the
last one the task fails with a one-line error.
"""

from __future__ import annotations

import json
from typing import ClassVar

from digpy.spi import ConfigError, Operator, TaskFailed, TaskResult
from digpy.spi.notify import Notification, NotificationFailed, configured, send


class NotifyOperator(Operator):
    type: ClassVar[str] = "notify"
    retryable: ClassVar[bool] = False  # Digdag's notify> ignores _retry; send() retries

    def run(self) -> TaskResult:
        message = _message(self.request.config.get("_command"))
        self.ctx.log.write(f"Notification: {message}\n")
        try:
            where = send(self._notification(message), configured(), sleep=self.ctx.clock.sleep,
                         on_retry=lambda why: self.ctx.log.write(f"{why}\n"))
        except NotificationFailed as exc:
            raise TaskFailed(str(exc)) from None
        self.ctx.log.write(f"Sent the notification to {where}\n")
        return TaskResult.empty()

    def _notification(self, message: str) -> Notification:
        request = self.request
        return Notification(
            timestamp=self.ctx.clock.now(),
            message=message,
            project_id=request.project_id,
            project_name=request.project_name,
            workflow_name=request.workflow_name,
            attempt_id=request.attempt_id,
            session_id=request.session_id,
            task_name=request.task_name,
            timezone=request.timezone,
            session_uuid=request.session_uuid,
            session_time=request.session_time,
        )


def _message(value: object) -> str:
    """The message as Digdag's ``get("_command", String.class)`` would give it."""
    if isinstance(value, str) and value:
        return value
    if value is None or value == "":
        raise ConfigError("notify> needs a message, e.g. 'notify>: the report is late'")
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise ConfigError(f"notify> message must be a string, not a {type(value).__name__}")
