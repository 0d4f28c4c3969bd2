"""Daemons and their leases on running attempts (``store.base.LeaseRepo``).

Lease times are computed by the database (``statement_timestamp()`` on PostgreSQL,
``julianday('now')`` on SQLite), so daemons whose clocks are skewed still agree on expiry.
The same statements serve both backends: ``FOR UPDATE [SKIP LOCKED]`` is a no-op on SQLite,
where ``BEGIN IMMEDIATE`` already serializes writers and one daemon runs per file.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from digpy.model.leases import DaemonRow, Lease
from digpy.model.states import AttemptStatus
from digpy.store.base import LeaseLost, LeaseRepo
from digpy.store.sql.schema import attempts, daemons

_RUNNING = AttemptStatus.RUNNING.value


def _db_now_ms(dialect: str) -> sa.ColumnElement[int]:
    """The database's current time in epoch milliseconds (the column type of every time)."""
    if dialect == "postgresql":
        # statement_timestamp(), not now(): now() is frozen at the transaction's start.
        epoch = sa.func.extract("epoch", sa.func.statement_timestamp())
        return sa.cast(epoch * 1000, sa.BigInteger)
    return sa.cast((sa.func.julianday("now") - 2440587.5) * 86400000.0, sa.BigInteger)


def _lease(row: Any, taken_from: str | None = None) -> Lease:
    return Lease(
        attempt_id=row.id,
        daemon_id=row.locked_by,
        epoch=row.lease_epoch,
        expires_at=row.lock_expires_at,
        taken_from=taken_from,
    )


_LEASE_COLUMNS = (attempts.c.id, attempts.c.locked_by, attempts.c.lease_epoch,
                  attempts.c.lock_expires_at)


class SqlLeaseRepo(LeaseRepo):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self._now = _db_now_ms(conn.dialect.name)

    def register_daemon(self, daemon_id: str, *, host: str, pid: int) -> DaemonRow:
        self.conn.execute(daemons.delete().where(daemons.c.id == daemon_id))
        self.conn.execute(daemons.insert().from_select(
            ["id", "host", "pid", "started_at", "heartbeat_at"],
            sa.select(sa.literal(daemon_id), sa.literal(host), sa.literal(pid),
                      self._now, self._now),
        ))
        return next(d for d in self.list_daemons() if d.id == daemon_id)

    def heartbeat(self, daemon_id: str, *, lease_seconds: float) -> list[Lease]:
        self.conn.execute(
            daemons.update().where(daemons.c.id == daemon_id)
            .values(heartbeat_at=self._now)
        )
        mine = sa.and_(attempts.c.locked_by == daemon_id, attempts.c.status == _RUNNING)
        self.conn.execute(
            attempts.update().where(mine)
            .values(lock_expires_at=self._expiry(lease_seconds))
        )
        rows = self.conn.execute(sa.select(*_LEASE_COLUMNS).where(mine).order_by(attempts.c.id))
        return [_lease(r) for r in rows]

    def claim_attempts(self, daemon_id: str, *, limit: int, lease_seconds: float,
                       attempt_id: int | None = None) -> list[Lease]:
        if limit <= 0:
            return []
        free = sa.or_(attempts.c.locked_by.is_(None),
                      attempts.c.lock_expires_at <= self._now)
        query = (
            sa.select(attempts.c.id, attempts.c.locked_by)
            .where(attempts.c.status == _RUNNING, free)
            .order_by(attempts.c.id).limit(limit)
            .with_for_update(skip_locked=True)
        )
        if attempt_id is not None:
            query = query.where(attempts.c.id == attempt_id)
        previous = {r.id: r.locked_by for r in self.conn.execute(query)}
        if not previous:
            return []
        self.conn.execute(
            attempts.update().where(attempts.c.id.in_(previous))
            .values(locked_by=daemon_id, lease_epoch=attempts.c.lease_epoch + 1,
                    lock_expires_at=self._expiry(lease_seconds))
        )
        rows = self.conn.execute(
            sa.select(*_LEASE_COLUMNS).where(attempts.c.id.in_(previous))
            .order_by(attempts.c.id)
        )
        return [_lease(r, previous[r.id]) for r in rows]

    def check_lease(self, lease: Lease) -> None:
        row = self.conn.execute(
            sa.select(attempts.c.locked_by, attempts.c.lease_epoch)
            .where(attempts.c.id == lease.attempt_id)
            .with_for_update()
        ).first()
        # The token, not the clock, fences: a lease that expired but that nobody claimed is
        # still this daemon's (its next heartbeat extends it), while any claim bumps the epoch.
        if row is None or row.locked_by != lease.daemon_id or row.lease_epoch != lease.epoch:
            raise LeaseLost(lease, row.locked_by if row is not None else None)

    def release_leases(self, daemon_id: str) -> int:
        freed = self.conn.execute(
            attempts.update().where(attempts.c.locked_by == daemon_id,
                                    attempts.c.status == _RUNNING)
            .values(locked_by=None, lock_expires_at=None)
        ).rowcount
        self.conn.execute(daemons.delete().where(daemons.c.id == daemon_id))
        return int(freed)

    def break_all_leases(self) -> int:
        freed = self.conn.execute(
            attempts.update().where(attempts.c.locked_by.is_not(None),
                                    attempts.c.status == _RUNNING)
            .values(locked_by=None, lock_expires_at=None)
        ).rowcount
        self.conn.execute(daemons.delete())
        return int(freed)

    def list_daemons(self) -> list[DaemonRow]:
        rows = self.conn.execute(daemons.select().order_by(daemons.c.id))
        return [DaemonRow(id=r.id, host=r.host, pid=r.pid, started_at=r.started_at,
                          heartbeat_at=r.heartbeat_at) for r in rows]

    def list_leases(self) -> list[Lease]:
        rows = self.conn.execute(
            sa.select(*_LEASE_COLUMNS)
            .where(attempts.c.status == _RUNNING, attempts.c.locked_by.is_not(None))
            .order_by(attempts.c.id)
        )
        return [_lease(r) for r in rows]

    def _expiry(self, lease_seconds: float) -> sa.ColumnElement[int]:
        return self._now + round(lease_seconds * 1000)
