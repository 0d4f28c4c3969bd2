"""The stdlib-sqlite3 store creates exactly the schema the migrations create, and the two
SQLite backends read each other's files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from digpy.store.base import StoreLocked
from digpy.store.sql import lite
from digpy.store.sql.engine import create_sql_engine, migrate, open_store, sqlite_url
from digpy.store.sql.lite import LiteStore
from digpy.store.sql.schema import HEAD, metadata

NOW = datetime(2016, 1, 30, tzinfo=UTC)


def test_the_lite_store_knows_the_schemas_head_revision() -> None:
    assert lite.HEAD == HEAD


def test_a_new_lite_store_has_exactly_the_migrated_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    LiteStore(tmp_path / "state.db").close()
    engine = create_sql_engine(sqlite_url(tmp_path / "state.db"))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        engine.dispose()
    assert diff == []
    assert version == HEAD


def test_a_file_written_by_one_sqlite_backend_is_read_by_the_other(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = LiteStore(path)
    with first.write() as tx:
        tx.projects.put_project("default", "/p", now=NOW)
    first.close()
    second = open_store(sqlite_url(path))
    try:
        with second.read() as tx:
            project = tx.projects.find_project("default")
    finally:
        second.close()
    assert project is not None and project.created_at == NOW


def test_an_alembic_created_file_opens_without_changes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    engine = create_sql_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    store = LiteStore(path)
    try:
        with store.write() as tx:
            assert tx.projects.put_project("default", "/p", now=NOW).id == 1
    finally:
        store.close()


def test_a_lite_writer_blocked_past_the_busy_timeout_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    holder = LiteStore(path)
    waiter = LiteStore(path, busy_timeout=0.05)
    try:
        locked = pytest.raises(StoreLocked, match="locked by another process")
        with holder.write(), locked, waiter.write():
            pass
    finally:
        holder.close()
        waiter.close()
