"""Reusing results of earlier attempts.

- ``plan_resume``: what a retry copies in as SUCCESS (spec §6.3): ``failed`` reuses every
  successful task but the root; ``from`` reuses the tasks before one task; ``all`` nothing.
- ``LocalSelection``: local mode's replay of tasks that already succeeded in the session
  (spec §7.1), narrowed by ``start``/``goal``, plus the tasks ``goal``/``end`` skip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from digpy.dsl.model import Workflow
from digpy.engine.generate import resuming_of
from digpy.engine.graph import newest_by_name
from digpy.engine.outcomes import Succeeded
from digpy.engine.selection import Relations, match_task, static_name
from digpy.errors import ConfigError, Conflict
from digpy.model.records import ResumingTask, Task, TaskOutput
from digpy.model.states import TaskState

RESUME_MODES = ("failed", "all")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumePlan:
    """Outputs to copy into the new attempt, by full name (``rows``: every row of the old
    attempt, to name parents and upstreams of reused dynamic tasks)."""

    reuse: Mapping[str, Task] = field(default_factory=dict)
    rows: Sequence[Task] = ()

    def split(self, static_names: set[str]) -> tuple[dict[str, TaskOutput], list[ResumingTask]]:
        """(outputs of compiled tasks, dynamic tasks to insert when regenerated)."""
        static = {n: t.output for n, t in self.reuse.items() if n in static_names}
        dynamic_names = frozenset(n for n in self.reuse if n not in static_names)
        return static, resuming_of(self.rows, dynamic_names)


def plan_resume(
    old_tasks: Sequence[Task], *, resume: str | None = None, resume_from: str | None = None
) -> ResumePlan:
    """:raises ConfigError: a bad mode or pattern, or a reused task that did not succeed.
    :raises Conflict: ``failed`` on an attempt that succeeded (nothing would run)."""
    if resume is not None and resume_from is not None:
        raise ConfigError("Use either resume (failed/all) or resume_from, not both")
    if resume is not None and resume not in RESUME_MODES:
        raise ConfigError(f"Unknown resume mode {resume!r}: use 'failed' or 'all'")
    newest = newest_by_name(old_tasks)
    if resume == "failed":
        return _resume_failed(newest)
    if resume_from is not None:
        return _resume_from(newest, resume_from)
    return ResumePlan()


def _resume_failed(newest: Mapping[str, Task]) -> ResumePlan:
    roots = [t for t in newest.values() if t.parent_id is None]
    if roots and roots[0].state is TaskState.SUCCESS:
        raise Conflict("The attempt succeeded, so there are no failed tasks to resume")
    reuse = {
        n: t for n, t in newest.items() if t.state is TaskState.SUCCESS and t.parent_id is not None
    }
    return ResumePlan(reuse=reuse, rows=tuple(newest.values()))


def _resume_from(newest: Mapping[str, Task], pattern: str) -> ResumePlan:
    rows = sorted(newest.values(), key=lambda t: t.id)
    position = {t.id: i for i, t in enumerate(rows)}
    relations = Relations(
        [t.full_name for t in rows],
        [position.get(t.parent_id) if t.parent_id is not None else None for t in rows],
        [[position[u] for u in t.upstream_ids if u in position] for t in rows],
    )
    target = match_task(pattern, [t.full_name for t in rows if t.parent_id is not None])
    names = relations.before(target)
    failed = sorted(n for n in names if newest[n].state is not TaskState.SUCCESS)
    if failed:
        detail = ", ".join(f"{n} ({newest[n].state.label})" for n in failed)
        raise ConfigError(f"Resuming non-successful tasks is not allowed: {detail}")
    return ResumePlan(reuse={n: newest[n] for n in names}, rows=rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalSelection:
    """Which operator tasks local mode does not run: replayed from an earlier success, or
    skipped (success with an empty result)."""

    replay: Mapping[str, TaskOutput] = field(default_factory=dict)
    skip: frozenset[str] = frozenset()  # compiled task names; generated tasks below follow

    def decide(self, task: Task) -> Succeeded | None:
        if task.is_group:
            return None
        if static_name(task.full_name) in self.skip:
            return Succeeded(TaskOutput(), note="skipped")
        output = self.replay.get(task.full_name)
        return Succeeded(output, note="replayed") if output is not None else None


def local_selection(
    workflow: Workflow,
    previous: Sequence[Task],
    *,
    rerun: bool = False,
    start: str | None = None,
    goal: str | None = None,
    end: str | None = None,
) -> LocalSelection:
    """Spec §7.1: replay what succeeded before unless ``rerun``; ``start`` replays only
    tasks before it; ``goal`` runs its subtree, replays tasks before it and skips the rest;
    ``end`` skips it and everything after it. :raises ConfigError: a bad combination."""
    _check_combination(rerun=rerun, start=start, goal=goal, end=end)
    relations = Relations.of_workflow(workflow)
    names = [t.full_name for t in workflow.tasks[1:]]
    replay = {} if rerun else {t.full_name: t.output for t in previous if not t.is_group}
    eligible: set[str] | None = None
    skip: set[str] = set()
    if start is not None:
        eligible = relations.before(match_task(start, names))
    if goal is not None:
        target = match_task(goal, names)
        eligible = relations.before(target)
        skip = set(names) - eligible - relations.inside(target)
    if end is not None:
        skip = relations.after(match_task(end, names))
    if eligible is not None:
        replay = {n: o for n, o in replay.items() if static_name(n) in eligible}
    return LocalSelection(replay=replay, skip=frozenset(skip))


def _check_combination(*, rerun: bool, start: str | None, goal: str | None, end: str | None
                       ) -> None:
    pairs = [
        (start and goal, "start and goal"),
        (goal and end, "goal and end"),
        (rerun and start, "rerun and start"),
        (rerun and goal, "rerun and goal"),
    ]
    for clash, what in pairs:
        if clash:
            raise ConfigError(f"Options {what} cannot be used together")
