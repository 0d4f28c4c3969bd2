"""Where a task runs and what it is handed: its working directory, its log file and its
secrets. The local facade wires the real implementations; tests pass their own."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from digpy.agent.builtins import BUILTIN_OPERATORS
from digpy.errors import ConfigError
from digpy.model.records import Task
from digpy.spi import SecretProvider, TaskRequest

SecretsFactory = Callable[[TaskRequest], SecretProvider]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+^@%&,\[\]{}-]")
MAX_FILE_NAME = 200


@functools.lru_cache(maxsize=64)
def _resolved(path: Path) -> Path:
    return path.resolve()


class LogFactory(Protocol):
    def path(self, task: Task) -> Path | None:
        """Where the task's log goes (stored on the task row when it is claimed)."""

    def open(self, task: Task) -> Any:
        """A TaskLog with ``close()`` for one run of the task (appends across retries)."""


def workdir_of(project_path: Path, workdir: str) -> Path:
    """``project / _workdir``; a ConfigError when it would leave the project."""
    root = _resolved(project_path)
    if not workdir:
        return root
    path = (root / workdir).resolve()
    if path != root and root not in path.parents:
        raise ConfigError(f"_workdir {workdir!r} is outside the project directory")
    return path


def log_file_name(full_name: str) -> str:
    """A file name for a task's log: the full name with unsafe characters replaced,
    shortened with a hash when very long."""
    safe = _UNSAFE.sub("_", full_name)
    if len(safe) > MAX_FILE_NAME:
        digest = hashlib.sha256(full_name.encode()).hexdigest()[:12]
        safe = safe[: MAX_FILE_NAME - 13] + "-" + digest
    return safe + ".log"


class FileLogs:
    """Task logs as files: ``<root>/<attempt id>/<task full name>.log``, masked by
    ``masker`` and echoed to ``echo`` (the console) when given."""

    def __init__(self, root: Path, masker: Any = None, echo: Callable[[str], None] | None = None
                 ) -> None:
        from digpy.secrets.masking import Masker

        self.root = root
        self.masker = masker if masker is not None else Masker()
        self.echo = echo

    def path(self, task: Task) -> Path:
        # One string join and one Path: ``/`` builds a Path per step (it runs per task).
        return Path(os.path.join(self.root, str(task.attempt_id), log_file_name(task.full_name)))

    def open(self, task: Task) -> Any:
        from digpy.agent.logs import TaskLogWriter

        path = Path(task.log_path) if task.log_path else self.path(task)
        return TaskLogWriter(path, self.masker, self.echo)


class NoSecrets:
    """A SecretProvider with no secrets."""

    def get(self, key: str) -> str | None:
        return None


def no_secrets(request: TaskRequest) -> SecretProvider:
    return NoSecrets()


def local_secrets(masker: Any, store: Any = None) -> SecretsFactory:
    """Secrets from the local secret store (``digpy secrets``), seen through each task's
    ``_secrets`` remapping; every value read is added to ``masker``."""
    backing: list[Any] = [store]

    def open_backing() -> Any:
        if backing[0] is None:
            from digpy.secrets.local import LocalSecretStore

            backing[0] = LocalSecretStore.default()
        return backing[0]

    def factory(request: TaskRequest) -> SecretProvider:
        return SecretsOnFirstUse(open_backing, request.config.get("_secrets"), masker)

    return factory


class SecretsOnFirstUse:
    """A task's ``SecretAccess``, built when the task first reads a secret. Most tasks
    never do, and the secret store imports ``cryptography`` (about 10 ms of every run's
    start-up otherwise). A bad ``_secrets`` is still refused before the task runs."""

    def __init__(self, open_backing: Callable[[], Any], remap: Any, masker: Any) -> None:
        if remap is not None and not isinstance(remap, Mapping):
            raise ConfigError(f"_secrets must be a mapping, not {type(remap).__name__}")
        self._open_backing = open_backing
        self._remap = remap
        self._masker = masker
        self._access: SecretProvider | None = None

    def get(self, key: str) -> str | None:
        if self._access is None:
            from digpy.secrets.access import SecretAccess

            self._access = SecretAccess(self._open_backing(), self._remap, self._masker)
        return self._access.get(key)


# -- the real collaborators, wired lazily (each import costs start-up time) ---------------


def open_local_store(project_path: Path) -> Any:
    from digpy.store.sql.local import open_local

    return open_local(project_path)


def schedule_times(schedule: Any, timezone: str) -> Any:
    """``last_/next_session_*`` come from the scheduler's own time math."""
    from digpy.scheduler.triggers import ScheduleTimes

    return ScheduleTimes(schedule, timezone)




def registry_resolver() -> Callable[[str], Any]:
    """Operator classes from the ``digpy.operators`` entry points, loading only the ones a
    run uses: ``OperatorRegistry.from_entry_points()`` imports every plugin module, and
    some (pg>, td>) pull in SQLAlchemy or sqlglot, which costs more than a whole small run.
    An unknown name goes through the full registry for its did-you-mean error."""
    cache: dict[str, Any] = {}

    def resolve(name: str) -> Any:
        key = name.removesuffix(">")
        if key not in cache:
            cache[key] = _load_operator(key)
        return cache[key]

    return resolve


def _load_operator(name: str) -> Any:
    builtin = BUILTIN_OPERATORS.get(name)
    if builtin is not None:
        return _load_builtin(name, builtin)
    from importlib.metadata import entry_points

    from digpy.agent.registry import ENTRY_POINT_GROUP, OperatorRegistry

    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    if len(found) == 1:
        registry = OperatorRegistry()
        registry.register(next(iter(found)).load())  # the registry's own checks
        return registry.get(name)
    return OperatorRegistry.from_entry_points().get(name)


def _load_builtin(name: str, target: str) -> Any:
    import importlib

    from digpy.spi import Operator

    module, _, attribute = target.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    if not (isinstance(cls, type) and issubclass(cls, Operator)) or cls.type != name:
        raise TypeError(f"built-in operator {target} is not an Operator of type {name!r}")
    return cls
