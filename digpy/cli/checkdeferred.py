"""Task trees the engine compiles only at run time, compiled now so `check` can warn.

Digdag compiles the ``sla:`` tasks when the SLA fires and the ``_do``/``_else_do`` bodies
of ``loop>``, ``for_each>``, ``if>``... when their operator runs, so a broken tree there is
not a load error in Digdag either. `check` still compiles them the same way and reports
unknown operators and definition errors as warnings instead of letting them surface at the
deadline or on the 40th iteration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from digpy.dsl.compiler import compile_subtasks
from digpy.dsl.model import Workflow, WorkflowTask
from digpy.errors import ConfigError

# Keys whose value an operator hands back as a generated task tree.
_BODIES = ("_do", "_else_do")


@dataclass(frozen=True, slots=True)
class Deferred:
    tasks: tuple[WorkflowTask, ...]
    warnings: tuple[dict[str, Any], ...]


def deferred_trees(workflow: Workflow) -> Deferred:
    """Every tree compiled at run time (nested bodies included), and one warning per tree
    that would not compile. Loops are not expanded: each body is compiled once."""
    tasks: list[WorkflowTask] = []
    warnings: list[dict[str, Any]] = []
    sla = workflow.sla
    if sla is not None and sla.tasks:
        _compile(workflow, dict(sla.tasks), "^sla", workflow.root, "when the SLA fires",
                 tasks, warnings)
    pending = list(workflow.tasks) + list(tasks)
    while pending:
        task = pending.pop()
        for key in _BODIES:
            body = task.config.get(key)
            if isinstance(body, Mapping):
                found = _compile(workflow, body, "^sub", task, f"when {task.full_name} runs",
                                 tasks, warnings)
                pending.extend(found)
    return Deferred(tasks=tuple(tasks), warnings=tuple(warnings))


def _compile(workflow: Workflow, config: Mapping[str, Any], name: str, parent: WorkflowTask,
             when: str, tasks: list[WorkflowTask],
             warnings: list[dict[str, Any]]) -> tuple[WorkflowTask, ...]:
    try:
        compiled = compile_subtasks(config, name=name, parent_full_name=parent.full_name)
    except ConfigError as error:
        subject = "the sla: tasks" if name == "^sla" else f"{parent.full_name}^sub"
        message = f"{subject} will fail {when}: {error.message}"
        where = error.location or parent.location
        prefix = f"{where}: " if where else f"{workflow.source}: "
        warnings.append({"file": where.file if where else workflow.source,
                         "line": where.line if where else None,
                         "message": message, "text": prefix + "warning: " + message})
        return ()
    tasks.extend(compiled)
    return compiled
