"""Backfill rows: a stored, sequential run of a schedule's past slots (spec §5.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewBackfill:
    schedule_id: int
    project_id: int
    workflow_name: str
    workflow_definition_id: int  # the schedule's definition when the backfill was asked for
    attempt_name: str
    session_times: tuple[datetime, ...]  # oldest first
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBackfill:
    """One row of ``backfills``; ``finished_at`` is set once every slot has its attempt."""

    id: int
    schedule_id: int
    project_id: int
    workflow_name: str
    workflow_definition_id: int
    attempt_name: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillSlot:
    """One slot of a backfill; ``attempt_id`` is None until the slot's attempt started."""

    backfill_id: int
    position: int  # 0, 1, ... oldest first
    session_time: datetime
    attempt_id: int | None
