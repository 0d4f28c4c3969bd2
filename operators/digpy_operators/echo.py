"""``echo>: message`` writes the message and a newline to the task log (and console)."""

from __future__ import annotations

import json
from typing import ClassVar

from digpy.spi import ConfigError, Operator, TaskResult


class EchoOperator(Operator):
    type: ClassVar[str] = "echo"
    retryable: ClassVar[bool] = False  # printing cannot fail transiently

    def run(self) -> TaskResult:
        self.ctx.log.write(_message(self.request.config.get("_command")) + "\n")
        return TaskResult.empty()


def _message(value: object) -> str:
    """The message as Digdag's ``get("_command", String.class)`` would give it."""
    if isinstance(value, str):
        return value
    if value is None:
        raise ConfigError("echo> needs a message, e.g. 'echo>: hello'")
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise ConfigError(f"echo> message must be a string, not a {type(value).__name__}")
