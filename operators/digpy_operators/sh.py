"""``sh>: command`` runs a shell command in the task's working directory (Digdag
``ShOperatorFactory``, spec "Notes on sh>").

- The command, with ``${secret:...}`` resolved, is written to a runner script under
  ``<project>/.digpy/tmp/`` and run as ``<shell...> <script path relative to the workdir>``,
  so the secret never appears on a command line (``ps``, ``/proc/<pid>/cmdline``).
- Every top-level param whose name is a valid variable name is exported: strings as-is,
  anything else as compact JSON. The task's own ``_env`` goes on top (values may use
  ``${secret:...}``) and the project directory is appended to ``PATH``.
- Output (stdout and stderr merged) streams to the task log; a non-zero exit fails the task
  with "Command failed with code N". The script is removed afterwards.

It runs once per task, so it is kept cheap (docs/engine.md "Performance"): the environment
is built from ``os.environb`` (nothing is decoded and encoded again), the script is written
with plain ``os`` calls and the output and exit are awaited in one ``poll`` loop.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from digpy.spi import ConfigError, Operator, TaskFailed, TaskResult
from digpy.spi.process import run_command
from digpy.spi.secret_template import render_secrets

DEFAULT_SHELL = ("/bin/sh",)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCRIPT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(
    os, "O_CLOEXEC", 0
)
_script_numbers = itertools.count(1)  # with the pid, a fresh script name per run
_to_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


class ShOperator(Operator):
    type: ClassVar[str] = "sh"
    retryable: ClassVar[bool] = True

    def run(self) -> TaskResult:
        config = self.request.config
        command = render_secrets(_command(config.get("_command")), self.ctx.secrets)
        argv_prefix = _shell(config)
        env = self._environment()
        workdir = str(self.ctx.workdir)
        script = _write_runner_script(
            os.path.join(self.ctx.project_path, ".digpy", "tmp"), self.request.task_id, command
        )
        try:
            code = run_command(self.ctx, [*argv_prefix, _relative(script, workdir)], env=env,
                               cwd=workdir)
        finally:
            _remove(script)
        if code != 0:
            raise TaskFailed(f"Command failed with code {code}")
        return TaskResult.empty()

    def _environment(self) -> dict[bytes, bytes]:
        """The inherited environment, then params, then ``_env``, then PATH + project."""
        env = _inherited()
        for name, value in params_as_env(self.request.config).items():
            env[name.encode()] = os.fsencode(value)
        for name, value in self._task_env().items():
            env[name.encode()] = os.fsencode(value)
        path = env.get(b"PATH") or os.fsencode(os.defpath)
        env[b"PATH"] = path + os.fsencode(os.pathsep) + os.fsencode(self.ctx.project_path)
        return env

    def _task_env(self) -> dict[str, str]:
        # `_env` belongs to the task itself (spec §1.4): it is read from local_config, so an
        # `_env` exported by a parent group never reaches here.
        declared = self.request.local_config.get("_env")
        if declared is None:
            return {}
        if not isinstance(declared, Mapping):
            raise ConfigError(f"_env must be a mapping of NAME: value, not {declared!r}")
        env: dict[str, str] = {}
        for name, value in declared.items():
            if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
                raise ConfigError(
                    f"Invalid _env name {name!r}: it must match [A-Za-z_][A-Za-z0-9_]*"
                )
            env[name] = render_secrets(_env_text(value), self.ctx.secrets)
        return env


def params_as_env(params: Mapping[str, Any]) -> dict[str, str]:
    """Every param with a valid variable name: strings as-is, others as compact JSON."""
    return {
        key: value if isinstance(value, str) else _json(value)
        for key, value in params.items()
        if isinstance(key, str) and _env_name(key)
    }


def _env_name(key: str) -> bool:
    """``ENV_NAME.fullmatch(key)``, faster: an ASCII identifier is exactly that pattern."""
    return key.isascii() and key.isidentifier()


def _inherited() -> dict[bytes, bytes]:
    """A copy of this process's environment as bytes. ``os.environb`` copies item by item
    through Python code (~20 us per command); its backing dict is copied in C where the
    platform has it (CPython on POSIX)."""
    data = getattr(os.environb, "_data", None)
    return dict(data) if isinstance(data, dict) else dict(os.environb)


def _relative(path: str, start: str) -> str:
    """``os.path.relpath`` for the common case of a script below ``start`` (the project),
    without its normalising of both paths."""
    prefix = start if start.endswith(os.sep) else start + os.sep
    if path.startswith(prefix) and "/../" not in path and "/./" not in path:
        return path[len(prefix):]
    return os.path.relpath(path, start)


def _write_runner_script(directory: str, task_id: int, command: str) -> str:
    """A new private script (mode 0700: a ``shell:`` such as ``[bash, -c]`` may execute it
    as a program) holding ``command``, which may contain secrets."""
    text = (command if command.endswith("\n") else command + "\n").encode()
    for _ in range(100):
        name = os.path.join(directory, f"sh-{task_id}-{os.getpid()}-{next(_script_numbers)}.sh")
        try:
            fd = os.open(name, _SCRIPT_FLAGS, 0o700)
        except FileExistsError:  # left by a crashed process that had the same pid
            continue
        except FileNotFoundError:  # the first script of this project
            os.makedirs(directory, mode=0o700, exist_ok=True)
            continue
        try:
            os.fchmod(fd, 0o700)  # whatever the umask took away
            view = memoryview(text)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return name
    raise TaskFailed(f"Cannot create a runner script in {directory}")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _command(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise ConfigError("sh> needs a command, e.g. 'sh>: echo hello'")
    if isinstance(value, bool | int | float):
        return _json(value)
    raise ConfigError(f"sh> command must be a string, not a {type(value).__name__}")


def _shell(config: Mapping[str, Any]) -> tuple[str, ...]:
    """``shell`` from the task, else from the ``sh:`` map, else /bin/sh."""
    namespaced = config.get("sh")
    shell = config.get("shell")
    if shell is None and isinstance(namespaced, Mapping):
        shell = namespaced.get("shell")
    if shell is None or shell == []:
        return DEFAULT_SHELL
    if not isinstance(shell, list) or not all(isinstance(s, str) and s for s in shell):
        raise ConfigError(
            f"sh> option 'shell' must be a list of strings such as [\"/bin/bash\"], not {shell!r}"
        )
    return tuple(shell)


def _env_text(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    return _to_json(value)
