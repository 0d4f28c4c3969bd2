"""What control-flow operators need beyond ``OperatorContext``: reading option values with
Digdag's coercions, building generated task trees, reading other ``.dig`` files of the
project (``call>``) and starting or watching other sessions (``require>``).

Operators import only ``digpy.spi``; this module is where the spi may reach into
``digpy.dsl`` (lazily, so importing the spi stays cheap) and where the engine plugs in the
one service it must provide, a ``SessionControl`` (see ``set_session_control``).
"""

from __future__ import annotations

import contextvars
import copy
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from digpy.errors import ConfigError, DigpyError, TaskFailed

WORKFLOW_SUFFIX = ".dig"

# A sanity ceiling, not the task limit. The engine enforces the real per-attempt limit
# (1000 by default, configurable) when it compiles ^sub; this only stops `loop>: 1e9` from
# building a billion dicts before the engine gets to say no.
MAX_GENERATED_TASKS = 100_000

# Digdag's WorkflowFile: every other top-level key of a workflow file is an error.
WORKFLOW_TOP_LEVEL_KEYS = ("timezone", "_export", "schedule", "sla", "_error", "_check",
                           "_retry", "_parallel")

_SKIPPED_DIRS = frozenset({".digpy", ".digdag", ".git", "__pycache__", "node_modules"})
_MAX_SUGGESTION_SCAN = 2000  # .dig files looked at for a did-you-mean


# --- option values ---------------------------------------------------------------------------


def describe(value: Any, limit: int = 80) -> str:
    """A short JSON rendering of an option value for error messages."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def require_key(config: Mapping[str, Any], key: str, *, hint: str = "") -> Any:
    """``config[key]``; a ConfigError naming the key (and ``hint``) when it is missing."""
    if key not in config or config[key] is None:
        raise ConfigError(f"Parameter '{key}' is required but not set{hint}")
    return config[key]


def bool_option(config: Mapping[str, Any], key: str, default: bool | None = None, *,
                what: str | None = None) -> bool:
    """``config[key]`` read as a boolean the way Digdag reads one: true/false, the strings
    "true"/"false" (what ``${...}`` produces; also True/TRUE, and "" or "null" for false),
    integers (0 is false). Required unless ``default`` is given."""
    from digpy.dsl.directives import as_bool

    if default is None:
        require_key(config, key)
    return as_bool(config.get(key), key=what or f"Parameter '{key}'", default=bool(default),
                   location=None)


def int_option(config: Mapping[str, Any], key: str, *, what: str | None = None) -> int:
    """``config[key]`` read as an integer: ints, decimal strings such as ``"3"`` (what
    ``${...}`` produces) and floats (truncated, as Digdag's Jackson does)."""
    from digpy.dsl.directives import as_int

    return as_int(require_key(config, key), what=what or f"Parameter '{key}'", location=None)


def str_option(config: Mapping[str, Any], key: str) -> str:
    """``config[key]`` as text; numbers are written as JSON writes them."""
    value = require_key(config, key)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    raise ConfigError(f"Parameter '{key}' must be a string, not {describe(value)}")


def mapping_option(config: Mapping[str, Any], key: str, *,
                   required: bool = True) -> Mapping[str, Any]:
    """``config[key]`` as a mapping; a JSON object string is parsed (Digdag ``parseNested``).
    A missing key is an error when ``required``, else an empty mapping."""
    if key not in config or config[key] is None:
        if required:
            require_key(config, key)
        return {}
    value = _parse_json_text(config[key], key, "an object")
    if not isinstance(value, Mapping):
        raise ConfigError(f"Parameter '{key}' must be an object, not {describe(value)}")
    return value


def list_option(config: Mapping[str, Any], key: str) -> list[Any]:
    """``config[key]`` as a list; a JSON array string is parsed (Digdag ``parseList``)."""
    value = _parse_json_text(require_key(config, key), key, "an array")
    if not isinstance(value, list | tuple):
        raise ConfigError(f"Parameter '{key}' must be an array (a list, or a JSON array"
                          f" string), not {describe(value)}")
    return list(value)


def _parse_json_text(value: Any, key: str, expected: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ConfigError(f"Parameter '{key}' must be {expected} (or JSON text of one),"
                          f" not {describe(value)}") from None


# --- generated task trees --------------------------------------------------------------------


def subtask_template(config: Mapping[str, Any], key: str = "_do", *,
                     required: bool = True) -> Mapping[str, Any]:
    """The task definition under ``key`` (``_do``/``_else_do``), left raw: its ``${...}`` is
    evaluated by the generated tasks, not here."""
    if key not in config or config[key] is None:
        if required:
            raise ConfigError(f"Parameter '{key}' is required but not set: give the tasks to"
                              f" generate, e.g. {key}: {{echo>: ...}}")
        return {}
    value = config[key]
    if not isinstance(value, Mapping):
        raise ConfigError(f"Parameter '{key}' must be an object (an operator or +tasks),"
                          f" not {describe(value)}")
    return value


def with_export(template: Mapping[str, Any], export: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``template`` whose ``_export`` also holds ``export`` (which wins).

    The copy keeps the template's key order and, for loaded configs, its source positions,
    so a broken ``_do`` is reported where it was written."""
    subtask = copy.deepcopy(template if isinstance(template, dict) else dict(template))
    current = subtask.get("_export")
    if current is None:
        subtask["_export"] = dict(export)
    elif isinstance(current, dict):
        current.update(export)
    elif isinstance(current, Mapping):
        subtask["_export"] = {**current, **export}
    else:
        raise ConfigError(f"Parameter '_export' in _do must be an object, not"
                          f" {describe(current)}")
    return subtask


def generated_tasks(tasks: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The subtask config for ``tasks``, carrying the generating task's ``_parallel`` as
    Digdag does (after the tasks); None when there is nothing to run."""
    if not tasks:
        return None
    generated = dict(tasks)
    if config.get("_parallel") is not None:
        generated["_parallel"] = copy.deepcopy(config["_parallel"])
    return generated


def check_generated_count(count: int, what: str) -> None:
    if count > MAX_GENERATED_TASKS:
        raise ConfigError(f"Too many {what} subtasks: {count} (the limit is"
                          f" {MAX_GENERATED_TASKS}; an attempt may hold far fewer tasks)")


# --- workflow files (call>) ------------------------------------------------------------------


def resolve_in_project(project_root: Path, workdir: str | Path, relative: str | Path) -> Path:
    """``project_root / workdir / relative``, normalised; a ConfigError when the result (or
    what its symlinks point at) lies outside the project."""
    root = Path(os.path.normpath(Path(project_root).absolute()))
    path = Path(os.path.normpath(root / workdir / relative))
    if not _inside(path, root) or not _inside(path.resolve(), root.resolve()):
        raise ConfigError(f"Path '{relative}' leaves the project directory {root};"
                          " files must stay inside the project")
    return path


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def find_workflow_file(project_root: Path, workdir: str | Path, name: str) -> Path:
    """The ``.dig`` file ``name`` (``.dig`` added if missing) relative to ``workdir``.

    A missing file is a ConfigError suggesting the closest ``.dig`` files of the project."""
    if not name.endswith(WORKFLOW_SUFFIX):
        name += WORKFLOW_SUFFIX
    path = resolve_in_project(project_root, workdir, name)
    if not path.is_file():
        raise ConfigError(f"Workflow file '{name}' does not exist (looked for {path})",
                          suggestions=_nearby_workflows(project_root, workdir, name))
    return path


def _nearby_workflows(project_root: Path, workdir: str | Path, name: str) -> list[str]:
    from digpy.dsl.suggest import did_you_mean

    base = Path(project_root) / workdir
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(project_root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        found.extend(os.path.relpath(Path(dirpath) / f, base).replace(os.sep, "/")
                     for f in sorted(filenames) if f.endswith(WORKFLOW_SUFFIX))
        if len(found) >= _MAX_SUGGESTION_SCAN:
            break
    by_name = did_you_mean(name, found)
    if by_name:
        return by_name
    # A right file name in the wrong folder: match on the base name alone.
    wanted = PurePosixPath(name).name
    return [f for f in found if PurePosixPath(f).name == wanted][:3]


def workflow_resource_name(project_root: Path, path: Path) -> str:
    """``sub/child`` for ``<project>/sub/child.dig``: the name Digdag gives a workflow file."""
    relative = os.path.relpath(path, Path(project_root).absolute()).replace(os.sep, "/")
    return relative[: -len(WORKFLOW_SUFFIX)] if relative.endswith(WORKFLOW_SUFFIX) else relative


def load_workflow_config(path: Path, *, project_root: Path) -> dict[str, Any]:
    """The top-level mapping of the workflow file at ``path`` (strict YAML, ``!include``
    confined to the project), raw: nothing is evaluated. A top-level key a workflow file may
    not have is a ConfigError, as when Digdag loads the file."""
    from digpy.dsl.loader import load_file
    from digpy.dsl.source import key_location
    from digpy.dsl.suggest import did_you_mean

    config = load_file(path, project_root=project_root)
    unknown = [str(k) for k in config
               if not (isinstance(k, str) and (k.startswith("+") or k in WORKFLOW_TOP_LEVEL_KEYS))]
    if unknown:
        name = workflow_resource_name(project_root, path)
        raise ConfigError(f"Workflow '{name}' includes unknown keys: "
                          + ", ".join(repr(k) for k in unknown),
                          location=key_location(config, unknown[0]),
                          suggestions=did_you_mean(unknown[0], WORKFLOW_TOP_LEVEL_KEYS))
    return config


# --- sessions (require>) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRequest:
    """Start (or find) the session (project, ``workflow``, ``session_time``).

    Exactly one of ``project_id``/``project_name`` is set. ``retry_attempt_name`` None means
    "the session's attempts, whichever is latest"; a name means "the attempt with this
    name": require> uses a fresh name to force a new attempt of a finished session."""

    project_id: int | None
    project_name: str | None
    workflow: str
    session_time: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    retry_attempt_name: str | None = None
    requested_by_attempt_id: int | None = None  # the attempt whose require> asks (for logs)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptStatus:
    session_id: int
    attempt_id: int
    done: bool
    success: bool  # meaningful only when done
    started: bool = False  # True when this very call created the attempt


class SessionControl(Protocol):
    """What require> needs from the engine. The engine implements it over its store and
    registers it with ``set_session_control`` (or ``using_session_control``)."""

    def find_or_start(self, request: SessionRequest) -> AttemptStatus:
        """Return the attempt that answers ``request``, starting one if needed.

        - ``retry_attempt_name`` None: if the session exists, its latest attempt
          (``started=False``); otherwise start the session's first attempt with
          ``request.params`` as session params (``started=True``).
        - a name: the attempt with that name if it exists; else, if the session's latest
          attempt is still running, that one; else start a new attempt of the session with
          that name (``started=True``).

        Must be idempotent under concurrent callers (the store's unique session key).
        :raises LookupError: the project or workflow does not exist (``digpy.errors.NotFound``
            is one).
        :raises TooManyAttempts: the site's running-attempt limit is reached; require> then
            tries again in ten minutes.
        """
        ...


class TooManyAttempts(DigpyError):
    """Raised by a ``SessionControl`` when no attempt may be started right now."""


_default_control: SessionControl | None = None
_scoped_control: contextvars.ContextVar[SessionControl | None] = contextvars.ContextVar(
    "digpy_session_control", default=None)


def set_session_control(control: SessionControl | None) -> SessionControl | None:
    """Register the process-wide ``SessionControl`` (the engine does this once when it
    starts); returns the previous one so a caller can put it back."""
    global _default_control
    previous, _default_control = _default_control, control
    return previous


@contextmanager
def using_session_control(control: SessionControl) -> Iterator[None]:
    """Use ``control`` for operators run in this thread/context (overrides the process-wide
    one); for runners that host several engines in one process, and for tests."""
    token = _scoped_control.set(control)
    try:
        yield
    finally:
        _scoped_control.reset(token)


def session_control() -> SessionControl:
    """The ``SessionControl`` in effect; TaskFailed when the engine registered none."""
    control = _scoped_control.get() or _default_control
    if control is None:
        raise TaskFailed("require> needs the engine's session control, and none is"
                         " registered (digpy.spi.workflows.set_session_control)")
    return control
