"""The operator interface: a small class per ``type>``, found through entry points."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from digpy.clock import Clock
from digpy.spi.types import (
    CancelToken,
    SecretProvider,
    TaskLog,
    TaskRequest,
    TaskResult,
    TemplateRenderer,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorContext:
    request: TaskRequest
    project_path: Path  # the project root; every file an operator opens must stay below it
    workdir: Path  # project_path / request.workdir; the working directory of commands
    secrets: SecretProvider
    log: TaskLog
    clock: Clock
    cancel: CancelToken
    render: TemplateRenderer


class Operator(ABC):
    """Base class of every operator.

    Subclasses set ``type`` (the name before ``>``) and implement ``run``. ``run`` returns a
    ``TaskResult`` or raises ``TaskFailed`` (expected failure), ``PollAgain`` (come back
    later) or ``ConfigError`` (bad options). Operators never sleep, never touch the store and
    never import the engine.

    ``retryable`` says whether operator-level ``_retry`` applies (Digdag's BaseOperator
    family: sh, py, http, td ...); echo, fail, if, loop, wait ignore it.
    """

    type: ClassVar[str]
    retryable: ClassVar[bool] = True

    def __init__(self, ctx: OperatorContext) -> None:
        self.ctx = ctx
        self.request = ctx.request

    @abstractmethod
    def run(self) -> TaskResult: ...

    def cleanup(self) -> None:
        """Called instead of ``run`` when a killed task was polling (e.g. kill a remote job)."""
        return None
