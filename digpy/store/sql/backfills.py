"""Backfills in SQL: a backfill row, its slots, and the attempt each slot started."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digpy.model.backfills import BackfillSlot, NewBackfill, StoredBackfill
from digpy.store.base import BackfillRepo
from digpy.store.sql.schema import backfill_slots, backfills, sessions


def _backfill(row: sa.Row[Any]) -> StoredBackfill:
    return StoredBackfill(
        id=row.id, schedule_id=row.schedule_id, project_id=row.project_id,
        workflow_name=row.workflow_name, workflow_definition_id=row.workflow_definition_id,
        attempt_name=row.attempt_name, created_at=row.created_at, finished_at=row.finished_at,
    )


class SqlBackfillRepo(BackfillRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def insert_backfill(self, new: NewBackfill) -> StoredBackfill:
        backfill_id = self.conn.execute(
            backfills.insert().values(
                schedule_id=new.schedule_id, project_id=new.project_id,
                workflow_name=new.workflow_name,
                workflow_definition_id=new.workflow_definition_id,
                attempt_name=new.attempt_name, created_at=new.created_at,
            ).returning(backfills.c.id)
        ).scalar_one()
        if new.session_times:
            self.conn.execute(backfill_slots.insert(), [
                {"backfill_id": backfill_id, "position": i, "session_time": t}
                for i, t in enumerate(new.session_times)
            ])
        return self._get(backfill_id)

    def list_unfinished(self) -> list[int]:
        query = (sa.select(backfills.c.id).where(backfills.c.finished_at.is_(None))
                 .order_by(backfills.c.id))
        return [int(i) for i in self.conn.execute(query).scalars()]

    def lock_unfinished(self, backfill_id: int) -> StoredBackfill | None:
        query = backfills.select().where(
            backfills.c.id == backfill_id, backfills.c.finished_at.is_(None))
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = self.conn.execute(query).first()
        return _backfill(row) if row else None

    def list_slots(self, backfill_id: int) -> list[BackfillSlot]:
        query = (backfill_slots.select().where(backfill_slots.c.backfill_id == backfill_id)
                 .order_by(backfill_slots.c.position))
        return [BackfillSlot(backfill_id=r.backfill_id, position=r.position,
                             session_time=r.session_time, attempt_id=r.attempt_id)
                for r in self.conn.execute(query)]

    def set_slot_attempt(self, backfill_id: int, position: int, attempt_id: int) -> bool:
        result = self.conn.execute(
            backfill_slots.update()
            .where(backfill_slots.c.backfill_id == backfill_id,
                   backfill_slots.c.position == position,
                   backfill_slots.c.attempt_id.is_(None))
            .values(attempt_id=attempt_id)
        )
        return result.rowcount == 1

    def finish_backfill(self, backfill_id: int, *, now: datetime) -> bool:
        result = self.conn.execute(
            backfills.update()
            .where(backfills.c.id == backfill_id, backfills.c.finished_at.is_(None))
            .values(finished_at=now)
        )
        return result.rowcount == 1

    def latest_session_before(self, project_id: int, workflow_name: str,
                              before: datetime) -> datetime | None:
        query = (
            sa.select(sessions.c.session_time)
            .where(sessions.c.project_id == project_id,
                   sessions.c.workflow_name == workflow_name,
                   sessions.c.session_time < before)
            .order_by(sessions.c.session_time.desc())
            .limit(1)
        )
        value: datetime | None = self.conn.execute(query).scalar()
        return value

    def _get(self, backfill_id: int) -> StoredBackfill:
        row = self.conn.execute(backfills.select().where(backfills.c.id == backfill_id)).one()
        return _backfill(row)

