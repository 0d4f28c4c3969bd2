"""Everything an operator author imports. Nothing here imports the engine or the store."""

from digpy.dsl.durations import format_duration, parse_duration
from digpy.errors import ConfigError, PollAgain, TaskFailed
from digpy.spi.operator import Operator, OperatorContext
from digpy.spi.types import (
    CancelToken,
    SecretProvider,
    TaskLog,
    TaskRequest,
    TaskResult,
    TemplateRenderer,
)

__all__ = [
    "CancelToken",
    "ConfigError",
    "Operator",
    "OperatorContext",
    "PollAgain",
    "SecretProvider",
    "TaskFailed",
    "TaskLog",
    "TaskRequest",
    "TaskResult",
    "TemplateRenderer",
    "format_duration",
    "parse_duration",
]
