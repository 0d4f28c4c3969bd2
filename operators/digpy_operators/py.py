"""``py>: module.function`` / ``module.Class.method`` calls Python task code in a child
process (Digdag ``PyOperatorFactory`` + its runner.py; spec §4 py> row, docs/python-tasks.md).

- The params (merged with the ``py:`` map, a top-level key winning) go to the runner through
  ``input.json`` in a private directory under ``<project>/.digpy/tmp/``; stores, exports and
  ``add_subtask`` configs come back through ``output.json`` next to it. The directory is
  removed afterwards, whatever the outcome.
- The child is ``<python...> runner.py COMMAND input.json output.json`` started through
  ``run_command``: its own process group, output streamed to the (masked) task log, stopped
  on kill or ``_timeout``. ``python:`` is a path or an argv list; the default is the
  interpreter running digpy (``sys.executable``), since a bare ``python`` may not exist.
- The environment is digpy's own plus the task's ``_env`` (``${secret:...}`` allowed), as in
  Digdag, where py> exports no params as variables (unlike sh>).
- A Python exception fails the task with "Python command failed with code 1: MESSAGE
  (Class)"; the traceback is in the task log and in ``error.stacktrace``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from digpy.spi import ConfigError, Operator, TaskFailed, TaskResult
from digpy.spi.process import run_command
from digpy.spi.secret_template import render_secrets
from digpy.spi.types import SecretProvider

from .py_runtime import RUNNER

COMMAND = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MASK = "***"


class PyOperator(Operator):
    type: ClassVar[str] = "py"
    retryable: ClassVar[bool] = True

    def run(self) -> TaskResult:
        params = merged_params(self.request.config, "py")
        command = _command(params.get("_command"))
        python = _python(params.get("python"))
        secrets = _ReadSecrets(self.ctx.secrets)
        env = self._environment(secrets)
        io_dir = self._io_dir()
        try:
            in_file, out_file = io_dir / "input.json", io_dir / "output.json"
            _write_json(in_file, {"params": params, "sys_path": self._sys_path()})
            argv = [*python, str(RUNNER), command, str(in_file), str(out_file)]
            code = run_command(self.ctx, argv, env=env, cwd=self.ctx.workdir)
            output = _read_output(out_file)
        finally:
            shutil.rmtree(io_dir, ignore_errors=True)
        if code != 0:
            raise _failure(code, output, secrets.values)
        if output is None:
            raise TaskFailed(f"Python command {command} ended without writing its result")
        return _result(output)

    def _environment(self, secrets: SecretProvider) -> dict[str, str]:
        env = dict(os.environ)
        # Unbuffered, so print() lines reach the log as they happen and in order with the
        # traceback; UTF-8, so non-ASCII output never fails on a C locale.
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("PYTHONIOENCODING", "utf-8")
        env.update(task_env(self.request.local_config.get("_env"), secrets))
        return env

    def _io_dir(self) -> Path:
        tmp = self.ctx.project_path / ".digpy" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdtemp: a fresh name and mode 0700; the params may be private.
        return Path(tempfile.mkdtemp(dir=tmp, prefix=f"py-{self.request.task_id}-"))

    def _sys_path(self) -> list[str]:
        """The workdir, then the project root: where ``module`` in ``py>: module.f`` is."""
        entries = [str(self.ctx.workdir.resolve()), str(self.ctx.project_path.resolve())]
        return list(dict.fromkeys(entries))


def merged_params(config: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The operator's namespaced map (``py:``) as defaults under the top-level params."""
    nested = config.get(namespace)
    merged = dict(nested) if isinstance(nested, Mapping) else {}
    merged.update(config)
    return merged


def task_env(declared: Any, secrets: SecretProvider) -> dict[str, str]:
    """The task's own ``_env`` with ``${secret:...}`` resolved (same rules as sh>)."""
    if declared is None:
        return {}
    if not isinstance(declared, Mapping):
        raise ConfigError(f"_env must be a mapping of NAME: value, not {declared!r}")
    env: dict[str, str] = {}
    for name, value in declared.items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            raise ConfigError(f"Invalid _env name {name!r}: it must match [A-Za-z_][A-Za-z0-9_]*")
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        env[name] = render_secrets(text, secrets)
    return env


def _command(value: Any) -> str:
    if not isinstance(value, str) or not COMMAND.fullmatch(value.strip()):
        raise ConfigError(
            "py> needs the name of what to call: 'py>: module.function' or "
            f"'py>: package.module.Class.method', not {value!r}"
        )
    return value.strip()


def _python(value: Any) -> list[str]:
    if value is None:
        return [sys.executable]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise ConfigError(
        "py> option 'python' must be a path such as /usr/bin/python3 or an argument list such "
        f"as [\"uv\", \"run\", \"python\"], not {value!r}"
    )


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, default=str)


def _read_output(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None  # killed, or the interpreter could not start the runner
    except ValueError as exc:
        raise TaskFailed(f"py> could not read the result of the Python command: {exc}") from None
    return data if isinstance(data, dict) else None


def _failure(code: int, output: Mapping[str, Any] | None, secrets: list[str]) -> TaskFailed:
    message = f"Python command failed with code {code}"
    error = output.get("error") if output else None
    if not isinstance(error, Mapping):
        return TaskFailed(message)
    message = _mask(f"{message}: {error.get('message', '')} ({error.get('class', '')})", secrets)
    stacktrace = _mask(str(error.get("backtrace", "")), secrets)
    return TaskFailed(message, error={"message": message, "stacktrace": stacktrace})


def _result(output: Mapping[str, Any]) -> TaskResult:
    def part(key: str) -> dict[str, Any]:
        value = output.get(key)
        return dict(value) if isinstance(value, Mapping) else {}

    subtasks = part("subtask_config")
    return TaskResult(
        subtask_config=subtasks or None,
        export_params=part("export_params"),
        store_params=part("store_params"),
    )


def _mask(text: str, secrets: list[str]) -> str:
    """The failure message is stored with the task, not written through the (masking)
    log, so hide the ``_env`` secrets this task read in case the code echoed one."""
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class _ReadSecrets:
    """A SecretProvider that remembers the values it handed out."""

    def __init__(self, secrets: SecretProvider) -> None:
        self._secrets = secrets
        self.values: list[str] = []

    def get(self, key: str) -> str | None:
        value = self._secrets.get(key)
        if value:
            self.values.append(value)
        return value
