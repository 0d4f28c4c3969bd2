"""The params a task sees (spec §2.1 merge order, §2.2 export/store visibility, §2.3
built-ins).

Layers, lowest first: system defaults, revision defaults, attempt params; then the walk of
exports and stores along the task tree; the task's own ``_export``; built-ins; and finally
the task's own keys. Merges are deep for mappings; scalars and lists are replaced. Nothing
here mutates a stored mapping: nested dicts are copied before they are merged into.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from digpy.engine.graph import AttemptGraph
from digpy.model.records import Task

# Keys of a task's own config that are not params: evaluated elsewhere or not at all.
NOT_LOCAL = frozenset({"_export", "_error", "_check"})


def merge_into(target: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overlay`` into ``target`` in place and return ``target``."""
    for key, value in overlay.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            target[key] = merge_into(dict(current), value)
        else:
            target[key] = value
    return target


def deep_merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in layers:
        merge_into(out, layer)
    return out


def delete_key(target: dict[str, Any], dotted: str) -> None:
    """Delete ``a.b.c`` from nested mappings (copying the path, never the stored original)."""
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, Mapping):
            return
        node[part] = dict(child)
        node = node[part]
    node.pop(parts[-1], None)


def static_export(task: Task) -> Mapping[str, Any]:
    export = task.config.get("_export")
    return export if isinstance(export, Mapping) else {}


def local_keys(task: Task) -> dict[str, Any]:
    return {k: v for k, v in task.config.items() if k not in NOT_LOCAL}


def apply_stores(params: dict[str, Any], task: Task) -> None:
    for key in task.reset_keys:
        delete_key(params, key)
    if task.store_params:
        merge_into(params, task.store_params)


def _apply_subtree_stores(graph: AttemptGraph, top: Task, params: dict[str, Any]) -> None:
    """``top`` then its descendants, pre-order in creation order, skipping subtrees that
    store nothing."""
    stack = [top]
    while stack:
        node = stack.pop()
        apply_stores(params, node)
        kids = graph.storing_children.get(node.id, ())
        stack.extend(graph.tasks[k] for k in reversed(kids))


def walk_params(graph: AttemptGraph, task: Task) -> dict[str, Any]:
    """Layers 4 and 5: exports of ancestors and stores of every earlier task (spec §2.2)."""
    params: dict[str, Any] = {}
    for node in [*graph.ancestors(task.id), task]:
        for sibling in graph.storing_upstreams(node.id):
            _apply_subtree_stores(graph, sibling, params)
        if node is not task:
            merge_into(params, static_export(node))
            merge_into(params, node.export_params)
            apply_stores(params, node)
    return merge_into(params, static_export(task))


def subtree_outputs(graph: AttemptGraph, task: Task) -> tuple[dict[str, Any], dict[str, Any]]:
    """(merged error records, merged store params) of every descendant, in creation order:
    what a failed group's ``^error`` sees (spec §3.7)."""
    errors: dict[str, Any] = {}
    stores: dict[str, Any] = {}
    for node in sorted(graph.descendants(task.id), key=lambda t: t.id):
        if node.error:
            merge_into(errors, node.error)
        apply_stores(stores, node)
    return errors, stores


@dataclass(frozen=True, kw_only=True)  # no slots: cached_property needs a __dict__
class AttemptScope:
    """What every task of one attempt shares: identity, time zone and the low layers."""

    project_id: int
    project_name: str
    project_path: Path
    workflow_name: str
    session_id: int
    session_uuid: str
    session_time: datetime
    attempt_id: int
    attempt_name: str
    timezone: str
    attempt_params: Mapping[str, Any] = field(default_factory=dict)
    default_params: Mapping[str, Any] = field(default_factory=dict)  # system + revision

    @cached_property
    def base(self) -> dict[str, Any]:
        """Layers 1-3, merged once per attempt."""
        return deep_merge(self.default_params, self.attempt_params)

    @cached_property
    def builtins(self) -> dict[str, Any]:
        """Layer 6 without ``task_name`` (spec §2.3), computed once per attempt."""
        from digpy.dsl.builtins import session_variables

        values = dict(session_variables(self.session_time, self.timezone))
        values.update(
            timezone=self.timezone,
            project_id=self.project_id,
            session_uuid=self.session_uuid,
            session_id=self.session_id,
            attempt_id=self.attempt_id,
            retry_attempt_name=self.attempt_name or None,
        )
        return values


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskParams:
    """The unevaluated inputs of one task run: ``params`` (layers 1-6) and ``local`` (7)."""

    params: dict[str, Any]
    local: dict[str, Any]

    @property
    def merged(self) -> dict[str, Any]:
        return merge_into(dict(self.params), self.local)


def task_params(scope: AttemptScope, graph: AttemptGraph, task: Task) -> TaskParams:
    params = dict(scope.base)
    merge_into(params, walk_params(graph, task))
    params.update(scope.builtins)  # built-ins replace whatever layers 1-5 said
    params["task_name"] = task.full_name
    return TaskParams(params=params, local=local_keys(task))
