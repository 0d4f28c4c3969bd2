"""Upstream edges between the children of one group (Digdag ``WorkflowCompiler``).

Dependencies exist only between siblings, so each group is linked on its own:

- sequential (the default): each child waits for the previous non-background sibling, and
  for every ``_background`` sibling declared since then; background children wait for none;
- ``_parallel: true``: no edges, apart from ``_after: [+earlier, ...]``;
- ``_parallel: {limit: N}``: fixed batches of N in declaration order, every task of batch
  k waiting for every task of batch k-1 (not a sliding window), plus ``_after``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from digpy.dsl.directives import as_bool, parse_parallel, show
from digpy.dsl.model import WorkflowTask
from digpy.dsl.source import key_location, value_location
from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError, Location


@dataclass(slots=True)
class TaskNode:
    """A task while its tree is being built; frozen into a WorkflowTask at the end."""

    index: int
    name: str
    full_name: str
    parent_index: int | None
    is_group: bool
    operator: str | None
    config: Mapping[str, Any]
    location: Location | None
    # A dict keeps insertion order and makes re-adding an edge free (batches add many).
    upstreams: dict[int, None] = field(default_factory=dict)

    def depend_on(self, indexes: Sequence[int]) -> None:
        for index in indexes:
            self.upstreams[index] = None

    def freeze(self) -> WorkflowTask:
        return WorkflowTask(
            index=self.index, name=self.name, full_name=self.full_name,
            parent_index=self.parent_index, upstream_indexes=tuple(self.upstreams),
            is_group=self.is_group, operator=self.operator, config=self.config,
            location=self.location,
        )


def link_children(group: Mapping[str, Any], children: Sequence[TaskNode]) -> None:
    """Add the upstream edges that ``group``'s directives imply between ``children``."""
    parallel: bool | int = False
    if "_parallel" in group:
        parallel = parse_parallel(group["_parallel"], location=value_location(group, "_parallel"))
    if parallel is False:
        _link_sequential(children)
    elif parallel is True:
        _link_batches(children, len(children))
    else:
        _link_batches(children, parallel)


def _link_sequential(children: Sequence[TaskNode]) -> None:
    waiting_for: list[int] = []
    for child in children:
        if "_after" in child.config:
            raise ConfigError(
                'Setting "_after" option is invalid if its parent task doesn\'t have '
                '"_parallel: true" option (in a sequential group each task already waits '
                "for the one before it)",
                location=key_location(child.config, "_after"))
        if _is_background(child):
            waiting_for.append(child.index)
        else:
            child.depend_on(waiting_for)
            waiting_for = [child.index]


def _link_batches(children: Sequence[TaskNode], size: int) -> None:
    earlier: dict[str, int] = {}
    previous_batch: list[int] = []
    for start in range(0, len(children), max(size, 1)):
        batch = children[start:start + size]
        for child in batch:
            _reject_background(child)
            child.depend_on(_after_indexes(child, earlier))
            child.depend_on(previous_batch)
            earlier[child.name] = child.index
        previous_batch = [child.index for child in batch]


def _is_background(child: TaskNode) -> bool:
    return as_bool(child.config.get("_background"), key="_background", default=False,
                   location=value_location(child.config, "_background"))


def _reject_background(child: TaskNode) -> None:
    if _is_background(child):
        raise ConfigError(
            'Setting "_background: true" option is invalid (unnecessary) if its parent task '
            'has "_parallel: true" option',
            location=key_location(child.config, "_background"))


def _after_indexes(child: TaskNode, earlier: Mapping[str, int]) -> list[int]:
    value = child.config.get("_after")
    if value is None:
        return []
    where = value_location(child.config, "_after")
    if not isinstance(value, list | tuple):
        raise ConfigError(f"_after must be a list of earlier sibling tasks, e.g. _after: [+a],"
                          f" not {show(value)}", location=where)
    marks = getattr(value, "marks", None) or []
    indexes = []
    for i, item in enumerate(value):
        name = item if isinstance(item, str) else show(item)
        if name not in earlier:
            raise ConfigError(f"Dependency task '{name}' does not exist; _after can name only"
                              " siblings declared before this task",
                              location=marks[i].location() if i < len(marks) else where,
                              suggestions=did_you_mean(name, earlier))
        indexes.append(earlier[name])
    return indexes
