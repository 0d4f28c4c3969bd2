"""The local store on Python's own ``sqlite3``: the same schema and contract as the
SQLAlchemy store, without its import time or per-statement overhead, because ``digpy run``
must start and finish a one-task workflow in about a third of a second.

One connection, used by one thread at a time (a lock makes sure); autocommit at the driver
and explicit ``BEGIN IMMEDIATE`` for writes (reliability.md §4.1); WAL; a busy timeout.
A new file gets ``ddl.DDL`` and is stamped with ``schema.HEAD``; an older schema is
migrated by Alembic (the only time SQLAlchemy is imported on this path).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digpy.store.base import Store, StoreLocked, Tx
from digpy.store.sql.lite.ddl import DDL

HEAD = "0006"  # keep equal to schema.HEAD (a test checks); importing schema needs SQLAlchemy
BUSY_TIMEOUT_SECONDS = 10.0


class LiteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        from digpy.store.sql.lite.attempts import LiteAttemptRepo
        from digpy.store.sql.lite.projects import LiteProjectRepo
        from digpy.store.sql.lite.sessions import LiteSessionRepo
        from digpy.store.sql.lite.tasks import LiteTaskRepo

        self.projects = LiteProjectRepo(conn)
        self.sessions = LiteSessionRepo(conn)
        self.attempts = LiteAttemptRepo(conn)
        self.tasks = LiteTaskRepo(conn)


class LiteStore(Store):
    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._tx = LiteTx(self._conn)
        self._migrate()

    @property
    def description(self) -> str:
        return str(self.path)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._lock:
            self._begin("BEGIN IMMEDIATE")
            try:
                yield self._tx
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._lock:
            self._begin("BEGIN")
            try:
                yield self._tx
            finally:
                self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _begin(self, statement: str) -> None:
        try:
            self._conn.execute(statement)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise StoreLocked(
                    f"{self.path} stayed locked by another process for more than "
                    f"{self._busy_timeout:g}s; try again when it is idle"
                ) from exc
            raise

    def _migrate(self) -> None:
        with self.write():
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
            if not tables:
                # One statement at a time: executescript() would commit our transaction.
                for statement in DDL.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute("INSERT INTO alembic_version VALUES (?)", (HEAD,))
                return
            version = None
            if "alembic_version" in tables:
                row = self._conn.execute("SELECT version_num FROM alembic_version").fetchone()
                version = row[0] if row else None
        if version != HEAD:
            _alembic_upgrade(self.path)


def _alembic_upgrade(path: Path) -> None:
    from digpy.store.sql.engine import create_sql_engine, migrate, sqlite_url

    engine = create_sql_engine(sqlite_url(path))
    try:
        migrate(engine)
    finally:
        engine.dispose()

