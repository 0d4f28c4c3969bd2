"""Turning compiled task trees into rows to insert: the attempt's static tree, generated
``^sub``/``^check``/``^error`` trees, resumed tasks, and a group retry's fresh copies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from digpy.dsl.model import WorkflowTask
from digpy.engine.graph import AttemptGraph
from digpy.engine.params import merge_into
from digpy.model.records import NewTask, ResumingTask, Task, TaskOutput
from digpy.model.states import TaskFlags, TaskState

INITIAL = TaskFlags.INITIAL_TASK
_DOLLAR = "${'$'}"  # a template expression that evaluates to one literal "$"


def compiled_rows(
    compiled: Sequence[WorkflowTask],
    *,
    parent_id: int | None = None,
    flags: TaskFlags = TaskFlags.NONE,
    offset: int = 0,
    head_upstream_refs: tuple[int, ...] = (),
) -> list[NewTask]:
    """Rows for one compiled tree placed at ``offset`` in a batch. The head (index 0) hangs
    under ``parent_id``; references inside the tree become batch references."""
    rows = []
    for task in compiled:
        head = task.parent_index is None
        rows.append(
            NewTask(
                full_name=task.full_name,
                is_group=task.is_group,
                operator=task.operator,
                config=task.config,
                flags=flags,
                parent_id=parent_id if head else None,
                parent_ref=None if head else offset + task.parent_index,  # type: ignore[operator]
                upstream_refs=head_upstream_refs
                if head
                else tuple(offset + u for u in task.upstream_indexes),
            )
        )
    return rows


def mark_resumed(rows: list[NewTask], outputs: Mapping[str, TaskOutput]) -> list[NewTask]:
    """Rows whose full name has a reusable output come in as SUCCESS with it."""
    return [
        replace(r, state=TaskState.SUCCESS, output=outputs[r.full_name])
        if r.full_name in outputs
        else r
        for r in rows
    ]


def attach_resuming(rows: list[NewTask], resuming: Sequence[ResumingTask]) -> list[NewTask]:
    """Append remembered dynamic tasks under rows that came in as SUCCESS (e.g. the ``^sub``
    of a resumed ``loop>``), so their stores stay visible; repeated until nothing is added."""
    by_parent: defaultdict[str, list[ResumingTask]] = defaultdict(list)
    for item in resuming:
        by_parent[item.parent_full_name].append(item)
    out = list(rows)
    position = {r.full_name: i for i, r in enumerate(out)}
    cursor = 0
    while cursor < len(out):
        row = out[cursor]
        if row.state is TaskState.SUCCESS:
            for item in by_parent.get(row.full_name, ()):
                if item.full_name in position:
                    continue
                position[item.full_name] = len(out)
                out.append(_resumed_row(item, cursor, position))
        cursor += 1
    return out


def _resumed_row(item: ResumingTask, parent_ref: int, position: Mapping[str, int]) -> NewTask:
    ups = tuple(position[n] for n in item.upstream_full_names if n in position)
    return NewTask(
        full_name=item.full_name,
        is_group=item.is_group,
        operator=item.operator,
        config=item.config,
        state=TaskState.SUCCESS,
        flags=INITIAL,
        parent_ref=parent_ref,
        upstream_refs=ups,
        output=item.output,
    )


def retry_copies(graph: AttemptGraph, group: Task) -> list[NewTask]:
    """Fresh BLOCKED copies of a group's initial descendants for a group retry (spec §3.8):
    newest rows only, leaving out ``^sub`` trees (their generators make them again) and
    ``^error``/``^check`` tasks (not initial)."""
    rows: list[NewTask] = []
    ref: dict[int, int] = {}

    def visit(parent: Task) -> None:
        for child in graph.child_tasks(parent.id, newest_only=True):
            if not child.flags & INITIAL or child.full_name.endswith("^sub"):
                continue
            ref[child.id] = len(rows)
            rows.append(_copy(child, group.id if parent is group else None, ref, parent))
            visit(child)

    visit(group)
    return rows


def _copy(task: Task, parent_id: int | None, ref: Mapping[int, int], parent: Task) -> NewTask:
    return NewTask(
        full_name=task.full_name,
        is_group=task.is_group,
        operator=task.operator,
        config=task.config,
        flags=INITIAL,
        parent_id=parent_id,
        parent_ref=None if parent_id is not None else ref[parent.id],
        upstream_refs=tuple(ref[u] for u in task.upstream_ids if u in ref),
    )


def resuming_of(tasks: Sequence[Task], names: frozenset[str]) -> list[ResumingTask]:
    """ResumingTask records for the named (dynamic) tasks of an earlier attempt."""
    by_id = {t.id: t for t in tasks}
    out = []
    for task in tasks:
        if task.full_name not in names or task.parent_id not in by_id:
            continue
        out.append(
            ResumingTask(
                full_name=task.full_name,
                parent_full_name=by_id[task.parent_id].full_name,
                upstream_full_names=tuple(
                    by_id[u].full_name for u in task.upstream_ids if u in by_id
                ),
                is_group=task.is_group,
                operator=task.operator,
                config=task.config,
                output=task.output,
            )
        )
    return out


def error_task_config(
    error_config: Mapping[str, Any], error: Mapping[str, Any], stores: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``_error`` tree with ``error`` (and a failed group's descendant stores) in its
    ``_export``. Every ``$`` in the record is written as the expression ``${'$'}``, so
    ``${...}`` text inside an error message (a template error names its expression) stays
    literal when the handler's params are evaluated, instead of failing the handler."""
    config = dict(error_config)
    export = dict(config.get("_export") or {})
    merge_into(export, stores)
    export["error"] = _escape_dollars(error)
    config["_export"] = export
    return config


def _escape_dollars(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("$", _DOLLAR) if "$" in value else value
    if isinstance(value, Mapping):
        return {k: _escape_dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_dollars(v) for v in value]
    return value
