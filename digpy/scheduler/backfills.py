"""Sequential backfill (spec §5.5): storing a backfill's slots and starting them one by one.

``plan_and_start`` checks every slot, stores the plan and starts the first slot's attempt;
``advance_backfills`` (the daemon, every loop round) starts a slot's attempt once the
previous slot's attempt is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digpy.dsl.model import Workflow
from digpy.errors import Conflict
from digpy.model.schedules import StoredSchedule
from digpy.scheduler.triggers import Slot
from digpy.store.base import Tx


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillPlan:
    """The slots of one backfill, oldest first. They run one after another: the daemon
    starts each slot's attempt when the previous one is done (``advance_backfills``)."""

    schedule_id: int
    workflow_name: str
    attempt_name: str
    session_times: tuple[datetime, ...]
    backfill_id: int | None  # None for a dry run
    first_attempt_id: int | None  # the first slot's attempt, started at once; None if dry run
    dry_run: bool


def plan_and_start(tx: Tx, row: StoredSchedule, workflow: Workflow, slots: Sequence[Slot], *,
                   attempt_name: str, dry_run: bool, now: datetime) -> BackfillPlan:
    """Reject a taken attempt name, then (unless ``dry_run``) store the plan and start the
    first slot."""
    for slot in slots:
        session = tx.sessions.find_session(row.project_id, row.workflow_name, slot.session_time)
        if session is not None and tx.attempts.find_attempt(session.id, attempt_name):
            raise Conflict(f"session {slot.session_time.isoformat()} of {row.workflow_name} "
                           f"already has an attempt named {attempt_name!r}")
    if not dry_run:
        raise NotImplementedError("stored backfills arrive with migration 0005")
    return BackfillPlan(schedule_id=row.id, workflow_name=row.workflow_name,
                        attempt_name=attempt_name,
                        session_times=tuple(s.session_time for s in slots),
                        backfill_id=None, first_attempt_id=None, dry_run=True)
