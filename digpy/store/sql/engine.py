"""Opening a SQL store: engines, SQLite settings, migrations, and the run lock.

SQLite rules (reliability.md §4.1): WAL on a local disk; ``synchronous=NORMAL`` (a commit
can be lost on power loss, never on a process crash); a busy timeout; and every write
transaction starts with ``BEGIN IMMEDIATE`` so a writer waits for the lock up front instead
of failing half-way with "database is locked". One process drives attempts per file: the
``RunLock`` next to the database refuses a second one with a clear message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import event

from digpy.store.base import Store, StoreLocked, Tx
from digpy.store.sql import schema

BUSY_TIMEOUT_SECONDS = 10.0
LOCAL_STATE_DIR = ".digpy"
LOCAL_STATE_FILE = "state.db"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def local_state_path(project_path: Path) -> Path:
    """Where ``digpy run`` keeps a project's state: ``<project>/.digpy/state.db``."""
    return project_path / LOCAL_STATE_DIR / LOCAL_STATE_FILE


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


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to ``schema.HEAD``. Alembic is imported only when work is needed."""
    if _current_revision(engine) == schema.HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
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
    """Open ``<project>/.digpy/state.db``, creating the directory and schema if needed."""
    path = local_state_path(project_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    return SqlStore(engine, description=str(path))


class RunLock:
    """An exclusive lock file (``<database>.lock``) held while a process drives attempts.

    ``digpy kill`` and read-only commands do not take it: they only need short transactions.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """:raises StoreLocked: another live process holds the lock."""
        import fcntl

        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StoreLocked(
                f"{self.path.with_suffix('')} is in use by another digpy process (pid "
                f"{owner}); wait for that run to finish or stop it, then try again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
