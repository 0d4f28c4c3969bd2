"""Storing a revision and bringing its schedules up to date in the same transaction
(Digdag ProjectControl.updateSchedules, spec §5.4).

Schedules are matched to workflows by name: a schedule that ran continues after its
``last_session_time`` with the new definition's slots (so it catches up); one that never ran
starts at the first slot from ``now`` (or from its pending due slot, so a push at the due
second does not lose it); new workflows get new schedules; removed ones lose theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digpy.dsl.model import Workflow
from digpy.engine.definitions import revision_hash, to_definition
from digpy.model.records import Project, Revision, WorkflowDefinition
from digpy.model.schedules import NewSchedule, StoredSchedule
from digpy.scheduler.triggers import ScheduleTimes, Slot
from digpy.store.base import Store, Tx


@dataclass(frozen=True, slots=True, kw_only=True)
class Pushed:
    project: Project
    revision: Revision
    definitions: Mapping[str, WorkflowDefinition]
    schedules: tuple[StoredSchedule, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    """A pushed project's tar.gz bytes and their sha256."""

    data: bytes
    hash: str


def store_revision(
    store: Store,
    *,
    name: str,
    path: str,
    workflows: Sequence[Workflow],
    now: datetime,
    revision_name: str | None = None,
    archive: Archive | None = None,
    default_params: Mapping[str, Any] | None = None,
) -> Pushed:
    """Store the project, a revision of ``workflows`` (idempotent by content; older
    revisions are kept), its archive, and its schedules, in one transaction."""
    new_defs = [to_definition(w) for w in workflows]
    digest = revision_hash(new_defs)
    with store.write() as tx:
        project = tx.projects.put_project(name, path, now=now)
        revision = tx.projects.put_revision(
            project.id, name=revision_name or digest[:12], hash=digest, workflows=new_defs,
            default_params=dict(default_params or {}), now=now,
        )
        if archive is not None:
            tx.archives.put_archive(revision.id, hash=archive.hash, data=archive.data)
        definitions = {d.name: d for d in tx.projects.list_definitions(revision.id)}
        rows = sync_schedules(tx, project.id, workflows, definitions, now=now)
    return Pushed(project=project, revision=revision, definitions=definitions,
                  schedules=tuple(rows))


def sync_schedules(
    tx: Tx,
    project_id: int,
    workflows: Sequence[Workflow],
    definitions: Mapping[str, WorkflowDefinition],
    *,
    now: datetime,
) -> list[StoredSchedule]:
    scheduled = [w for w in workflows if w.schedule is not None]
    tx.schedules.delete_schedules(project_id, keep=[w.name for w in scheduled])
    return [_sync_one(tx, project_id, w, definitions[w.name], now) for w in scheduled]


def _sync_one(
    tx: Tx, project_id: int, workflow: Workflow, definition: WorkflowDefinition, now: datetime
) -> StoredSchedule:
    assert workflow.schedule is not None
    times = ScheduleTimes(workflow.schedule, workflow.timezone)
    old = tx.schedules.find_schedule(project_id, workflow.name)
    if old is None:
        slot = times.first_slot(now)
        return tx.schedules.insert_schedule(NewSchedule(
            project_id=project_id, workflow_name=workflow.name,
            workflow_definition_id=definition.id, next_run_time=slot.run_time,
            next_schedule_time=slot.session_time, created_at=now,
        ))
    if old.last_session_time is not None:
        slot = times.advance(Slot(old.last_session_time, old.last_session_time))
    else:
        slot = times.first_slot(min(now, old.next_run_time))
    tx.schedules.repoint(
        old.id, workflow_definition_id=definition.id, next_run_time=slot.run_time,
        next_schedule_time=slot.session_time, now=now,
    )
    return tx.schedules.get_schedule(old.id)
