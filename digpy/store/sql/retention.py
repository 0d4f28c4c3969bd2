"""``digpy gc``: whole sessions go, never part of one, so a session's last attempt and its
uniqueness record stay consistent for as long as any attempt of it is kept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from digpy.store.base import RetentionRepo
from digpy.store.sql.schema import attempts, resuming_tasks, sessions, tasks


class SqlRetentionRepo(RetentionRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def delete_sessions_finished_before(self, cutoff: datetime, *, limit: int) -> list[int]:
        finished = sa.func.count(attempts.c.finished_at) == sa.func.count()
        old = (
            sa.select(attempts.c.session_id)
            .group_by(attempts.c.session_id)
            .having(finished, sa.func.max(attempts.c.finished_at) < cutoff)
            .order_by(attempts.c.session_id)
            .limit(limit)
        )
        session_ids = list(self.conn.execute(old).scalars())
        if not session_ids:
            return []
        attempt_ids = list(self.conn.execute(
            sa.select(attempts.c.id).where(attempts.c.session_id.in_(session_ids))
        ).scalars())
        self.conn.execute(tasks.delete().where(tasks.c.attempt_id.in_(attempt_ids)))
        self.conn.execute(
            resuming_tasks.delete().where(resuming_tasks.c.attempt_id.in_(attempt_ids)))
        self.conn.execute(attempts.delete().where(attempts.c.id.in_(attempt_ids)))
        self.conn.execute(sessions.delete().where(sessions.c.id.in_(session_ids)))
        return attempt_ids
