"""Schedule rows: the persisted state of one workflow's ``schedule:`` (spec §5.3, §8.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSchedule:
    project_id: int
    workflow_name: str
    workflow_definition_id: int
    next_run_time: datetime
    next_schedule_time: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSchedule:
    """One row of ``schedules``. ``next_schedule_time`` is the session time of the next slot,
    ``next_run_time`` when it fires; both are the 9999 sentinel once the schedule ended.
    ``last_session_time`` is the newest slot processed (None before the first)."""

    id: int
    project_id: int
    workflow_name: str
    workflow_definition_id: int
    next_run_time: datetime
    next_schedule_time: datetime
    last_session_time: datetime | None
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None
