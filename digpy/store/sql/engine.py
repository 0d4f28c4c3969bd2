"""Opening a SQLAlchemy store: engines, SQLite settings and migrations.

SQLite rules (reliability.md §4.1): WAL on a local disk; ``synchronous=NORMAL`` (a commit
can be lost on power loss, never on a process crash); a busy timeout; and every write
transaction starts with ``BEGIN IMMEDIATE`` so a writer waits for the lock up front instead
of failing half-way with "database is locked". One process drives attempts per file: the
``RunLock`` (store.sql.local) next to the database refuses a second one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from digpy.store.base import Store, StoreLocked, Tx
from digpy.store.sql import schema
from digpy.store.sql.local import RunLock, local_state_path

__all__ = [
    "RunLock",
    "SqlStore",
    "create_sql_engine",
    "local_state_path",
    "migrate",
    "open_local_store",
    "open_store",
    "sqlite_url",
]

BUSY_TIMEOUT_SECONDS = 10.0


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def create_sql_engine(url: str) -> sa.Engine:
    """A SQLAlchemy engine with digpy's connection settings for the URL's database."""
    compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
            json_serializer=compact,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, json_serializer=compact, pool_pre_ping=True)


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver: Python's sqlite3 would otherwise open DEFERRED
        # transactions implicitly, which fail at once under contention.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("digpy_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


MIGRATION_LOCK_KEY = 0x64696770  # "digp": the advisory lock id digpy's migrations take


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to ``schema.HEAD``. Alembic is imported only when work is needed."""
    if _current_revision(engine) == schema.HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Daemons starting together on an empty database would each run the DDL; one
            # waits here until the other's migration commits, then finds the schema at head.
            # A transaction-level lock (not a session one) is released by COMMIT and is
            # safe behind a transaction-pooling PgBouncer.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                         {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
        conn.rollback()
        return str(row[0]) if row else None


class SqlStore(Store):
    """The SQL implementation of ``store.base.Store`` (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine, *, description: str) -> None:
        self._engine = engine
        self._description = description
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def description(self) -> str:
        return self._description

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @contextmanager
    def write(self) -> Iterator[Tx]:
        from digpy.store.sql.tx import SqlTx

        try:
            with self._engine.connect() as conn, conn.begin():
                yield SqlTx(conn)
        except sa.exc.OperationalError as exc:
            if self._sqlite and "locked" in str(exc.orig):
                raise StoreLocked(
                    f"{self._description} stayed locked by another process for more than "
                    f"{BUSY_TIMEOUT_SECONDS:g}s; try again when it is idle"
                ) from exc
            raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        from digpy.store.sql.tx import SqlTx

        with self._engine.connect() as conn:
            conn = conn.execution_options(digpy_begin="DEFERRED")
            with conn.begin():
                yield SqlTx(conn)

    def close(self) -> None:
        self._engine.dispose()


def open_store(url: str, *, run_migrations: bool = True) -> SqlStore:
    """Open (and by default migrate) the store at a SQLAlchemy URL."""
    engine = create_sql_engine(url)
    if run_migrations:
        migrate(engine)
    return SqlStore(engine, description=engine.url.render_as_string(hide_password=True))


def open_local_store(project_path: Path) -> SqlStore:
    """``<project>/.digpy/state.db`` through SQLAlchemy (``store.sql.local.open_local`` is
    the faster stdlib store ``digpy run`` uses; both read the same file)."""
    path = local_state_path(project_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    return SqlStore(engine, description=str(path))
