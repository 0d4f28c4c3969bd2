"""Pieces both SQL backends (SQLAlchemy and stdlib sqlite3) share: no SQL and no driver
here, only how new rows become records and how a task output is kept as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from digpy.model.records import NewTask, Task, TaskOutput

NO_OUTPUT = TaskOutput()


def resolve_new_task(attempt_id: int, task_id: int, new: NewTask, ids: Sequence[int]) -> Task:
    """The stored record of ``new`` once the batch's ids are known (``ids[i]`` is the id of
    the batch's i-th task, which ``parent_ref``/``upstream_refs`` point at)."""
    parent = new.parent_id if new.parent_ref is None else ids[new.parent_ref]
    upstreams = tuple(new.upstream_ids) + tuple(ids[r] for r in new.upstream_refs)
    out = new.output or NO_OUTPUT
    return Task(
        id=task_id,
        attempt_id=attempt_id,
        parent_id=parent,
        full_name=new.full_name,
        is_group=new.is_group,
        operator=new.operator,
        state=new.state,
        flags=new.flags,
        upstream_ids=upstreams,
        config=new.config,
        export_params=out.export_params,
        store_params=out.store_params,
        reset_keys=out.reset_keys,
        subtask_config=out.subtask_config,
        report=out.report,
        started_at=new.started_at,
        finished_at=new.finished_at,
    )


def output_json(output: TaskOutput) -> dict[str, Any]:
    return {
        "export_params": dict(output.export_params),
        "store_params": dict(output.store_params),
        "reset_keys": list(output.reset_keys),
        "subtask_config": output.subtask_config,
        "report": dict(output.report),
    }


def output_from_json(data: Mapping[str, Any]) -> TaskOutput:
    return TaskOutput(
        export_params=data.get("export_params") or {},
        store_params=data.get("store_params") or {},
        reset_keys=tuple(data.get("reset_keys") or ()),
        subtask_config=data.get("subtask_config"),
        report=data.get("report") or {},
    )
