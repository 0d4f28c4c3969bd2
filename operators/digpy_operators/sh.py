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
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from digpy.spi import ConfigError, Operator, TaskFailed, TaskResult
from digpy.spi.process import run_command
from digpy.spi.secret_template import render_secrets

DEFAULT_SHELL = ("/bin/sh",)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ShOperator(Operator):
    type: ClassVar[str] = "sh"
    retryable: ClassVar[bool] = True

    def run(self) -> TaskResult:
        config = self.request.config
        command = render_secrets(_command(config.get("_command")), self.ctx.secrets)
        argv_prefix = _shell(config)
        env = self._environment()
        script = self._write_runner_script(command)
        try:
            relative = os.path.relpath(script, self.ctx.workdir)
            code = run_command(
                self.ctx, [*argv_prefix, relative], env=env, cwd=self.ctx.workdir
            )
        finally:
            script.unlink(missing_ok=True)
        if code != 0:
            raise TaskFailed(f"Command failed with code {code}")
        return TaskResult.empty()

    def _environment(self) -> dict[str, str]:
        """The inherited environment, then params, then ``_env``, then PATH + project."""
        env = dict(os.environ)
        env.update(params_as_env(self.request.config))
        env.update(self._task_env())
        path = env.get("PATH") or os.defpath
        env["PATH"] = f"{path}{os.pathsep}{self.ctx.project_path}"
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

    def _write_runner_script(self, command: str) -> Path:
        tmp = self.ctx.project_path / ".digpy" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp: a fresh name and mode 0600 (the script may hold secrets); then 0700 so a
        # shell option such as `shell: [bash, -c]` can also execute it as a program.
        fd, name = tempfile.mkstemp(dir=tmp, prefix=f"sh-{self.request.task_id}-", suffix=".sh")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(command)
            if not command.endswith("\n"):
                f.write("\n")
        os.chmod(name, 0o700)
        return Path(name)


def params_as_env(params: Mapping[str, Any]) -> dict[str, str]:
    """Every param with a valid variable name: strings as-is, others as compact JSON."""
    return {
        key: value if isinstance(value, str) else _json(value)
        for key, value in params.items()
        if isinstance(key, str) and ENV_NAME.fullmatch(key)
    }


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
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
