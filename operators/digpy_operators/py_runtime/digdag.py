"""The ``digdag`` module that ``py>`` task code imports, as in Digdag's Python API::

    import digdag

    def step(table, **rest):
        digdag.env.store({"rows": {"count": 3}})     # visible to later tasks
        digdag.env.export({"table": table})          # visible to this task's children
        digdag.env.add_subtask(load, part=1)         # runs after this task, as ^sub+subtask0

``digdag.env`` is set up by the runner before the task's module is imported, so
``from digdag import env`` at module level works too. Standalone on purpose (stdlib only,
Python 3.7+): it runs inside whatever interpreter ``python:`` names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class Env:
    """What the task sees (``params``) and what it hands back (stores, exports, subtasks)."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = params if params is not None else {}
        self.subtask_config: dict[str, Any] = {}
        self.export_params: dict[str, Any] = {}
        self.store_params: dict[str, Any] = {}
        self.state_params: dict[str, Any] = {}
        self.subtask_index = 0

    def store(self, params: dict[str, Any] | None = None, **kwds: Any) -> None:
        """Keep values for every later task; nested maps are merged, not replaced."""
        _deep_merge(self.store_params, _as_json("store", params, kwds))

    def export(self, params: dict[str, Any] | None = None, **kwds: Any) -> None:
        """Set values for this task's subtasks (those added with ``add_subtask``)."""
        _deep_merge(self.export_params, _as_json("export", params, kwds))

    def set_state(self, params: dict[str, Any] | None = None, **kwds: Any) -> None:
        # Digdag accepts this and then ignores it (its runner never returns state); kept so
        # task code written for Digdag runs unchanged.
        _deep_merge(self.state_params, _as_json("set_state", params, kwds))

    def add_subtask(
        self, function: Callable[..., Any] | dict[str, Any] | None = None, **params: Any
    ) -> None:
        """Add ``+subtaskN`` under this task's ``^sub``: a function or method (it becomes a
        ``py>`` task calling it, with ``params`` as its params) or a task definition dict
        such as ``{"sh>": "echo hi"}``."""
        if function is None:
            config = dict(params)
        elif isinstance(function, dict):
            config = dict(function)
            config.update(params)
        else:
            config = dict(params)
            config["py>"] = _command_of(function)
        name = "+subtask" + str(self.subtask_index)
        self.subtask_config[name] = _as_json("add_subtask", config, {})
        self.subtask_index += 1


def _command_of(function: Callable[..., Any]) -> str:
    """``module.function`` or ``module.Class.method``: a name a new process can import."""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not module or not qualname:
        raise TypeError(f"add_subtask needs a function, a method or a dict, not {function!r}")
    if "<" in qualname or module == "__main__":
        # A lambda, a nested function or a __main__ function cannot be imported by name
        # in the subtask's own process.
        raise TypeError(
            "add_subtask needs a module-level function or a method of a module-level class; "
            f"{module}.{qualname} cannot be imported by name"
        )
    return f"{module}.{qualname}"


def _as_json(call: str, params: dict[str, Any] | None, kwds: dict[str, Any]) -> dict[str, Any]:
    """A JSON copy of ``params`` + ``kwds``: fails here, at the caller's line, instead of
    after the task when the result is written."""
    merged: dict[str, Any] = {}
    if params is not None:
        if not isinstance(params, dict):
            raise TypeError(f"digdag.env.{call} expects a dict, not {type(params).__name__}")
        merged.update(params)
    merged.update(kwds)
    try:
        copy: dict[str, Any] = json.loads(json.dumps(merged))
    except (TypeError, ValueError) as error:
        raise TypeError(f"Parameters must be serializable using JSON: {error}") from None
    return copy


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _deep_merge(current, value)
        else:
            target[key] = value


env = Env()
