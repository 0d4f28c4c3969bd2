"""call>: run another workflow file of the project inline, as this task's ``^sub``.

``call>: other`` (``.dig`` added if missing) is found relative to the caller's working
directory and must stay inside the project. The subtask config is the callee's body: its
top-level ``_export``, ``_error``, ``_check``, ``_retry`` and ``_parallel`` and its +tasks.
Its ``timezone``, ``schedule`` and ``sla`` are dropped: the caller's session and time zone
apply (Digdag ``CallOperatorFactory`` + ``WorkflowFile``).

A callee in a subdirectory gets ``_workdir`` (relative to the project root) in its
``_export``, so its relative paths (sh> scripts, td> queries, nested call>) resolve next
to it; a ``_workdir`` the callee exports itself is taken relative to that directory.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Mapping
from typing import Any

from digpy.spi import Operator, TaskResult
from digpy.spi.workflows import (
    find_workflow_file,
    load_workflow_config,
    str_option,
    workflow_resource_name,
)

# What a callee keeps besides _export and +tasks; timezone, schedule and sla are dropped.
KEPT_TOP_LEVEL_KEYS = ("_error", "_check", "_retry", "_parallel")


class CallOperator(Operator):
    type = "call"
    retryable = True  # Digdag's call> is a BaseOperator: operator-level _retry applies

    def run(self) -> TaskResult:
        name = str_option(self.request.config, "_command")
        root = self.ctx.project_path
        path = find_workflow_file(root, self.request.workdir, name)
        callee = load_workflow_config(path, project_root=root)
        directory = posixpath.dirname(workflow_resource_name(root, path))
        body = callee_body(callee, directory=directory, caller_workdir=self.request.workdir)
        return TaskResult(subtask_config=body)


def callee_body(callee: Mapping[str, Any], *, directory: str,
                caller_workdir: str = "") -> dict[str, Any]:
    """The subtask config for a called workflow whose file is in ``directory`` (relative to
    the project root, "" for the root)."""
    export = _export_with_workdir(callee.get("_export"), directory, caller_workdir)
    body: dict[str, Any] = {"_export": export} if export else {}
    for key in KEPT_TOP_LEVEL_KEYS:
        if key in callee:
            body[key] = copy.deepcopy(callee[key])
    for key, value in callee.items():
        if isinstance(key, str) and key.startswith("+"):
            body[key] = copy.deepcopy(value)
    return body


def _export_with_workdir(export: Any, directory: str, caller_workdir: str) -> Any:
    if export is not None and not isinstance(export, Mapping):
        return export  # not ours to judge: the compiler reports a malformed _export
    # A dict copy keeps a loaded ConfigMap's type and positions; other mappings become dicts.
    result = copy.deepcopy(export) if isinstance(export, dict) else dict(export or {})
    own = result.get("_workdir")
    if directory:
        # Digdag's setBaseWorkdir: the file's directory, prefixed to the callee's own one.
        result["_workdir"] = f"{directory}/{own}" if own else directory
    elif caller_workdir and not own:
        # A root-level file called from a subdirectory. Digdag sets nothing here, so the
        # callee would inherit the caller's _workdir and resolve its paths in the wrong
        # folder; digpy points it back at the project root.
        result["_workdir"] = ""
    return result
