"""Schedules and revision archives in SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digpy.errors import Conflict, NotFound
from digpy.model.schedules import NewSchedule, StoredSchedule
from digpy.store.base import ArchiveRepo, ScheduleRepo
from digpy.store.sql.schema import revision_archives, schedules
from digpy.store.sql.sessions import insert_ignoring_conflict


def _schedule(row: sa.Row[Any]) -> StoredSchedule:
    return StoredSchedule(
        id=row.id,
        project_id=row.project_id,
        workflow_name=row.workflow_name,
        workflow_definition_id=row.workflow_definition_id,
        next_run_time=row.next_run_time,
        next_schedule_time=row.next_schedule_time,
        last_session_time=row.last_session_time,
        disabled_at=row.disabled_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlScheduleRepo(ScheduleRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def insert_schedule(self, new: NewSchedule) -> StoredSchedule:
        if self.find_schedule(new.project_id, new.workflow_name) is not None:
            raise Conflict(f"workflow {new.workflow_name!r} already has a schedule")
        try:
            with self.conn.begin_nested():  # a savepoint: PostgreSQL keeps the transaction
                sid = self.conn.execute(
                    schedules.insert().values(
                        project_id=new.project_id,
                        workflow_name=new.workflow_name,
                        workflow_definition_id=new.workflow_definition_id,
                        next_run_time=new.next_run_time,
                        next_schedule_time=new.next_schedule_time,
                        created_at=new.created_at,
                        updated_at=new.created_at,
                    ).returning(schedules.c.id)
                ).scalar_one()
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"workflow {new.workflow_name!r} already has a schedule") from exc
        return self.get_schedule(sid)

    def get_schedule(self, schedule_id: int) -> StoredSchedule:
        row = self.conn.execute(schedules.select().where(schedules.c.id == schedule_id)).first()
        if row is None:
            raise NotFound(f"schedule {schedule_id} does not exist")
        return _schedule(row)

    def find_schedule(self, project_id: int, workflow_name: str) -> StoredSchedule | None:
        row = self.conn.execute(
            schedules.select().where(
                schedules.c.project_id == project_id,
                schedules.c.workflow_name == workflow_name,
            )
        ).first()
        return _schedule(row) if row else None

    def list_schedules(self, project_id: int | None = None) -> list[StoredSchedule]:
        query = schedules.select().order_by(schedules.c.id)
        if project_id is not None:
            query = query.where(schedules.c.project_id == project_id)
        return [_schedule(r) for r in self.conn.execute(query)]

    def repoint(
        self, schedule_id: int, *, workflow_definition_id: int, next_run_time: datetime,
        next_schedule_time: datetime, now: datetime,
    ) -> None:
        self.conn.execute(
            schedules.update()
            .where(schedules.c.id == schedule_id)
            .values(
                workflow_definition_id=workflow_definition_id,
                next_run_time=next_run_time,
                next_schedule_time=next_schedule_time,
                updated_at=now,
            )
        )

    def delete_schedules(self, project_id: int, *, keep: Sequence[str]) -> int:
        query = schedules.delete().where(schedules.c.project_id == project_id)
        if keep:
            query = query.where(schedules.c.workflow_name.not_in(list(keep)))
        return self.conn.execute(query).rowcount or 0

    def lock_due(self, now: datetime) -> StoredSchedule | None:
        # One row at a time, as Digdag does: locking several with FOR UPDATE risks deadlocks.
        query = (
            schedules.select()
            .where(schedules.c.next_run_time <= now, schedules.c.disabled_at.is_(None))
            .order_by(schedules.c.next_run_time, schedules.c.id)
            .limit(1)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        # SQLite: BEGIN IMMEDIATE already made this transaction the only writer.
        row = self.conn.execute(query).first()
        return _schedule(row) if row else None

    def advance(
        self, schedule_id: int, *, expected_next: datetime, next_run_time: datetime,
        next_schedule_time: datetime, last_session_time: datetime | None, now: datetime,
    ) -> bool:
        result = self.conn.execute(
            schedules.update()
            .where(
                schedules.c.id == schedule_id,
                schedules.c.next_schedule_time == expected_next,
            )
            .values(
                next_run_time=next_run_time,
                next_schedule_time=next_schedule_time,
                last_session_time=last_session_time,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    def next_due_time(self) -> datetime | None:
        query = (
            sa.select(schedules.c.next_run_time)
            .where(schedules.c.disabled_at.is_(None))
            .order_by(schedules.c.next_run_time)
            .limit(1)
        )
        value: datetime | None = self.conn.execute(query).scalar()
        return value

    def set_disabled(self, schedule_id: int, disabled_at: datetime | None, *,
                     now: datetime) -> bool:
        self.get_schedule(schedule_id)  # NotFound first, so False only means "no change"
        column = schedules.c.disabled_at
        before = column.is_(None) if disabled_at is not None else column.is_not(None)
        result = self.conn.execute(
            schedules.update()
            .where(schedules.c.id == schedule_id, before)
            .values(disabled_at=disabled_at, updated_at=now)
        )
        return result.rowcount == 1


class SqlArchiveRepo(ArchiveRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def put_archive(self, revision_id: int, *, hash: str, data: bytes) -> None:
        insert_ignoring_conflict(
            self.conn, revision_archives, {"revision_id": revision_id, "hash": hash, "data": data}
        )

    def get_archive(self, revision_id: int) -> bytes | None:
        data = self.conn.execute(
            sa.select(revision_archives.c.data).where(
                revision_archives.c.revision_id == revision_id
            )
        ).scalar()
        return bytes(data) if data is not None else None
