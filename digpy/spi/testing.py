"""Helpers for testing an operator without an engine: a log that collects text, secrets
from a dict, a real ``CancelEvent`` and a small ``${name}`` renderer.

    from digpy.spi.testing import make_context

    def test_echo_writes_the_message(tmp_path):
        ctx = make_context(tmp_path, operator="echo", config={"_command": "hi"})
        EchoOperator(ctx).run()
        assert ctx.log.text == "hi\\n"      # ctx.log is a RecordingLog
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digpy.clock import Clock, FakeClock
from digpy.spi.operator import OperatorContext
from digpy.spi.process import CancelEvent
from digpy.spi.types import CancelToken, SecretProvider, TaskLog, TaskRequest, TemplateRenderer

_NAME = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}")


class RecordingLog:
    """A ``TaskLog`` that keeps everything written (thread-safe, unmasked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: list[str] = []

    def write(self, text: str) -> None:
        with self._lock:
            self._parts.append(text)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


class DictSecrets:
    """A ``SecretProvider`` over a dict; ``read`` lists the keys asked for, in order."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})
        self.read: list[str] = []

    def get(self, key: str) -> str | None:
        self.read.append(key)
        return self._values.get(key)


class SimpleRenderer:
    """Replaces ``${name}`` and ``${a.b}`` with params (non-strings as ``str``); leaves
    everything else, ``${secret:...}`` included, alone. Enough for operator tests; the
    engine's renderer evaluates full expressions."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = params

    def __call__(self, text: str) -> str:
        return _NAME.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        value: Any = self._params
        for part in match.group(1).split("."):
            if not isinstance(value, Mapping) or part not in value:
                return match.group(0)
            value = value[part]
        return value if isinstance(value, str) else str(value)


def make_request(
    project_path: Path,
    *,
    operator: str = "echo",
    config: Mapping[str, Any] | None = None,
    local_config: Mapping[str, Any] | None = None,
    last_state: Mapping[str, Any] | None = None,
    workdir: str = "",
    session_time: datetime | None = None,
    task_name: str = "+test+task",
    task_id: int = 1,
    retry_count: int = 0,
) -> TaskRequest:
    """A TaskRequest with plausible ids. ``local_config`` defaults to ``config``: a task
    whose params are all its own."""
    config = dict(config or {})
    return TaskRequest(
        project_id=1,
        project_name="test",
        project_path=project_path,
        workflow_name="test",
        session_id=1,
        session_uuid="00000000-0000-0000-0000-000000000001",
        session_time=session_time or datetime(2016, 1, 30, tzinfo=UTC),
        attempt_id=1,
        task_id=task_id,
        task_name=task_name,
        timezone="UTC",
        operator=operator,
        config=config,
        local_config=dict(local_config) if local_config is not None else config,
        last_state=dict(last_state or {}),
        retry_count=retry_count,
        workdir=workdir,
    )


def make_context(
    project_path: Path,
    *,
    request: TaskRequest | None = None,
    secrets: SecretProvider | Mapping[str, str] | None = None,
    log: TaskLog | None = None,
    clock: Clock | None = None,
    cancel: CancelToken | None = None,
    render: TemplateRenderer | None = None,
    **request_fields: Any,
) -> OperatorContext:
    """An OperatorContext for ``project_path``; extra keywords go to ``make_request``.

    Defaults: a ``RecordingLog``, ``DictSecrets`` (a plain dict is wrapped), a
    ``FakeClock`` at the session time, a fresh ``CancelEvent`` and a ``SimpleRenderer``."""
    project_path = Path(project_path)
    request = request or make_request(project_path, **request_fields)
    if secrets is None or isinstance(secrets, Mapping):
        secrets = DictSecrets(secrets)
    return OperatorContext(
        request=request,
        project_path=project_path,
        workdir=project_path / request.workdir if request.workdir else project_path,
        secrets=secrets,
        log=log if log is not None else RecordingLog(),
        clock=clock or FakeClock(request.session_time),
        cancel=cancel if cancel is not None else CancelEvent(),
        render=render or SimpleRenderer(request.config),
    )
