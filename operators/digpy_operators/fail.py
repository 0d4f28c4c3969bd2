"""``fail>: message`` fails the task; ``error.message`` is the message. Never retried."""

from __future__ import annotations

import json
from typing import ClassVar

from digpy.spi import ConfigError, Operator, TaskFailed, TaskResult


class FailOperator(Operator):
    type: ClassVar[str] = "fail"
    retryable: ClassVar[bool] = False  # failing on purpose is not transient

    def run(self) -> TaskResult:
        message = _message(self.request.config.get("_command"))
        raise TaskFailed(message, error={"message": message})


def _message(value: object) -> str:
    """As Digdag: a missing message is the empty string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise ConfigError(f"fail> message must be a string, not a {type(value).__name__}")
