"""API secrets in SQL: one encrypted record per (project, key); the store never decrypts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from digpy.store.base import SecretRepo
from digpy.store.sql.schema import secrets


class SqlSecretRepo(SecretRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def list_keys(self, project_id: int) -> list[str]:
        rows = self.conn.execute(
            sa.select(secrets.c.key).where(secrets.c.project_id == project_id)
            .order_by(secrets.c.key)
        )
        return [r.key for r in rows]

    def get_record(self, project_id: int, key: str) -> bytes | None:
        row = self.conn.execute(
            sa.select(secrets.c.value).where(secrets.c.project_id == project_id,
                                             secrets.c.key == key)
        ).first()
        return bytes(row.value) if row is not None else None

    def put_record(self, project_id: int, key: str, record: bytes, *, now: datetime) -> None:
        changed = self.conn.execute(
            secrets.update().where(secrets.c.project_id == project_id, secrets.c.key == key)
            .values(value=record, updated_at=now)
        ).rowcount
        if not changed:
            self.conn.execute(secrets.insert().values(
                project_id=project_id, key=key, value=record, updated_at=now))

    def delete_record(self, project_id: int, key: str) -> bool:
        deleted = self.conn.execute(
            secrets.delete().where(secrets.c.project_id == project_id, secrets.c.key == key)
        ).rowcount
        return bool(deleted)
