"""Entry script of a ``py>`` task: ``python runner.py COMMAND INPUT_JSON OUTPUT_JSON``.

Reads ``{"params": {...}, "sys_path": [...]}``, sets up ``digdag.env``, imports COMMAND
(``module.function``, ``module.Class.method`` or ``module.Class``, which runs its ``run``)
and calls it with arguments taken from the params by name, the way Digdag's runner.py does.
The result file gets ``subtask_config``, ``export_params``, ``store_params`` and, when the
call raised, ``error`` (``class``, ``message``, ``backtrace``); the traceback is also printed
to stderr, which the task log collects, and the exit code is then 1.

Standalone (stdlib only) and Python 3.7+, like ``digdag.py`` next to it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable
from types import ModuleType, TracebackType
from typing import Any

# Import digdag from this directory, then take the directory off the path (Python puts it
# first for a script), so that a task module called "runner" or "digdag" elsewhere cannot
# be shadowed by, or shadow, these files. Explicit, so it also works under -P/PYTHONSAFEPATH.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import digdag  # noqa: E402

sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

_BINDABLE = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def main(argv: list[str]) -> int:
    command, in_file, out_file = argv[1], argv[2], argv[3]
    with open(in_file, encoding="utf-8") as f:
        data = json.load(f)
    params: dict[str, Any] = data["params"]
    digdag.env = digdag.Env(params)
    for entry in data.get("sys_path", []):
        # Appended, as Digdag does: a project module never shadows the standard library.
        if entry not in sys.path:
            sys.path.append(entry)
    error = None
    try:
        call(command, params)
    except SystemExit as exc:
        # sys.exit() in task code; usually a module named like a stdlib one (tokenize.main).
        error = _error_record(
            "SystemExit",
            f"Python command {command} terminated with exit code {exc.code}. Possible cause: "
            "program intentionally/accidentally finished, or module name conflicted with the "
            "standard library",
            exc.__traceback__,
            exc,
        )
    except Exception as exc:
        error = _error_record(type(exc).__name__, str(exc), exc.__traceback__, exc)
    _write_output(out_file, error)
    if error is not None:
        sys.stdout.flush()
        sys.stderr.write(error["backtrace"])
        sys.stderr.flush()
        return 1
    return 0


def call(command: str, params: dict[str, Any]) -> Any:
    module, attributes = import_command(command)
    function = resolve(module, attributes, params)
    return function(**bind(function, params))


def import_command(command: str) -> tuple[ModuleType, list[str]]:
    """The longest importable module prefix of ``command`` and the attribute names after it.

    An import error raised *inside* a module (a missing dependency) is not taken for "this
    prefix is not a module": it propagates with its own message."""
    parts = command.split(".")
    missing: ModuleNotFoundError | None = None
    for end in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:end])
        try:
            return importlib.import_module(name), parts[end:]
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            missing = exc
    assert missing is not None  # the operator passes at least "module.attribute"
    raise missing


def resolve(module: ModuleType, attributes: list[str], params: dict[str, Any]) -> Any:
    """Walk ``Class.method`` / ``function``; a class on the way is instantiated with its
    ``__init__`` arguments from the params, and a class at the end runs its ``run``."""
    target: Any = module
    where = f"Module '{module.__name__}'"
    for index, attribute in enumerate(attributes):
        try:
            target = getattr(target, attribute)
        except AttributeError:
            raise AttributeError(f"{where} has no attribute '{attribute}'") from None
        where = f"'{_name(target)}'"
        last = index == len(attributes) - 1
        if inspect.isclass(target):
            cls, target = target, instantiate(target, params)
            if last:  # Digdag: `py>: module.Class` calls Class().run()
                if not hasattr(target, "run"):
                    raise AttributeError(f"Class '{_name(cls)}' has no method 'run' to call")
                target = target.run
    return target


def instantiate(cls: type, params: dict[str, Any]) -> Any:
    if cls.__init__ is object.__init__:  # type: ignore[misc]
        return cls()  # object.__init__ takes *args/**kwargs on paper but rejects them
    return cls(**bind(cls.__init__, params, skip_first=True))  # type: ignore[misc]


def bind(
    function: Callable[..., Any], params: dict[str, Any], skip_first: bool = False
) -> dict[str, Any]:
    """Arguments by name from ``params``: a missing required one is an error naming it,
    and a ``**kwargs`` parameter receives every param (Digdag's rule)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: call it bare
        return {}
    parameters = list(signature.parameters.values())[1 if skip_first else 0:]
    arguments: dict[str, Any] = {}
    takes_all = False
    for parameter in parameters:
        if parameter.kind == inspect.Parameter.VAR_KEYWORD:
            takes_all = True
        elif parameter.kind in _BINDABLE and parameter.name in params:
            arguments[parameter.name] = params[parameter.name]
        elif parameter.kind != inspect.Parameter.VAR_POSITIONAL and (
            parameter.default is inspect.Parameter.empty
        ):
            raise TypeError(
                f"Method '{_name(function)}' requires parameter '{parameter.name}' but not set"
            )
    return dict(params) if takes_all else arguments


def _name(value: Any) -> str:
    return str(getattr(value, "__qualname__", None) or getattr(value, "__name__", repr(value)))


def _error_record(
    cls: str, message: str, tb: TracebackType | None, exc: BaseException
) -> dict[str, str]:
    # Frames of this runner come first and mean nothing to the task's author: skip them.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    backtrace = "".join(traceback.format_exception(type(exc), exc, tb))
    return {"class": cls, "message": message, "backtrace": backtrace}


def _write_output(path: str, error: dict[str, str] | None) -> None:
    env = digdag.env
    out: dict[str, Any] = {
        "subtask_config": env.subtask_config,
        "export_params": env.export_params,
        "store_params": env.store_params,
    }
    if error is not None:
        out["error"] = error
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
