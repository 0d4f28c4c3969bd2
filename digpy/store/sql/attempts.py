"""Attempts (joined with their session) and the dynamic tasks they resume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from digpy.errors import Conflict, NotFound
from digpy.model.records import Attempt, NewAttempt, ResumingTask
from digpy.model.states import DONE, AttemptStatus, TaskFlags, Trigger
from digpy.store.base import AttemptRepo
from digpy.store.sql.schema import attempts, resuming_tasks, sessions, tasks
from digpy.store.sql.shared import output_from_json, output_json

_JOINED = sa.select(
    attempts,
    sessions.c.project_id,
    sessions.c.workflow_name,
    sessions.c.session_time,
    sessions.c.uuid.label("session_uuid"),
).join(sessions, sessions.c.id == attempts.c.session_id)


def _attempt(row: sa.Row[Any]) -> Attempt:
    return Attempt(
        id=row.id,
        session_id=row.session_id,
        project_id=row.project_id,
        workflow_name=row.workflow_name,
        session_time=row.session_time,
        session_uuid=row.session_uuid,
        name=row.name,
        index=row._mapping["index"],  # row.index is tuple.index
        params=row.params,
        status=AttemptStatus(row.status),
        trigger=Trigger(row.trigger),
        who=row.who,
        workflow_definition_id=row.workflow_definition_id,
        revision_name=row.revision_name,
        timezone=row.timezone,
        created_at=row.created_at,
        finished_at=row.finished_at,
        cancel_requested=bool(row.cancel_requested),
        task_limit=row.task_limit,
        result=row.result,
        error=row.error,
    )






class SqlAttemptRepo(AttemptRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def insert_attempt(self, new: NewAttempt) -> Attempt:
        if self.find_attempt(new.session_id, new.name) is not None:
            raise Conflict(f"session {new.session_id} already has an attempt named {new.name!r}")
        index = self.conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(attempts.c.index), 0)).where(
                attempts.c.session_id == new.session_id
            )
        ).scalar_one()
        values = {
            "session_id": new.session_id,
            "name": new.name,
            "index": index + 1,
            "params": dict(new.params),
            "status": AttemptStatus.RUNNING.value,
            "trigger": new.trigger.value,
            "who": new.who,
            "workflow_definition_id": new.workflow_definition_id,
            "revision_name": new.revision_name,
            "timezone": new.timezone,
            "created_at": new.created_at,
            "cancel_requested": False,
            "task_limit": new.task_limit,
        }
        try:
            key = self.conn.execute(attempts.insert().values(**values)).inserted_primary_key
        except sa.exc.IntegrityError as exc:  # a concurrent insert of the same name won
            raise Conflict(f"session {new.session_id} already has an attempt {new.name!r}") from exc
        assert key is not None
        attempt_id = int(key[0])
        self.conn.execute(
            sessions.update()
            .where(sessions.c.id == new.session_id)
            .values(last_attempt_id=attempt_id)
        )
        return self.get_attempt(attempt_id)

    def set_idempotency_key(self, attempt_id: int, key: str) -> None:
        try:
            self.conn.execute(attempts.update().where(attempts.c.id == attempt_id)
                              .values(idempotency_key=key))
        except sa.exc.IntegrityError as exc:  # a concurrent request with the key won
            raise Conflict(f"idempotency key {key!r} already started an attempt") from exc

    def find_by_idempotency_key(self, key: str) -> Attempt | None:
        row = self.conn.execute(_JOINED.where(attempts.c.idempotency_key == key)).first()
        return _attempt(row) if row else None

    def get_attempt(self, attempt_id: int) -> Attempt:
        row = self.conn.execute(_JOINED.where(attempts.c.id == attempt_id)).first()
        if row is None:
            raise NotFound(f"attempt {attempt_id} does not exist")
        return _attempt(row)

    def find_attempt(self, session_id: int, name: str) -> Attempt | None:
        row = self.conn.execute(
            _JOINED.where(attempts.c.session_id == session_id, attempts.c.name == name)
        ).first()
        return _attempt(row) if row else None

    def list_attempts(self, session_id: int) -> list[Attempt]:
        rows = self.conn.execute(
            _JOINED.where(attempts.c.session_id == session_id).order_by(attempts.c.index)
        )
        return [_attempt(r) for r in rows]

    def list_running_attempts(self, project_id: int | None = None) -> list[Attempt]:
        query = _JOINED.where(attempts.c.status == AttemptStatus.RUNNING.value)
        if project_id is not None:
            query = query.where(sessions.c.project_id == project_id)
        return [_attempt(r) for r in self.conn.execute(query.order_by(attempts.c.id))]

    def count_running_attempts(self) -> int:
        query = sa.select(sa.func.count()).select_from(attempts).where(
            attempts.c.status == AttemptStatus.RUNNING.value)
        return int(self.conn.execute(query).scalar_one())

    def finish_attempt(
        self,
        attempt_id: int,
        status: AttemptStatus,
        *,
        now: datetime,
        result: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        if status is AttemptStatus.RUNNING:
            raise ValueError("finish_attempt needs a final status")
        changed = self.conn.execute(
            attempts.update()
            .where(
                attempts.c.id == attempt_id,
                attempts.c.status == AttemptStatus.RUNNING.value,
            )
            .values(
                status=status.value,
                finished_at=now,
                result=dict(result) if result is not None else None,
                error=dict(error) if error is not None else None,
            )
        ).rowcount
        return bool(changed == 1)

    def request_cancel(self, attempt_id: int) -> bool:
        self.get_attempt(attempt_id)  # NotFound for an unknown id
        changed = self.conn.execute(
            attempts.update()
            .where(
                attempts.c.id == attempt_id,
                attempts.c.status == AttemptStatus.RUNNING.value,
                attempts.c.cancel_requested == sa.false(),
            )
            .values(cancel_requested=True)
        ).rowcount
        if changed != 1:
            return False
        self.conn.execute(
            tasks.update()
            .where(tasks.c.attempt_id == attempt_id, tasks.c.state.not_in([int(s) for s in DONE]))
            .values(flags=tasks.c.flags.bitwise_or(int(TaskFlags.CANCEL_REQUESTED)))
        )
        return True

    def put_resuming_tasks(self, attempt_id: int, items: Sequence[ResumingTask]) -> None:
        if not items:
            return
        self.conn.execute(
            resuming_tasks.insert(),
            [
                {
                    "attempt_id": attempt_id,
                    "full_name": t.full_name,
                    "parent_full_name": t.parent_full_name,
                    "upstream_full_names": list(t.upstream_full_names),
                    "is_group": t.is_group,
                    "operator": t.operator,
                    "config": dict(t.config),
                    "output": output_json(t.output),
                }
                for t in items
            ],
        )

    def list_resuming_tasks(self, attempt_id: int) -> list[ResumingTask]:
        rows = self.conn.execute(
            resuming_tasks.select()
            .where(resuming_tasks.c.attempt_id == attempt_id)
            .order_by(resuming_tasks.c.id)
        )
        return [
            ResumingTask(
                full_name=r.full_name,
                parent_full_name=r.parent_full_name,
                upstream_full_names=tuple(r.upstream_full_names),
                is_group=bool(r.is_group),
                operator=r.operator,
                config=r.config,
                output=output_from_json(r.output),
            )
            for r in rows
        ]
