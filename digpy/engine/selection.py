"""Where a task sits relative to another in a compiled workflow: *before* it (upstream
siblings of it and of each ancestor, with their subtrees), *inside* it, or *after* it.
These sets drive ``resume_from`` (spec §6.3), ``--start/--goal/--end`` and ``+TASK``
(spec §7.1). Names are matched by suffix, as Digdag's task patterns are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from digpy.dsl.model import Workflow, WorkflowTask
from digpy.dsl.suggest import did_you_mean
from digpy.errors import ConfigError


def match_task(pattern: str, names: Iterable[str]) -> str:
    """The one full name ending with ``pattern`` (``+b`` or ``+a+b``).

    :raises ConfigError: no task or several tasks match."""
    text = pattern if pattern.startswith(("+", "^")) else "+" + pattern
    candidates = list(names)
    found = [n for n in candidates if n == text or n.endswith(text)]
    if len(found) == 1:
        return found[0]
    if not found:
        hints = did_you_mean(text, ["+" + n.rsplit("+", 1)[-1] for n in candidates])
        raise ConfigError(f"Task {text} does not exist", suggestions=hints)
    raise ConfigError(f"Task pattern {text} matches several tasks: {', '.join(sorted(found))}")


class Relations:
    """Before/inside/after sets over one task tree given as parent and upstream links."""

    def __init__(
        self,
        names: Sequence[str],
        parents: Sequence[int | None],
        upstreams: Sequence[Sequence[int]],
    ) -> None:
        self.names = list(names)
        self.parents = list(parents)
        self.upstreams = [list(u) for u in upstreams]
        self.children: dict[int, list[int]] = {}
        self.downstreams: dict[int, list[int]] = {}
        for i, parent in enumerate(self.parents):
            if parent is not None:
                self.children.setdefault(parent, []).append(i)
            for u in self.upstreams[i]:
                self.downstreams.setdefault(u, []).append(i)
        self.index = {name: i for i, name in enumerate(self.names)}

    @classmethod
    def of_workflow(cls, workflow: Workflow) -> Relations:
        return cls(
            [t.full_name for t in workflow.tasks],
            [t.parent_index for t in workflow.tasks],
            [t.upstream_indexes for t in workflow.tasks],
        )

    def chain(self, i: int) -> list[int]:
        """``i`` and its ancestors, ``i`` first."""
        out = [i]
        while self.parents[out[-1]] is not None:
            out.append(self.parents[out[-1]])  # type: ignore[arg-type]
        return out

    def subtree(self, i: int) -> set[int]:
        out, stack = set(), [i]
        while stack:
            node = stack.pop()
            out.add(node)
            stack.extend(self.children.get(node, ()))
        return out

    def _closure(self, i: int, edges: Mapping[int, Sequence[int]] | list[list[int]]) -> set[int]:
        seen: set[int] = set()
        stack = list(edges[i]) if isinstance(edges, list) else list(edges.get(i, ()))
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(edges[node] if isinstance(edges, list) else edges.get(node, ()))
        return seen

    def before(self, name: str) -> set[str]:
        """Upstream siblings of the task and of each ancestor, with their subtrees."""
        found: set[int] = set()
        for node in self.chain(self.index[name]):
            for sibling in self._closure(node, self.upstreams):
                found |= self.subtree(sibling)
        return {self.names[i] for i in found}

    def after(self, name: str) -> set[str]:
        """The task's subtree, plus downstream siblings of it and of each ancestor (with
        their subtrees)."""
        start = self.index[name]
        found = self.subtree(start)
        for node in self.chain(start):
            for sibling in self._closure(node, self.downstreams):
                found |= self.subtree(sibling)
        return {self.names[i] for i in found}

    def inside(self, name: str) -> set[str]:
        return {self.names[i] for i in self.subtree(self.index[name])}


def static_name(full_name: str) -> str:
    """The compiled task a (possibly generated) task belongs to: ``+wf+t^sub+x`` -> ``+wf+t``."""
    cut = full_name.find("^")
    return full_name if cut < 0 else full_name[:cut]


def only_subtree(workflow: Workflow, pattern: str) -> Workflow:
    """``digpy run wf +task``: the root plus that task's subtree, the task re-parented under
    the root without its upstreams (intermediate groups and their ``_export`` are dropped,
    as in Digdag)."""
    name = match_task(pattern, [t.full_name for t in workflow.tasks[1:]])
    top = workflow.task(name)
    keep = [workflow.root]
    keep += [t for t in workflow.tasks if t.index in _subtree_indexes(workflow, top.index)]
    renumber = {t.index: i for i, t in enumerate(keep)}
    tasks = [_renumbered(t, renumber, top.index) for t in keep]
    return replace(workflow, tasks=tuple(tasks))


def _subtree_indexes(workflow: Workflow, top: int) -> set[int]:
    rel = Relations.of_workflow(workflow)
    return rel.subtree(top)


def _renumbered(task: WorkflowTask, renumber: Mapping[int, int], top: int) -> WorkflowTask:
    if task.parent_index is None:
        return replace(task, index=0)
    parent = 0 if task.index == top else renumber[task.parent_index]
    ups = () if task.index == top else tuple(renumber[u] for u in task.upstream_indexes)
    return replace(task, index=renumber[task.index], parent_index=parent, upstream_indexes=ups)
